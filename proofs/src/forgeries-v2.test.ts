import { describe, expect, it } from "vitest";
import { sealSignatureOf } from "@custody/custody";
import { encodeEntry, eventEntry } from "@custody/ledger";
import { inclusionProof, leafHash } from "@custody/merkle";
import { toHex, encodeBase64 } from "@custody/encoding";
import { formatCheckpoint, generateSigner, parseCheckpoint, parseNote, signNote, verifierKeyOf } from "@custody/note";
import { generateSecret } from "@custody/signing";
import { verifyProof, type Check, type ProofInput } from "./checks.js";
import { attemptPath, buildFixtureV2, EVENT_ID, ORIGIN, signer, type FixtureV2, type FixtureV2Options } from "./document-v2.fixture.js";
import { formatCheck } from "./format.js";
import { getAt } from "./tamper.fixture.js";

/*
 * Every check of FORMAT §14, broken on purpose. Most forgeries are made by a forger who holds the
 * platform key (the fixture's options re-seal, re-record and re-log whatever they change), so that
 * everything else agrees and the one check that covers the change is the only one to fail; where a
 * change necessarily breaks more, the check that covers it must fail first.
 */
type Json = Record<string, any>;

const f = buildFixtureV2();
const enc = new TextEncoder();
const dec = new TextDecoder();

const inputOf = (fx: FixtureV2, document: unknown = fx.document): ProofInput => ({ document, payload: fx.thin.body, key: fx.keys, secret: fx.thin.secret, receiptKey: fx.thin.receiptKey });
const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);
const firstFailure = (checks: readonly Check[]) => checks.find((c) => !c.ok);

/** The default document with `edit` applied to a copy. */
function edited(edit: (d: Json) => void, fx: FixtureV2 = f): Json {
  const doc = structuredClone(fx.document) as Json;
  edit(doc);
  return doc;
}
const attempt = (d: Json, label: string): Json => getAt(d, attemptPath(d, label)) as Json;

/** Verifies and returns the failing check names, with the details of failures for the message. */
function verdict(input: ProofInput): { failing: string[]; why: string } {
  const checks = verifyProof(input);
  return {
    failing: failing(checks),
    why: checks
      .filter((c) => !c.ok)
      .map(formatCheck)
      .join("\n"),
  };
}

/** Expects exactly `only` to fail. */
function onlyFails(input: ProofInput, only: string): void {
  const { failing: names, why } = verdict(input);
  expect(names, why).toEqual([only]);
}

/** A fixture built by a forger with the platform key. */
const forged = (options: FixtureV2Options) => buildFixtureV2(options);

/** Replaces `from` by `to` in a record's JSON text (the forger's rewrite). */
const rewrite = (from: string, to: string) => (bytes: Uint8Array) => {
  const text = dec.decode(bytes);
  if (!text.includes(from)) throw new Error(`${from} not in ${text}`);
  return enc.encode(text.replace(from, to));
};
const onLabel = (want: string, change: (bytes: Uint8Array) => Uint8Array) => (label: string, bytes: Uint8Array) => (label === want ? change(bytes) : bytes);

/** A ledger entry of the fixture with its inclusion proof under the document's checkpoint. */
const proven = (fx: FixtureV2, index: number) => {
  const leaves = fx.ledger.entries.slice(0, fx.ledger.checkpointSize).map(leafHash);
  return { entry: encodeBase64(fx.ledger.entries[index]!), leafIndex: index, inclusion: inclusionProof(leaves, index).map(toHex) };
};

describe("all is well", () => {
  it("the default document passes all twelve checks", () => {
    expect(verdict(inputOf(f)).failing).toEqual([]);
    expect(verifyProof(inputOf(f))).toHaveLength(12);
  });
});

describe("1 checkpoint", () => {
  it("fails for a checkpoint signed by another key of the same name, or for another origin, or a seal note", () => {
    const impostor = generateSigner(ORIGIN);
    const cp = parseCheckpoint(parseNote((f.document as Json).checkpoint).text);
    const notes = [signNote(formatCheckpoint(cp), [impostor]), signNote(formatCheckpoint({ ...cp, origin: "custody.test/other" }), [signer]), attempt(f.document as Json, "dlv_thin#1").seal.note];
    for (const note of notes) {
      const checks = verifyProof(
        inputOf(
          f,
          edited((d) => (d.checkpoint = note)),
        ),
      );
      expect(firstFailure(checks)?.name).toBe("checkpoint");
    }
  });
});

describe("2 event", () => {
  it("fails alone for a wrong inclusion proof, an unsequenced event entry, or a recall entry of another kind", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => (d.event.ledger.inclusion[2] = "0".repeat(64))),
      ),
      "event",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => Object.assign(d.event.ledger, { leafIndex: null, inclusion: [] })),
      ),
      "event",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => (d.recall = proven(f, 0))),
      ),
      "event",
    );
  });

  it("fails first for an event entry of another event, or a document naming another event type", () => {
    const other = encodeEntry(eventEntry({ tenantId: "ten_fixture", eventId: "evt_other", type: "identity.registration.final", payloadSha256: new Uint8Array(32), occurredAt: new Date(0), supersedes: null }));
    const edits = [(d: Json) => (d.event.ledger.entry = encodeBase64(other)), (d: Json) => (d.event.type = "identity.registration.draft"), (d: Json) => (d.event.id = `${EVENT_ID}x`)];
    for (const edit of edits) expect(firstFailure(verifyProof(inputOf(f, edited(edit))))?.name).toBe("event");
  });
});

describe("3 prepared", () => {
  it("fails, and stops the list, for a payload no attempt sent", () => {
    const payload = Uint8Array.from(f.thin.body);
    payload[10]! ^= 1;
    expect(verifyProof({ ...inputOf(f), payload }).map((c) => `${c.ok ? "✓" : "✗"} ${c.name}`)).toEqual(["✓ checkpoint", "✓ event", "✗ prepared"]);
  });
});

describe("4 ingested", () => {
  it("fails alone for an attempt sealed over another event's leaf", () => {
    const fx = forged({ attempt: (label, a) => (label === "dlv_cb#1" ? { ...a, ingested: new Uint8Array(32).fill(9) } : a) });
    onlyFails(inputOf(fx), "ingested");
  });
});

describe("5 signed", () => {
  const SIGNED = ["idempotency-key", "webhook-id", "webhook-signature", "webhook-timestamp", "x-custody-delivery-id", "x-custody-event", "x-custody-signature", "x-custody-signature-key-id", "x-custody-timestamp"];

  it("fails first when any of the nine signed headers, or content-type, is changed or missing", () => {
    for (const name of [...SIGNED, "content-type"]) {
      for (const change of [(v: string) => `${v}0`, (v: string) => v.slice(1), () => undefined]) {
        const doc = edited((d) => {
          const headers = attempt(d, "dlv_fat#1").headers;
          const value = change(headers[name]);
          if (value === undefined) delete headers[name];
          else headers[name] = value;
        });
        const checks = verifyProof(inputOf(f, doc));
        expect(
          firstFailure(checks)?.name,
          `${name}: ${checks
            .filter((c) => !c.ok)
            .map(formatCheck)
            .join("\n")}`,
        ).toBe("signed");
      }
    }
  });

  it("fails alone for a content-type other than application/json", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_thin#2").headers["content-type"] = "text/plain")),
      ),
      "signed",
    );
  });

  it("fails alone for headers the platform signed consistently but with another event type or idempotency key", () => {
    onlyFails(inputOf(forged({ attempt: (label, a) => (label === "dlv_thin#3" ? { ...a, eventType: "identity.registration.draft" } : a) })), "signed");
    onlyFails(inputOf(forged({ attempt: (label, a) => (label === "dlv_fat#1" ? { ...a, idempotencyKey: "00000000-0000-4000-8000-000000000000" } : a) })), "signed");
  });

  it("fails alone for a record whose sealedAt is not the signed timestamp", () => {
    const fx = forged({ record: onLabel("dlv_thin#2", rewrite('"sealedAt":1772366560', '"sealedAt":1772366561')) });
    onlyFails(inputOf(fx), "signed");
    expect(verifyProof(inputOf(fx)).find((c) => !c.ok)!.detail).toMatch(/^dlv_thin#2: the webhook-timestamp header is "1772366560", expected "1772366561"$/);
  });
});

describe("6 root", () => {
  it("fails alone for a record whose root is not the MTH of its hops", () => {
    const fx = forged({ record: onLabel("dlv_replay#2", (bytes) => enc.encode(dec.decode(bytes).replace(/"root":"[0-9a-f]{64}"/, `"root":"${"ab".repeat(32)}"`))) });
    onlyFails({ ...inputOf(fx), payload: fx.fat.body, secret: fx.fat.secret, receiptKey: undefined } as ProofInput, "root");
  });
});

describe("7 custody record", () => {
  const record = (label: string, from: string, to: string) => inputOf(forged({ record: onLabel(label, rewrite(from, to)) }));

  it("fails alone for a non-canonical record, even one the platform sealed", () => {
    onlyFails(record("dlv_thin#2", '{"attempt":2,', '{ "attempt":2,'), "custody record");
    onlyFails(record("dlv_thin#2", '"v":2}', '"v":2,"extra":1}'), "custody record");
  });

  it("fails alone for a sealed record naming another delivery, event, tenant, target or attempt", () => {
    onlyFails(record("dlv_cb#1", '"delivery":"dlv_cb"', '"delivery":"dlv_fat"'), "custody record");
    onlyFails(record("dlv_cb#1", '"event":"evt_fixture1"', '"event":"evt_fixture2"'), "custody record");
    onlyFails(record("dlv_fat#1", '"tenant":"ten_fixture"', '"tenant":"ten_other"'), "custody record");
    onlyFails(record("dlv_cb#1", '"target":{"callback":true}', '"target":{"endpoint":"wh_thin"}'), "custody record");
    onlyFails(record("dlv_fat#1", '"target":{"endpoint":"wh_fat"}', '"target":{"callback":true}'), "custody record");
    onlyFails(record("dlv_thin#3", '"attempt":3,', '"attempt":4,'), "custody record");
  });

  it("fails first for a record from another attempt moved here with its headers and seal", () => {
    const doc = edited((d) => {
      const [a1, a2] = [attempt(d, "dlv_thin#1"), attempt(d, "dlv_thin#2")];
      for (const member of ["record", "headers", "seal"]) [a1[member], a2[member]] = [a2[member], a1[member]];
    });
    const { failing: names, why } = verdict(inputOf(f, doc));
    expect(names[0], why).toBe("custody record");
    expect(why).toMatch(/custody record — dlv_thin#1: custody record: attempt is 2, expected 1/);
  });

  it("fails at signed for a record from another attempt moved here alone: its signed hop names other headers", () => {
    const doc = edited((d) => {
      const moved = attempt(d, "dlv_thin#2").record;
      Object.assign(attempt(d, "dlv_thin#1"), { record: moved });
      attempt(d, "dlv_thin#1").headers["x-custody-record"] = moved;
    });
    expect(verdict(inputOf(f, doc)).failing[0]).toBe("signed");
  });

  it("fails alone when the custody headers do not state this record and its seal", () => {
    const other = (d: Json) => attempt(d, "dlv_fat#1").headers;
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_cb#1").headers["x-custody-record"] = other(d)["x-custody-record"])),
      ),
      "custody record",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_cb#1").headers["x-custody-seal"] = other(d)["x-custody-seal"])),
      ),
      "custody record",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_cb#1").headers["x-custody-seal"] = attempt(d, "dlv_cb#1").headers["x-custody-seal"].replace("signer=custody.test/log", "signer=custody.test/other"))),
      ),
      "custody record",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => delete attempt(d, "dlv_cb#1").headers["x-custody-record"]),
      ),
      "custody record",
    );
  });
});

describe("8 seal", () => {
  const sealEntry = (member: "keyId" | "size" | "batchRoot", value: string | number) => forged({ batchEntry: (batch, entry) => (batch === "C" ? { ...entry, [member]: value } : entry) });

  it("fails alone for a seal entry whose keyId, size or batchRoot disagrees with the note", () => {
    onlyFails(inputOf(sealEntry("keyId", "00000000")), "seal");
    onlyFails(inputOf(sealEntry("size", 2)), "seal");
    onlyFails(inputOf(sealEntry("batchRoot", "cd".repeat(32))), "seal");
    expect(verdict(inputOf(sealEntry("size", 2))).why).toMatch(/dlv_thin#3: seal entry: size 2 is not the seal note's size 1/);
  });

  it("fails alone for a seal entry with a member FORMAT §3 does not list, or one of the wrong form, though signed into the ledger", () => {
    const extended = forged({ batchEntry: (batch, entry) => (batch === "C" ? { ...entry, note: "x" } : entry) });
    onlyFails(inputOf(extended), "seal");
    expect(verdict(inputOf(extended)).why).toMatch(/dlv_thin#3: seal entry: member note is not one of this kind's members/);
    onlyFails(inputOf(sealEntry("keyId", "0000000")), "seal");
    expect(verdict(inputOf(sealEntry("keyId", "0000000"))).why).toMatch(/dlv_thin#3: seal entry: member keyId is not a key id/);
  });

  it("fails alone for a seal entry of the wrong kind, or not yet sequenced", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_fat#1").seal.entry = attempt(d, "dlv_fat#1").outcome.entry)),
      ),
      "seal",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => Object.assign(attempt(d, "dlv_fat#1").seal.entry, { leafIndex: null, inclusion: [] })),
      ),
      "seal",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_fat#1").seal.entry.leafIndex += 1)),
      ),
      "seal",
    );
  });

  it("fails alone for a path for the wrong index, the header stating the same wrong index", () => {
    const doc = edited((d) => {
      const a = attempt(d, "dlv_thin#1");
      a.seal.index += 1;
      a.headers["x-custody-seal"] = a.headers["x-custody-seal"].replace(";index=1;", ";index=2;");
    });
    onlyFails(inputOf(f, doc), "seal");
    expect(verdict(inputOf(f, doc)).why).toMatch(/the custody record's leaf is not included at index 2 under the seal note's root/);
  });

  /** dlv_thin#3's batch of one, re-signed by the forger as `text`, with the header following the note. */
  const resigned = (text: (size: number, rootHash: Uint8Array) => string) =>
    edited((d) => {
      const a = attempt(d, "dlv_thin#3");
      const cp = parseCheckpoint(parseNote(a.seal.note).text);
      a.seal.note = signNote(text(cp.size, cp.rootHash), [signer]);
      a.headers["x-custody-seal"] = a.headers["x-custody-seal"].replace(/sig=.*$/, `sig=${sealSignatureOf(a.seal.note, ORIGIN)}`);
    });

  it("fails alone for a note that could pass for a ledger checkpoint, or that has extension lines", () => {
    onlyFails(
      inputOf(
        f,
        resigned((size, rootHash) => formatCheckpoint({ origin: ORIGIN, size, rootHash })),
      ),
      "seal",
    );
    onlyFails(
      inputOf(
        f,
        resigned((size, rootHash) => formatCheckpoint({ origin: `${ORIGIN}/seal`, size, rootHash, extensions: ["note"] })),
      ),
      "seal",
    );
    // The control: the same re-signing of the genuine text passes.
    expect(
      verdict(
        inputOf(
          f,
          resigned((size, rootHash) => formatCheckpoint({ origin: `${ORIGIN}/seal`, size, rootHash })),
        ),
      ).failing,
    ).toEqual([]);
  });

  it("fails alone for a note signed by a key that was not given", () => {
    const other = generateSigner(ORIGIN);
    const fx = forged({ sealSigner: (batch) => (batch === "B" ? other : signer) });
    onlyFails(inputOf(fx), "seal");
    expect(verdict({ ...inputOf(fx), key: [...fx.keys, verifierKeyOf(other)] }).failing).toEqual([]);
  });
});

describe("9 chain", () => {
  it("fails alone when a middle attempt is omitted", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => d.deliveries[0].attempts.splice(1, 1)),
      ),
      "chain",
    );
    expect(
      verdict(
        inputOf(
          f,
          edited((d) => d.deliveries[0].attempts.splice(1, 1)),
        ),
      ).why,
    ).toMatch(/chain — dlv_thin: the attempts are listed as 1, 3, not 1 to 2 in order/);
  });

  it("fails alone when attempts are listed out of order", () => {
    const swapped = edited((d) => d.deliveries[0].attempts.reverse());
    onlyFails(inputOf(f, swapped), "chain");
    onlyFails(
      {
        ...inputOf(
          f,
          edited((d) => d.deliveries[4].attempts.reverse()),
        ),
        payload: f.fat.body,
        secret: f.fat.secret,
        receiptKey: undefined,
      } as ProofInput,
      "chain",
    );
  });

  it("fails alone when an outcome in the middle is missing", () => {
    const doc = edited((d) => (attempt(d, "dlv_thin#2").outcome = null));
    onlyFails(inputOf(f, doc), "chain");
    expect(verdict(inputOf(f, doc)).why).toMatch(/dlv_thin: attempt 2 has no outcome, yet attempt 3 follows it/);
  });

  it("fails alone for an attempt after a delivered one, even with every link in place", () => {
    const fx = forged({ thinOutcomes: ["retry", "delivered", "delivered"] });
    onlyFails(inputOf(fx), "chain");
    expect(verdict(inputOf(fx)).why).toMatch(/dlv_thin: attempt 3 follows attempt 2, which was delivered/);
    // After `dead`, someone may ask for another attempt.
    expect(verdict(inputOf(forged({ thinOutcomes: ["retry", "dead", "delivered"] }))).failing).toEqual([]);
  });

  it("fails alone for a previous that is not the leaf hash of the previous attempt's outcome", () => {
    let first: string | null = null;
    const fx = forged({
      previous: (label, p) => {
        if (label === "dlv_thin#2") first = p;
        return label === "dlv_thin#3" ? first : p;
      },
    });
    onlyFails(inputOf(fx), "chain");
  });

  it("fails (with the record) for an attempt 1 that names a previous", () => {
    const fx = forged({ record: onLabel("dlv_cb#1", rewrite('"previous":null', `"previous":"${"ef".repeat(32)}"`)) });
    expect(verdict(inputOf(fx)).failing).toEqual(["custody record", "chain"]);
  });

  it("accepts a document that shows a prefix of the attempts: a later one extends it", () => {
    expect(
      verdict(
        inputOf(
          f,
          edited((d) => d.deliveries[0].attempts.pop()),
        ),
      ).failing,
    ).toEqual([]);
  });
});

describe("10 outcome", () => {
  it("fails alone for an outcomes entry of the wrong kind", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_thin#1").outcome.entry = attempt(d, "dlv_thin#1").seal.entry)),
      ),
      "outcome",
    );
  });

  it("fails alone for a non-canonical outcome record, or one about another attempt, delivery or root", () => {
    const outcome = (label: string, from: string, to: string) => inputOf(forged({ outcomeRecord: onLabel(label, rewrite(from, to)) }));
    onlyFails(outcome("dlv_thin#3", '"v":2}', '"v":2 }'), "outcome");
    onlyFails(outcome("dlv_thin#3", '"attempt":3,', '"attempt":2,'), "outcome");
    onlyFails(outcome("dlv_cb#1", '"delivery":"dlv_cb"', '"delivery":"dlv_fat"'), "outcome");
    onlyFails(outcome("dlv_fat#1", '"root":"', `"root":"${"00".repeat(32)}`), "outcome");
    onlyFails(outcome("dlv_fat#1", '"tenant":"ten_fixture"', '"tenant":"ten_other"'), "outcome");
  });

  it("fails first at chain when an outcome with a successor is replaced: the successor commits to the original", () => {
    const fx = forged({ outcomeRecord: onLabel("dlv_thin#1", rewrite('"status":500', '"status":502')) });
    // Rewritten before attempt 2 was sealed, it is simply another history, and consistent.
    expect(verdict(inputOf(fx)).failing).toEqual([]);
    // Swapped in afterwards, it is not the outcome attempt 2 was sealed after.
    const doc = edited((d) => (attempt(d, "dlv_thin#1").outcome = attempt(fx.document as Json, "dlv_thin#1").outcome));
    expect(verdict(inputOf(f, doc)).failing).toEqual(["chain", "outcome"]);
    expect(verdict(inputOf(f, doc)).why).toMatch(/chain — dlv_thin: attempt 2's previous is [0-9a-f]{64}, not [0-9a-f]{64}, the leaf hash of attempt 1's outcome record/);
  });

  it("fails alone for a path for the wrong index, an unsequenced outcomes entry, or an entry of another size", () => {
    onlyFails(
      inputOf(
        f,
        edited((d) => (attempt(d, "dlv_thin#3").outcome.index = 0)),
      ),
      "outcome",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => attempt(d, "dlv_thin#3").outcome.path.pop()),
      ),
      "outcome",
    );
    onlyFails(
      inputOf(
        f,
        edited((d) => Object.assign(attempt(d, "dlv_thin#3").outcome.entry, { leafIndex: null, inclusion: [] })),
      ),
      "outcome",
    );
    onlyFails(inputOf(forged({ batchEntry: (batch, entry) => (batch === "Z" ? { ...entry, size: 3 } : entry) })), "outcome");
  });
});

describe("11 hmac and 12 receipt", () => {
  it("fail alone for another secret or receipt key", () => {
    onlyFails({ ...inputOf(f), secret: generateSecret() }, "hmac");
    onlyFails({ ...inputOf(f), receiptKey: verifierKeyOf(generateSigner(ORIGIN)).publicKey }, "receipt");
    onlyFails(
      inputOf(
        f,
        edited((d) => Object.assign(d.deliveries[0].receipt, { leafIndex: null, inclusion: [] })),
      ),
      "receipt",
    );
  });
});

import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@custody/encoding";
import { verifyProof } from "./checks.js";
import { buildFixture } from "./document.fixture.js";
import { editAll, firstFailure, payloadFlipsNotFailingPrepared, flipAll, getAt, type Json, type Target } from "./tamper.fixture.js";

// Hundreds of full verifications each (an Ed25519 signature check per note): generous timeouts for a
// loaded CI machine.
const SLOW = 180_000;

/*
 * Every byte of the delivery side of a document — the payload, the hops, the root, the seal note
 * (text and signature) and path, and the headers — is bound to a check: flipping one byte must fail
 * exactly the check that covers it, and fail it first.
 */
const f = buildFixture();
const doc = f.document as Json;
const attempts = (doc.deliveries as Json[]).flatMap((d, i) => (d.attempts as Json[]).map((_, j) => ["deliveries", i, "attempts", j] as Array<string | number>));

/** Which check a header covers: the six signed ones the signed hop, the custody ones root/seal. */
const HEADER_CHECK: Record<string, Target["expect"]> = {
  "webhook-id": "signed",
  "webhook-signature": "signed",
  "webhook-timestamp": "signed",
  "x-custody-signature": "signed",
  "x-custody-signature-key-id": "signed",
  "x-custody-timestamp": "signed",
  "content-type": "signed",
  "x-custody-event": "signed",
  "idempotency-key": "signed",
  "x-custody-hops": "root",
  "x-custody-root": "root",
  "x-custody-seal": "seal",
};

describe("flipping one byte of the delivery evidence", () => {
  it(
    "any byte of the payload fails prepared (every position)",
    () => {
      for (const body of [f.thin.body, f.fat.body]) {
        expect(payloadFlipsNotFailingPrepared(doc, body, f.keys)).toEqual([]);
        expect(body.length).toBeGreaterThan(200);
      }
      // Truncated or extended by one byte.
      for (const payload of [f.thin.body.subarray(1), f.thin.body.subarray(0, -1), new Uint8Array([...f.thin.body, 0x20])]) {
        expect(firstFailure(verifyProof({ document: doc, payload, key: f.keys }))?.name).toBe("prepared");
      }
    },
    SLOW,
  );

  it(
    "the hops and the root of every attempt fail ingested, root or signed",
    () => {
      const digest = toHex(sha256(f.thin.body));
      const matching = attempts.filter((a) => (getAt(doc, [...a, "hops", "prepared"]) as string) === digest);
      const targets = attempts.flatMap((a): Target[] => [
        { path: [...a, "hops", "ingested"], kind: "hex", expect: "ingested", stride: 2 },
        { path: [...a, "hops", "redacted"], kind: "hex", expect: "root", stride: 2 },
        // Attempts of a delivery share their body: breaking one's prepared hop leaves the other
        // matching, and that attempt's root no longer adds up.
        { path: [...a, "hops", "prepared"], kind: "hex", expect: matching.length === 1 && matching[0] === a ? "prepared" : "root", stride: 2 },
        { path: [...a, "hops", "signed"], kind: "hex", expect: "signed", stride: 2 },
        { path: [...a, "root"], kind: "hex", expect: "root", stride: 2 },
      ]);
      const { wrong, flips } = flipAll({ document: doc, payload: f.thin.body, key: f.keys }, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(200);
      // The only matching attempt's prepared hop: nothing matches any more.
      const fatAttempt = ["deliveries", 1, "attempts", 0];
      const fat = flipAll({ document: doc, payload: f.fat.body, key: f.keys }, [{ path: [...fatAttempt, "hops", "prepared"], kind: "hex", expect: "prepared", stride: 4 }]);
      expect(fat.wrong).toEqual([]);
    },
    SLOW,
  );

  it(
    "the seal note (text and signature) and the seal path fail seal",
    () => {
      const targets = attempts.flatMap((a, n): Target[] => [
        { path: [...a, "seal", "note"], kind: "text", expect: "seal", stride: n === 0 ? 3 : 9 },
        ...(getAt(doc, [...a, "seal", "path"]) as string[]).map((_, k) => ({ path: [...a, "seal", "path", k], kind: "hex" as const, expect: "seal" as const, stride: 2 })),
      ]);
      const { wrong, flips } = flipAll({ document: doc, payload: f.thin.body, key: f.keys }, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(150);
    },
    SLOW,
  );

  it(
    "every header value fails the check that covers it",
    () => {
      const targets = attempts.flatMap((a, n) =>
        Object.keys(getAt(doc, [...a, "headers"]) as Json).map((name): Target => {
          const expect = HEADER_CHECK[name];
          if (expect === undefined) throw new Error(`no check listed for header ${name}`);
          return { path: [...a, "headers", name], kind: "text", expect, stride: n === 0 ? 5 : 17 };
        }),
      );
      expect(new Set(targets.map((t) => t.path.at(-1)))).toEqual(new Set(Object.keys(HEADER_CHECK)));
      const { wrong, flips } = flipAll({ document: doc, payload: f.thin.body, key: f.keys }, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(150);
    },
    SLOW,
  );

  it(
    "moving, removing or relabelling parts of an attempt fails the right check",
    () => {
      const a0 = ["deliveries", 0, "attempts", 0];
      const at = (d: Json, path: Array<string | number>) => getAt(d, path) as Json;
      const edits = [
        { what: "seal index + 1", edit: (d: Json) => at(d, a0).seal.index++, expect: "seal" as const },
        { what: "seal index - 1", edit: (d: Json) => at(d, a0).seal.index--, expect: "seal" as const },
        { what: "seal path + hash", edit: (d: Json) => at(d, a0).seal.path.push("0".repeat(64)), expect: "seal" as const },
        { what: "seal path - hash", edit: (d: Json) => at(d, a0).seal.path.pop(), expect: "seal" as const },
        { what: "seal note of another batch", edit: (d: Json) => (at(d, a0).seal.note = d.deliveries[0].attempts[1].seal.note), expect: "seal" as const },
        { what: "seal note without its signature line", edit: (d: Json) => (at(d, a0).seal.note = (at(d, a0).seal.note as string).replace(/\n— [^\n]*\n$/, "\n")), expect: "seal" as const },
        { what: "hops swapped", edit: (d: Json) => ([at(d, a0).hops.redacted, at(d, a0).hops.signed] = [at(d, a0).hops.signed, at(d, a0).hops.redacted]), expect: "signed" as const },
        { what: "attempt renumbered", edit: (d: Json) => (at(d, a0).attempt = 3), expect: "custody entry" as const },
        { what: "delivery renamed", edit: (d: Json) => (d.deliveries[1].id = "dlv_other"), expect: "custody entry" as const },
        { what: "delivery retargeted", edit: (d: Json) => (d.deliveries[1].target = { endpoint: "wh_thin" }), expect: "custody entry" as const },
        { what: "delivery made a callback", edit: (d: Json) => (d.deliveries[1].target = { callback: true }), expect: "custody entry" as const },
        { what: "signature header dropped", edit: (d: Json) => delete at(d, a0).headers["webhook-signature"], expect: "signed" as const },
        { what: "signature header value padded", edit: (d: Json) => (at(d, a0).headers["x-custody-signature-key-id"] += " "), expect: "signed" as const },
        { what: "header duplicated in another case", edit: (d: Json) => (at(d, a0).headers["WEBHOOK-ID"] = at(d, a0).headers["webhook-id"]), expect: "signed" as const },
        // Its idempotency-key header names the delivery it came from.
        { what: "attempt moved to another delivery", edit: (d: Json) => d.deliveries[1].attempts.push(d.deliveries[0].attempts.pop()), expect: "signed" as const },
        {
          what: "attempt moved, idempotency key header adjusted",
          edit: (d: Json) => {
            const moved = d.deliveries[0].attempts.pop();
            moved.headers["idempotency-key"] = d.deliveries[1].idempotencyKey;
            d.deliveries[1].attempts.push(moved);
          },
          expect: "custody entry" as const,
        },
      ];
      expect(editAll({ document: doc, payload: f.thin.body, key: f.keys }, edits)).toEqual([]);
    },
    SLOW,
  );
});

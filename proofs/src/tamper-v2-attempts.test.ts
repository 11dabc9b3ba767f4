import { describe, expect, it } from "vitest";
import { parseCheckpoint, parseNote } from "@custody/note";
import type { CheckName } from "./checks.js";
import { attemptPath, buildFixtureV2, ORIGIN } from "./document-v2.fixture.js";
import { signatureBlob } from "./notes.js";
import { flipAll, payloadFlipsNotFailingPrepared, getAt, type Json, type Target } from "./tamper.fixture.js";

// Hundreds of full verifications each (an Ed25519 signature check per note): generous timeouts for a
// loaded CI machine.
const SLOW = 180_000;

/*
 * Every byte of the delivery side of a format 2 document — the payload, each custody record, the
 * seal notes, indexes and paths, the headers and the outcome records — is bound to a check:
 * flipping one byte must fail the check that FORMAT §14 says covers it, and fail it first. Where a
 * byte is read by several checks (a record member is read by the first check that needs it, and
 * the whole record by `custody record`), the expected check is the first in §14 order whose input
 * the flip changed; the oracles below say which, from the flipped bytes alone.
 */
const f = buildFixtureV2();
const doc = f.document as Json;
const input = { document: doc, payload: f.thin.body, key: f.keys };
const LABELS = ["dlv_thin#1", "dlv_thin#2", "dlv_thin#3", "dlv_fat#1", "dlv_cb#1", "dlv_replay#1", "dlv_replay#2"];
const path = (label: string) => attemptPath(doc, label);
/** Attempts whose outcome the next attempt's `previous` commits to. */
const FOLLOWED = new Set(["dlv_thin#1", "dlv_thin#2", "dlv_replay#1"]);

const utf8 = new TextDecoder("utf-8", { fatal: true });

function jsonOf(base64: string): Record<string, any> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(base64, "base64")));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A flipped custody record: `ingested` reads hops.ingested, `signed` hops.signed and sealedAt,
 * `root` every hop and the root; anything else changed is `custody record` (the record is no longer
 * the one x-custody-record states). Bytes that no longer parse fail the first reader, `ingested`
 * (the payload is the thin body, which three other attempts still match, so `prepared` passes).
 */
function recordOracle(original: string): (flipped: string) => CheckName {
  const before = jsonOf(original)!;
  return (flipped) => {
    const after = jsonOf(flipped);
    if (after === undefined) return "ingested";
    const hop = (r: Record<string, any>, name: string) => (r.hops !== null && typeof r.hops === "object" ? r.hops[name] : undefined);
    const changed = (name: string) => hop(after, name) !== hop(before, name);
    if (changed("ingested")) return "ingested";
    if (changed("signed") || after.sealedAt !== before.sealedAt) return "signed";
    if (changed("redacted") || changed("prepared") || after.root !== before.root) return "root";
    return "custody record";
  };
}

/**
 * A flipped seal note: x-custody-seal states the note's size and one of its signature lines
 * (check 7, `custody record`), so a flip that changes those, or leaves no note to read them from,
 * fails there; any other flip leaves a note that does not verify (`seal`).
 */
function noteOracle(original: string, header: string): (flipped: string) => CheckName {
  const size = parseCheckpoint(parseNote(original).text).size;
  const sig = header.slice(header.indexOf(";sig=") + 5);
  return (flipped) => {
    try {
      const note = parseNote(flipped);
      const stated = parseCheckpoint(note.text).size === size && note.signatures.some((s) => s.name === ORIGIN && signatureBlob(s) === sig);
      return stated ? "seal" : "custody record";
    } catch {
      return "custody record";
    }
  };
}

const SIGNED_HEADERS = [
  "idempotency-key",
  "webhook-id",
  "webhook-signature",
  "webhook-timestamp",
  "x-custody-delivery-id",
  "x-custody-event",
  "x-custody-signature",
  "x-custody-signature-key-id",
  "x-custody-timestamp",
  "content-type",
];
const HEADER_CHECK: Record<string, CheckName> = { ...Object.fromEntries(SIGNED_HEADERS.map((h) => [h, "signed"])), "x-custody-record": "custody record", "x-custody-seal": "custody record" };

describe("flipping one byte of a format 2 document's delivery evidence", () => {
  it(
    "any byte of the payload fails prepared (every position)",
    () => {
      for (const body of [f.thin.body, f.fat.body]) {
        expect(payloadFlipsNotFailingPrepared(doc, body, f.keys)).toEqual([]);
      }
    },
    SLOW,
  );

  it(
    "every byte of a custody record fails the first check that reads it",
    () => {
      const targets = LABELS.map((label): Target => {
        const original = getAt(doc, [...path(label), "record"]) as string;
        // One record byte by byte, the others at a stride.
        return { path: [...path(label), "record"], kind: "base64", expect: recordOracle(original), stride: label === "dlv_thin#2" ? 1 : 5 };
      });
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(1200);
    },
    SLOW,
  );

  it(
    "the seal notes, indexes and paths fail seal or, where the custody headers state them, custody record",
    () => {
      const targets = LABELS.flatMap((label, n): Target[] => {
        const a = getAt(doc, path(label)) as Json;
        return [
          { path: [...path(label), "seal", "note"], kind: "text", expect: noteOracle(a.seal.note, a.headers["x-custody-seal"]), stride: n === 0 ? 1 : 7 },
          ...(a.seal.path as string[]).map((_, k): Target => ({ path: [...path(label), "seal", "path", k], kind: "hex", expect: "custody record", stride: 3 })),
        ];
      });
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(300);
    },
    SLOW,
  );

  it(
    "every header value fails the check that covers it",
    () => {
      const targets = LABELS.flatMap((label, n) =>
        Object.keys(getAt(doc, [...path(label), "headers"]) as Json).map((name): Target => {
          const expected = HEADER_CHECK[name];
          if (expected === undefined) throw new Error(`no check listed for header ${name}`);
          return { path: [...path(label), "headers", name], kind: "text", expect: expected, stride: n === 0 ? 2 : 11 };
        }),
      );
      expect(new Set(targets.map((t) => t.path.at(-1)))).toEqual(new Set(Object.keys(HEADER_CHECK)));
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(500);
    },
    SLOW,
  );

  it(
    "every byte of an outcome record fails chain when a later attempt commits to it, outcome otherwise",
    () => {
      const targets = LABELS.filter((label) => (getAt(doc, path(label)) as Json).outcome !== null).map(
        (label): Target => ({ path: [...path(label), "outcome", "record"], kind: "base64", expect: FOLLOWED.has(label) ? "chain" : "outcome", stride: label === "dlv_thin#1" || label === "dlv_thin#3" ? 1 : 7 }),
      );
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(700);
    },
    SLOW,
  );

  it(
    "the outcome indexes and paths fail outcome",
    () => {
      const targets = LABELS.filter((label) => (getAt(doc, path(label)) as Json).outcome !== null).flatMap((label) =>
        ((getAt(doc, [...path(label), "outcome", "path"]) as string[]) ?? []).map((_, k): Target => ({ path: [...path(label), "outcome", "path", k], kind: "hex", expect: "outcome", stride: 3 })),
      );
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(50);
    },
    SLOW,
  );
});

import { describe, expect, it } from "vitest";
import { buildFixture } from "./document.fixture.js";
import { editAll, flipAll, getAt, type Json, type Target } from "./tamper.fixture.js";

// Hundreds of full verifications each (an Ed25519 signature check per note): generous timeouts for a
// loaded CI machine.
const SLOW = 180_000;

/*
 * Every byte the ledger side of a document carries — the checkpoint, the event entry, the custody,
 * outcome and receipt entries and every inclusion-proof hash — is bound to a check: flipping one
 * byte must fail exactly the check that covers it, and fail it first.
 */
const f = buildFixture();
const doc = f.document as Json;
const input = { document: doc, payload: f.thin.body, key: f.keys, receiptKey: f.thin.receiptKey };

/** Each hash of the proof at `path`, every third byte. */
const hashes = (path: Array<string | number>, expect: Target["expect"]): Target[] => (getAt(doc, path) as string[]).map((_, k) => ({ path: [...path, k], kind: "hex" as const, expect, stride: 3 }));

const attempts = (doc.deliveries as Json[]).flatMap((d, i) => (d.attempts as Json[]).map((_, j) => ["deliveries", i, "attempts", j] as Array<string | number>));

describe("flipping one byte of the ledger evidence", () => {
  it(
    "the checkpoint note and the origin fail checkpoint",
    () => {
      const { wrong, flips } = flipAll(input, [
        { path: ["checkpoint"], kind: "text", expect: "checkpoint", stride: 4 },
        { path: ["origin"], kind: "text", expect: "checkpoint", stride: 1 },
      ]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(60);
    },
    SLOW,
  );

  it(
    "the event entry, its inclusion proof, id and type fail event",
    () => {
      const { wrong, flips } = flipAll(input, [
        { path: ["event", "ledger", "entry"], kind: "base64", expect: "event", stride: 7 },
        { path: ["event", "id"], kind: "text", expect: "event", stride: 3 },
        { path: ["event", "type"], kind: "text", expect: "event", stride: 5 },
        ...hashes(["event", "ledger", "inclusion"], "event"),
      ]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(80);
    },
    SLOW,
  );

  it(
    "every custody entry and its inclusion proof fail custody entry",
    () => {
      const targets = attempts.flatMap((a): Target[] => [{ path: [...a, "custody", "entry"], kind: "base64", expect: "custody entry", stride: 13 }, ...hashes([...a, "custody", "inclusion"], "custody entry")]);
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(150);
    },
    SLOW,
  );

  it(
    "every outcome entry and its inclusion proof fail outcome",
    () => {
      const targets = attempts.flatMap((a): Target[] => [{ path: [...a, "outcome", "entry"], kind: "base64", expect: "outcome", stride: 11 }, ...hashes([...a, "outcome", "inclusion"], "outcome")]);
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(100);
    },
    SLOW,
  );

  it(
    "the receipt entry and its inclusion proof fail receipt",
    () => {
      const { wrong, flips } = flipAll(input, [{ path: ["deliveries", 0, "receipt", "entry"], kind: "base64", expect: "receipt", stride: 7 }, ...hashes(["deliveries", 0, "receipt", "inclusion"], "receipt")]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(60);
    },
    SLOW,
  );

  it(
    "moving an entry's leaf index, or claiming it is not yet sequenced, fails its check",
    () => {
      const shift = (path: Array<string | number>, by: number | null) => (d: Json) => {
        let cur: any = d;
        for (const key of path.slice(0, -1)) cur = cur[key];
        const last = path[path.length - 1]!;
        cur[last] = by === null ? null : cur[last] + by;
        if (by === null) cur.inclusion = [];
      };
      const edits = [
        ...[1, -1, null].map((by) => ({ what: `event leafIndex ${by}`, edit: shift(["event", "ledger", "leafIndex"], by), expect: "event" as const })),
        ...attempts.flatMap((a) =>
          [1, -1, null].flatMap((by) => [
            { what: `${a.join(".")} custody leafIndex ${by}`, edit: shift([...a, "custody", "leafIndex"], by), expect: "custody entry" as const },
            { what: `${a.join(".")} outcome leafIndex ${by}`, edit: shift([...a, "outcome", "leafIndex"], by), expect: "outcome" as const },
          ]),
        ),
        ...[1, -1, null].map((by) => ({ what: `receipt leafIndex ${by}`, edit: shift(["deliveries", 0, "receipt", "leafIndex"], by), expect: "receipt" as const })),
        // An inclusion proof with a hash too many or too few.
        { what: "event inclusion + hash", edit: (d: Json) => d.event.ledger.inclusion.push("0".repeat(64)), expect: "event" as const },
        { what: "event inclusion - hash", edit: (d: Json) => d.event.ledger.inclusion.pop(), expect: "event" as const },
        // Entries swapped between attempts: each is genuine and included, but about another attempt.
        {
          what: "custody entries swapped",
          edit: (d: Json) => ([d.deliveries[0].attempts[0].custody, d.deliveries[0].attempts[1].custody] = [d.deliveries[0].attempts[1].custody, d.deliveries[0].attempts[0].custody]),
          expect: "custody entry" as const,
        },
        {
          what: "outcome entries swapped",
          edit: (d: Json) => ([d.deliveries[0].attempts[0].outcome, d.deliveries[0].attempts[1].outcome] = [d.deliveries[0].attempts[1].outcome, d.deliveries[0].attempts[0].outcome]),
          expect: "outcome" as const,
        },
        { what: "event entry replaced by a custody entry", edit: (d: Json) => (d.event.ledger = d.deliveries[0].attempts[0].custody), expect: "event" as const },
        { what: "receipt moved to the fat delivery", edit: (d: Json) => ([d.deliveries[1].receipt, d.deliveries[0].receipt] = [d.deliveries[0].receipt, null]), expect: "receipt" as const },
      ];
      expect(editAll(input, edits)).toEqual([]);
      // The receipt moved to another delivery must not verify for that delivery's payload either.
      expect(editAll({ ...input, payload: f.fat.body }, [{ what: "receipt moved, fat payload", edit: (d) => (d.deliveries[1].receipt = d.deliveries[0].receipt), expect: "receipt" }])).toEqual([]);
    },
    SLOW,
  );
});

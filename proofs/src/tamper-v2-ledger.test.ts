import { describe, expect, it } from "vitest";
import { attemptPath, buildFixtureV2 } from "./document-v2.fixture.js";
import { editAll, flipAll, getAt, type Json, type Target } from "./tamper.fixture.js";

// Hundreds of full verifications each (an Ed25519 signature check per note): generous timeouts for a
// loaded CI machine.
const SLOW = 180_000;

/*
 * Every byte the ledger side of a format 2 document carries — the checkpoint, the event and recall
 * entries, every seal, outcomes and receipt entry, and every inclusion-proof hash — is bound to a
 * check: flipping one byte must fail exactly the check that covers it (FORMAT §14), and fail it
 * first.
 */
const f = buildFixtureV2();
const doc = f.document as Json;
const input = { document: doc, payload: f.thin.body, key: f.keys, receiptKey: f.thin.receiptKey };
const LABELS = ["dlv_thin#1", "dlv_thin#2", "dlv_thin#3", "dlv_fat#1", "dlv_cb#1", "dlv_replay#1", "dlv_replay#2"];
const path = (label: string) => attemptPath(doc, label);
const withOutcome = LABELS.filter((label) => (getAt(doc, path(label)) as Json).outcome !== null);

/** Each hash of the proof at `at`, every third byte. */
const hashes = (at: Array<string | number>, expect: Target["expect"]): Target[] => (getAt(doc, at) as string[]).map((_, k) => ({ path: [...at, k], kind: "hex" as const, expect, stride: 3 }));

describe("flipping one byte of a format 2 document's ledger evidence", () => {
  it(
    "the checkpoint note and the origin fail checkpoint",
    () => {
      const { wrong, flips } = flipAll(input, [
        { path: ["checkpoint"], kind: "text", expect: "checkpoint", stride: 3 },
        { path: ["origin"], kind: "text", expect: "checkpoint", stride: 1 },
      ]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(60);
    },
    SLOW,
  );

  it(
    "the event entry, the recall entry, their inclusion proofs, the event id and type fail event",
    () => {
      const { wrong, flips } = flipAll(input, [
        { path: ["event", "ledger", "entry"], kind: "base64", expect: "event", stride: 3 },
        { path: ["event", "id"], kind: "text", expect: "event", stride: 1 },
        { path: ["event", "type"], kind: "text", expect: "event", stride: 2 },
        ...hashes(["event", "ledger", "inclusion"], "event"),
        { path: ["recall", "entry"], kind: "base64", expect: "event", stride: 5 },
        ...hashes(["recall", "inclusion"], "event"),
      ]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(200);
    },
    SLOW,
  );

  it(
    "every seal entry and its inclusion proof fail seal",
    () => {
      const targets = LABELS.flatMap((label, n): Target[] => [
        { path: [...path(label), "seal", "entry", "entry"], kind: "base64", expect: "seal", stride: n === 0 ? 1 : 9 },
        ...hashes([...path(label), "seal", "entry", "inclusion"], "seal"),
      ]);
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(300);
    },
    SLOW,
  );

  it(
    "every outcomes entry and its inclusion proof fail outcome",
    () => {
      const targets = withOutcome.flatMap((label, n): Target[] => [
        { path: [...path(label), "outcome", "entry", "entry"], kind: "base64", expect: "outcome", stride: n === 0 ? 1 : 9 },
        ...hashes([...path(label), "outcome", "entry", "inclusion"], "outcome"),
      ]);
      const { wrong, flips } = flipAll(input, targets);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(250);
    },
    SLOW,
  );

  it(
    "the receipt entry and its inclusion proof fail receipt",
    () => {
      const { wrong, flips } = flipAll(input, [{ path: ["deliveries", 0, "receipt", "entry"], kind: "base64", expect: "receipt", stride: 5 }, ...hashes(["deliveries", 0, "receipt", "inclusion"], "receipt")]);
      expect(wrong).toEqual([]);
      expect(flips).toBeGreaterThan(80);
    },
    SLOW,
  );

  it(
    "moving an entry's leaf index, or claiming it is not yet sequenced, fails its check",
    () => {
      const shift = (at: Array<string | number>, by: number | null) => (d: Json) => {
        const proven = getAt(d, at) as Json;
        proven.leafIndex = by === null ? null : proven.leafIndex + by;
        if (by === null) proven.inclusion = [];
      };
      const edits = [
        ...[1, -1, null].map((by) => ({ what: `event leafIndex ${by}`, edit: shift(["event", "ledger"], by), expect: "event" as const })),
        ...[1, -1, null].map((by) => ({ what: `recall leafIndex ${by}`, edit: shift(["recall"], by), expect: "event" as const })),
        ...[1, -1, null].map((by) => ({ what: `receipt leafIndex ${by}`, edit: shift(["deliveries", 0, "receipt"], by), expect: "receipt" as const })),
        ...LABELS.flatMap((label) => [1, -1, null].map((by) => ({ what: `${label} seal entry leafIndex ${by}`, edit: shift([...path(label), "seal", "entry"], by), expect: "seal" as const }))),
        ...withOutcome.flatMap((label) => [1, -1, null].map((by) => ({ what: `${label} outcomes entry leafIndex ${by}`, edit: shift([...path(label), "outcome", "entry"], by), expect: "outcome" as const }))),
        // Genuine, included entries in the wrong place.
        {
          what: "seal entries of two batches swapped",
          edit: (d: Json) =>
            ([(getAt(d, path("dlv_thin#1")) as Json).seal.entry, (getAt(d, path("dlv_thin#2")) as Json).seal.entry] = [
              (getAt(d, path("dlv_thin#2")) as Json).seal.entry,
              (getAt(d, path("dlv_thin#1")) as Json).seal.entry,
            ]),
          expect: "seal" as const,
        },
        {
          what: "outcomes entries of two batches swapped",
          edit: (d: Json) =>
            ([(getAt(d, path("dlv_thin#1")) as Json).outcome.entry, (getAt(d, path("dlv_thin#3")) as Json).outcome.entry] = [
              (getAt(d, path("dlv_thin#3")) as Json).outcome.entry,
              (getAt(d, path("dlv_thin#1")) as Json).outcome.entry,
            ]),
          expect: "outcome" as const,
        },
        { what: "event entry replaced by a seal entry", edit: (d: Json) => (d.event.ledger = (getAt(d, path("dlv_thin#1")) as Json).seal.entry), expect: "event" as const },
        { what: "recall replaced by the receipt entry", edit: (d: Json) => (d.recall = d.deliveries[0].receipt), expect: "event" as const },
        { what: "receipt moved to the callback delivery", edit: (d: Json) => ([d.deliveries[2].receipt, d.deliveries[0].receipt] = [d.deliveries[0].receipt, null]), expect: "receipt" as const },
      ];
      expect(editAll(input, edits)).toEqual([]);
    },
    SLOW,
  );
});

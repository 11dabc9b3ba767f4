import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyProof, verifyRedaction, type Check } from "./checks.js";
import { buildFixtureV2, DATA } from "./document-v2.fixture.js";

/*
 * Properties of format 2 verification over many documents: which attempt lists a chain accepts,
 * which outcome histories, and that no input, however hostile, makes a check throw.
 */
type Json = Record<string, any>;
const f = buildFixtureV2();
const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => c.name);

describe("chain", () => {
  it("accepts exactly the in-order prefixes of a delivery's attempts, and nothing else fails", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2]), (picked) => {
        const doc = structuredClone(f.document) as Json;
        const attempts = doc.deliveries[0].attempts as Json[];
        doc.deliveries[0].attempts = picked.map((i) => attempts[i]);
        const prefix = picked.every((i, k) => i === k);
        expect(failing(verifyProof({ document: doc, payload: f.thin.body, key: f.keys }))).toEqual(prefix ? [] : ["chain"]);
      }),
      { numRuns: 40 },
    );
  });

  it("accepts an outcome history exactly when nothing follows a delivered attempt", () => {
    const outcome = fc.constantFrom("retry" as const, "dead" as const, "delivered" as const);
    fc.assert(
      fc.property(fc.tuple(outcome, outcome, outcome), (outcomes) => {
        const fx = buildFixtureV2({ thinOutcomes: outcomes });
        const allowed = outcomes[0] !== "delivered" && outcomes[1] !== "delivered";
        expect(failing(verifyProof({ document: fx.document, payload: fx.thin.body, key: fx.keys }))).toEqual(allowed ? [] : ["chain"]);
      }),
      { numRuns: 15 },
    );
  });
});

describe("hostile documents", () => {
  /** Every path to a value in the document. */
  function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
    if (value === null || typeof value !== "object") return [at];
    const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return [at, ...keys.flatMap((k) => paths((value as Json)[k], [...at, k]))];
  }
  const all = paths(f.document).filter((p) => p.length > 0);

  it("never makes a check throw: any value anywhere gives failed checks, not an exception", () => {
    fc.assert(
      fc.property(fc.constantFrom(...all), fc.jsonValue({ maxDepth: 3 }), (at, value) => {
        const doc = structuredClone(f.document) as Json;
        let cur: Json = doc;
        for (const key of at.slice(0, -1)) cur = cur[key];
        cur[at.at(-1)!] = value;
        for (const checks of [
          verifyProof({ document: doc, payload: f.thin.body, key: f.keys, secret: f.thin.secret, receiptKey: f.thin.receiptKey }),
          verifyRedaction({ document: doc, original: { data: DATA }, key: f.keys }),
        ]) {
          expect(checks.length).toBeGreaterThan(0);
          for (const c of checks) expect(typeof c.detail).toBe("string");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("rejects a document whose record, seal note, outcome record or entry is replaced by other bytes", () => {
    const blobs = all.filter((p) => ["record", "note", "entry"].includes(String(p.at(-1))) && typeof p[0] === "string" && p[0] === "deliveries");
    fc.assert(
      fc.property(fc.constantFrom(...blobs), fc.uint8Array({ minLength: 1, maxLength: 600 }), (at, bytes) => {
        const doc = structuredClone(f.document) as Json;
        let cur: Json = doc;
        for (const key of at.slice(0, -1)) cur = cur[key];
        cur[at.at(-1)!] = at.at(-1) === "note" ? new TextDecoder().decode(bytes) : Buffer.from(bytes).toString("base64");
        expect(failing(verifyProof({ document: doc, payload: f.thin.body, key: f.keys, receiptKey: f.thin.receiptKey })).length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });
});

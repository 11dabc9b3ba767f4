/**
 * Property tests over random JSON documents and random pointer sets. The key alphabet is small and
 * includes the awkward cases ("", "/", "~", "__proto__", digits that double as array indexes,
 * astral characters) so that random pointers actually hit, miss and nest; fast-check also produces
 * null-prototype objects and own "__proto__" members.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBase64Url } from "@custody/encoding";
import { countingRandom } from "./expect.fixture.js";
import { canonicalJson, formatPointer, lookupPointer, parsePointer, redact, RedactionError, verifyRedaction } from "./index.js";
import { resolveTokens } from "./pointer.js";
import type { JsonValue, RedactionErrorCode, RemovedField } from "./index.js";

const key = fc.constantFrom("a", "b", "", "a/b", "m~n", "~1", "__proto__", "0", "1", "01", "-", "*", "\u00e9", "\uD83D\uDE00");
const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: "grapheme", maxLength: 4 }));
const { json: ownJson } = fc.letrec<{ json: JsonValue; arr: JsonValue[]; obj: Record<string, JsonValue> }>((tie) => ({
  json: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("arr"), tie("obj")),
  arr: fc.array(tie("json"), { maxLength: 4 }),
  obj: fc.dictionary(key, tie("json"), { maxKeys: 5 }),
}));
const jsonDoc: fc.Arbitrary<JsonValue> = fc.oneof(ownJson, fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>);

/** Token lists of every node but the root. */
function nodePaths(v: JsonValue, prefix: string[] = [], out: string[][] = []): string[][] {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push([...prefix, String(i)]);
      nodePaths(x, [...prefix, String(i)], out);
    });
  else if (v !== null && typeof v === "object")
    for (const k of Object.keys(v)) {
      out.push([...prefix, k]);
      nodePaths(v[k] as JsonValue, [...prefix, k], out);
    }
  return out;
}

const randomPointer = fc.array(fc.oneof(key, fc.constantFrom("2", "3", "00", "x")), { minLength: 1, maxLength: 4 }).map((tokens) => formatPointer(tokens));

/** A document and pointers: some existing nodes (nested ones included), some random, maybe repeats. */
const scenario = jsonDoc.chain((doc) => {
  const existing = nodePaths(doc).map((t) => formatPointer(t));
  return fc.record({
    doc: fc.constant(doc),
    pointers: fc.tuple(fc.subarray(existing), fc.array(randomPointer, { maxLength: 3 }), fc.boolean()).map(([hit, random, repeat]) => [...hit, ...random, ...(repeat ? hit.slice(0, 1) : [])]),
    existing: fc.constant(existing),
  });
});

function codeOf(fn: () => unknown): RedactionErrorCode | "none" {
  try {
    fn();
    return "none";
  } catch (e) {
    if (e instanceof RedactionError) return e.code;
    throw e;
  }
}

function containers(v: unknown, out = new Set<object>()): Set<object> {
  if (v !== null && typeof v === "object") {
    out.add(v);
    for (const k of Object.keys(v)) containers((v as Record<string, unknown>)[k], out);
  }
  return out;
}

describe("redact properties", () => {
  it("never mutates its input, and shares no container with it", () => {
    fc.assert(
      fc.property(scenario, fc.constantFrom("thin" as const, "fat" as const), ({ doc, pointers }, shape) => {
        const text = JSON.stringify(doc);
        const clone = structuredClone(doc);
        const { payload } = redact(doc, pointers, { shape, random: countingRandom() });
        expect(JSON.stringify(doc)).toBe(text);
        expect(doc).toEqual(clone);
        const inputs = containers(doc);
        for (const c of containers(payload)) expect(inputs.has(c)).toBe(false);
      }),
    );
  });

  it("thin: removed is exactly the present pointers, sorted, and none of them survives in the payload", () => {
    fc.assert(
      fc.property(scenario, ({ doc, pointers }) => {
        const { payload, removed } = redact(doc, pointers, { shape: "thin", random: countingRandom() });
        const present = [...new Set(pointers)].filter((p) => lookupPointer(doc, p).present).sort();
        expect(removed.map((r) => r.path)).toEqual(present);
        for (const r of removed) {
          const found = lookupPointer(payload, r.path);
          if (!found.present) continue;
          // Only an array element may still be there, as the null placeholder.
          const parent = resolveTokens(payload, parsePointer(r.path).slice(0, -1));
          expect(found.value).toBeNull();
          expect(parent.present && Array.isArray(parent.value)).toBe(true);
        }
      }),
    );
  });

  it("fat is the identity (a copy), with nothing removed", () => {
    fc.assert(
      fc.property(scenario, ({ doc, pointers }) => {
        const { payload, removed } = redact(doc, pointers, { shape: "fat" });
        expect(removed).toEqual([]);
        expect(JSON.stringify(payload)).toBe(JSON.stringify(doc));
        expect(canonicalJson(payload)).toBe(canonicalJson(doc));
        verifyRedaction({ original: doc, delivered: payload, removed });
      }),
    );
  });
});

describe("verifyRedaction properties", () => {
  const honest = scenario.map(({ doc, pointers, existing }) => ({ doc, existing, ...redact(doc, pointers, { shape: "thin", random: countingRandom() }) }));
  const withRemovals = honest.filter((h) => h.removed.length > 0);

  it("accepts every honest redaction", () => {
    fc.assert(
      fc.property(honest, ({ doc, payload, removed }) => {
        verifyRedaction({ original: doc, delivered: payload, removed });
      }),
    );
  });

  it("rejects any change to the delivered payload", () => {
    fc.assert(
      fc.property(honest, fc.nat(), ({ doc, payload, removed }, pick) => {
        // Wrap one node (or the root) as ["tampered", node]: canonically different, whatever it was.
        const nodes = [[], ...nodePaths(payload)];
        const at = nodes[pick % nodes.length]!;
        const tampered = structuredClone(payload);
        let delivered: JsonValue = tampered;
        if (at.length === 0) delivered = ["tampered", tampered];
        else {
          const parent = resolveTokens(tampered, at.slice(0, -1));
          const holder = (parent.present ? parent.value : null) as Record<string, JsonValue>;
          const last = at[at.length - 1]!;
          Object.defineProperty(holder, last, { value: ["tampered", holder[last]!], writable: true, enumerable: true, configurable: true });
        }
        expect(codeOf(() => verifyRedaction({ original: doc, delivered, removed }))).toBe("PAYLOAD_MISMATCH");
      }),
    );
  });

  it("rejects any change to one path", () => {
    fc.assert(
      fc.property(withRemovals, fc.nat(), fc.oneof(randomPointer, fc.nat()), ({ doc, payload, removed, existing }, i, replacement) => {
        const k = i % removed.length;
        const old = removed[k]!;
        const path = typeof replacement === "number" ? (existing[replacement % existing.length] ?? "/zz") : replacement;
        fc.pre(path !== old.path);
        const forged: RemovedField[] = removed.map((r, j) => (j === k ? { ...r, path } : r));
        expect(["PATH_ABSENT", "COMMITMENT_MISMATCH", "DUPLICATE_PATH"]).toContain(codeOf(() => verifyRedaction({ original: doc, delivered: payload, removed: forged })));
      }),
    );
  });

  it("rejects any change to one salt", () => {
    const otherSalt = fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ({ fresh: encodeBase64Url(b) })),
      fc.record({ at: fc.nat(21), ch: fc.constantFrom(..."ABCQgw-_09az") }),
    );
    fc.assert(
      fc.property(withRemovals, fc.nat(), otherSalt, ({ doc, payload, removed }, i, change) => {
        const k = i % removed.length;
        const old = removed[k]!.salt;
        const salt = "fresh" in change ? change.fresh : old.slice(0, change.at) + change.ch + old.slice(change.at + 1);
        fc.pre(salt !== old);
        const forged = removed.map((r, j) => (j === k ? { ...r, salt } : r));
        expect(["COMMITMENT_MISMATCH", "BAD_SALT"]).toContain(codeOf(() => verifyRedaction({ original: doc, delivered: payload, removed: forged })));
      }),
    );
  });

  it("rejects any change to one commitment", () => {
    fc.assert(
      fc.property(withRemovals, fc.nat(), fc.nat(63), fc.constantFrom(..."0123456789abcdefA"), ({ doc, payload, removed }, i, at, ch) => {
        const k = i % removed.length;
        const old = removed[k]!.commitment;
        const commitment = old.slice(0, at) + ch + old.slice(at + 1);
        fc.pre(commitment !== old);
        const forged = removed.map((r, j) => (j === k ? { ...r, commitment } : r));
        expect(codeOf(() => verifyRedaction({ original: doc, delivered: payload, removed: forged }))).toBe(ch === "A" ? "BAD_COMMITMENT" : "COMMITMENT_MISMATCH");
      }),
    );
  });
});

import { canonicalize } from "@custody/encoding";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCertainlyCanonicalEntry } from "./audit-canonical.js";
import { entryFault, eventEntry, outcomesEntry, recallEntry, receiptEntry, sealEntry } from "./documents.js";
import { attemptEntry, custodyEntry } from "./documents-v1.js";
import { decodeEntry, encodeEntry, ENTRY_KINDS, MAX_ENTRY_BYTES, type EntryDocument, type JsonValue } from "./entry.js";

const utf8 = new TextEncoder();
const bytes = (text: string) => utf8.encode(text);

/** decodeEntry's verdict: null when it accepts, else its message. */
function verdict(b: Uint8Array): string | null {
  try {
    decodeEntry(b);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The recogniser may only say "canonical" where decodeEntry agrees; entryFault, which trusts it,
 * must give decodeEntry's message wherever decodeEntry refuses (past that it also checks members,
 * which these free-form documents do not have).
 */
function check(b: Uint8Array): void {
  const expected = verdict(b);
  if (isCertainlyCanonicalEntry(b)) expect(expected).toBeNull();
  if (expected !== null) expect(entryFault(b)).toBe(expected);
}

// Keys and strings from alphabets that reach every branch: escapes, controls, quotes, non-ASCII
// (2, 3 and 4 UTF-8 bytes), lone surrogates, U+2028, DEL, digits (integer-like keys sort apart in
// Object.keys), and the names the format uses.
const char = fc.constantFrom("a", "b", "z", "A", "0", "9", "_", " ", '"', "\\", "\n", "\u0001", "\u001f", "\u007f", "é", "€", "😀", "\u2028", "\ud800", "\udc00", "/");
const anyString = fc.oneof(fc.string({ unit: char, maxLength: 8 }), fc.string({ unit: "binary", maxLength: 6 }), fc.string({ maxLength: 12 }));
const key = fc.oneof(fc.constantFrom("v", "kind", "tenant", "event", "__proto__", "toJSON", "", "1", "10", "9", "a", "b", "é", "😀"), anyString);
const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(10 ** 15), max: 10 ** 15 }),
  // biome-ignore lint/correctness/noPrecisionLoss: 2^53 + 1 rounds on purpose; canonical JSON must print the double it becomes.
  fc.constantFrom(0, -0, 1, 2, 3, 1.5, 1e21, 1e-7, 123456789012345, 1234567890123456, 9007199254740993, -1, 0.1),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const value: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, anyString, number, fc.boolean(), fc.constant(null), fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(key, tie("value"), { maxKeys: 4 })),
})).value;
const version = fc.oneof(fc.constantFrom(1, 2), fc.constantFrom<JsonValue>(3, 0, "1", "2", 1.5, null, [1], true));
const kind = fc.oneof(fc.constantFrom<JsonValue>(...ENTRY_KINDS), fc.constantFrom<JsonValue>("key", "Event", "", 1, null, ["event"]), anyString);
const document = fc.record({ v: version, kind, rest: fc.dictionary(key, value, { maxKeys: 6 }) }, { requiredKeys: [] }).map(({ v, kind: k, rest }) => {
  const doc: Record<string, JsonValue> = { ...rest };
  if (v !== undefined) doc.v = v;
  if (k !== undefined) doc.kind = k;
  return doc;
});

// Documents mostly inside what the recogniser is sure of (the entries the platform writes look like
// these), so that the properties above and their mutations below land on both sides of its edge.
const plainChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("a", "e", "t", "x", "Z", "0", "7", "_", "-", ".", ":", " ", "~", "\u007f") },
  { weight: 1, arbitrary: fc.constantFrom("é", "€", "😀", "\u2028", '"', "\\", "\n") },
);
const plainKey = fc.oneof({ weight: 6, arbitrary: fc.string({ unit: fc.constantFrom("a", "b", "k", "z", "A", "_", "0", "1", "9"), maxLength: 5 }) }, { weight: 1, arbitrary: key });
const plainValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string({ unit: plainChar, maxLength: 10 }),
    fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 }) }, { weight: 1, arbitrary: number }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(plainKey, tie("value"), { maxKeys: 3 }),
  ),
})).value;
const plainDocument = fc
  .tuple(fc.constantFrom<[1 | 2, string]>(...ENTRY_KINDS.map((k): [1 | 2, string] => [k === "seal" || k === "outcomes" ? 2 : 1, k])), fc.dictionary(plainKey, plainValue, { maxKeys: 6 }))
  .map(([[v, k], rest]) => ({ ...rest, v, kind: k }) as Record<string, JsonValue>);
const anyDocument = fc.oneof(document, plainDocument, plainDocument);

/** Canonical (when canonicalize can), plain JSON.stringify (insertion order), and pretty-printed. */
function encodings(doc: Record<string, JsonValue>): Uint8Array[] {
  const out = [bytes(JSON.stringify(doc)), bytes(JSON.stringify(doc, null, 1))];
  try {
    const text = canonicalize(doc);
    if (text !== undefined) out.push(bytes(text));
  } catch {
    // lone surrogates: canonicalize refuses them
  }
  return out;
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom(0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xe0, 0xed, 0xf0, 0xf4)) }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(0x20, 0x0a, 0x22, 0x5c, 0x2c, 0x7b, 0x7d, 0x30, 0x2d, 0x2e, 0x65, 0xc3, 0xa9, 0xed, 0xf0, 0x80, 0xff), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
);

function mutate(b: Uint8Array, m: { op: string; at: number; bit?: number; byte?: number; length?: number }): Uint8Array {
  if (b.length === 0) return b;
  const at = m.at % (b.length + 1);
  switch (m.op) {
    case "set": {
      const c = b.slice();
      c[Math.min(at, b.length - 1)] = m.byte!;
      return c;
    }
    case "flip": {
      const c = b.slice();
      const i = Math.min(at, b.length - 1);
      c[i]! ^= 1 << m.bit!;
      return c;
    }
    case "insert":
      return Uint8Array.from([...b.subarray(0, at), m.byte!, ...b.subarray(at)]);
    case "delete":
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
    default:
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + m.length!), ...b.subarray(at)]);
  }
}

describe("isCertainlyCanonicalEntry / entryFault", () => {
  it("never accepts what decodeEntry rejects, and entryFault gives decodeEntry's message wherever it refuses (generated documents)", () => {
    fc.assert(
      fc.property(anyDocument, (doc) => {
        for (const b of encodings(doc)) check(b);
      }),
      { numRuns: 3_000 },
    );
  });

  it("… on mutated canonical entries (flipped, inserted, deleted and repeated bytes)", () => {
    fc.assert(
      fc.property(anyDocument, fc.array(mutation, { minLength: 1, maxLength: 2 }), (doc, ms) => {
        // The canonical encoding (the last), where a mutation is most likely to stay near the edge.
        check(ms.reduce((x, m) => mutate(x, m), encodings(doc).at(-1)!));
      }),
      { numRuns: 6_000 },
    );
  });

  it("… on arbitrary bytes and arbitrary JSON texts", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => check(b)),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), (text) => {
        check(bytes(text));
        check(bytes(`{"kind":"event","v":1,"x":${text}}`));
        check(bytes(`{"kind":"seal","v":2,"x":${text}}`));
      }),
      { numRuns: 2_000 },
    );
  });

  it("recognises every entry the platform writes, so decodeEntry never runs on them", () => {
    const hex = (n: number) => "0123456789abcdef".repeat(8).slice(0, n);
    const id = fc.stringMatching(/^[a-z]{3}_[A-Za-z0-9]{22}$/);
    const date = fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true });
    const entries: fc.Arbitrary<EntryDocument> = fc.oneof(
      fc
        .record({
          tenantId: id,
          eventId: id,
          type: fc.stringMatching(/^[a-z][a-z0-9._-]{0,60}$/),
          payloadSha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          occurredAt: date,
          supersedes: fc.option(id, { nil: null }),
        })
        .map(eventEntry),
      fc.record({ batchRoot: fc.constant(hex(64)), size: fc.integer({ min: 1, max: 4096 }), keyId: fc.constant(hex(8)) }).map(sealEntry),
      fc.record({ batchRoot: fc.constant(hex(64)), size: fc.integer({ min: 1, max: 4096 }) }).map(outcomesEntry),
      fc.record({ tenantId: id, eventId: id, reason: fc.string({ unit: fc.constantFrom("a", " ", "é", "😀", ".", "-"), maxLength: 80 }), recalledAt: date }).map(recallEntry),
      fc.record({ tenantId: id, deliveryId: id, eventId: id, statement: fc.base64String(), signature: fc.base64String(), publicKey: fc.constant(hex(64)) }).map(receiptEntry),
      fc
        .record({ tenantId: id, deliveryId: id, eventId: id, attemptNo: fc.integer({ min: 1, max: 50 }), endpointId: fc.option(id, { nil: null }), custodyRoot: fc.constant(hex(64)) })
        .map((f) => custodyEntry({ ...f, hops: { ingested: hex(64), redacted: hex(64), prepared: hex(64), signed: hex(64) }, seal: { batchRoot: hex(64), size: 3, index: 1, keyId: hex(8) } })),
      fc
        .record({
          tenantId: id,
          deliveryId: id,
          attemptNo: fc.integer({ min: 1, max: 50 }),
          outcome: fc.constantFrom("delivered" as const, "retry" as const, "dead" as const),
          statusCode: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
          errorClass: fc.option(fc.constantFrom("timeout", "connection"), { nil: null }),
          startedAt: date,
          durationMs: fc.nat(),
          responseSha256: fc.option(fc.constant(hex(64)), { nil: null }),
        })
        .map((f) => attemptEntry({ ...f, custodyRoot: hex(64) })),
    );
    fc.assert(
      fc.property(entries, (doc) => {
        const b = encodeEntry(doc);
        expect(isCertainlyCanonicalEntry(b)).toBe(true);
        expect(decodeEntry(b)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("leaves to decodeEntry what it cannot be sure of, and gets each answer right", () => {
    const cases: Array<[string, boolean]> = [
      ['{"kind":"event","v":1}', true],
      ['{"a":[],"b":{},"c":[1,-2,0,true,false,null,"x"],"kind":"seal","v":2}', true],
      ['{"kind":"event","t":"é€😀\u2028\u007f","v":1}', true],
      // escapes: canonical only in JSON.stringify's own form
      ['{"kind":"event","t":"\\"\\\\\\n","v":1}', false],
      ['{"kind":"event","t":"\\u0001","v":1}', false],
      ['{"kind":"event","t":"\\u00e9","v":1}', false],
      ['{"kind":"event","t":"\\ud800","v":1}', false],
      ['{"kind":"event","t":"\\/","v":1}', false],
      // numbers: shortest round trip only
      ['{"kind":"event","n":123456789012345,"v":1}', true],
      ['{"kind":"event","n":1234567890123456,"v":1}', false],
      ['{"kind":"event","n":9007199254740993,"v":1}', false],
      ['{"kind":"event","n":1.5,"v":1}', false],
      ['{"kind":"event","n":1.0,"v":1}', false],
      ['{"kind":"event","n":1e21,"v":1}', false],
      ['{"kind":"event","n":-0,"v":1}', false],
      ['{"kind":"event","n":01,"v":1}', false],
      // keys: sorted by UTF-16 code units, once each
      ['{"v":1,"kind":"event"}', false],
      ['{"kind":"event","kind":"event","v":1}', false],
      ['{"10":0,"9":0,"kind":"event","v":1}', true],
      ['{"kind":"event","v":1,"é":0}', false],
      ['{"__proto__":{"v":2},"kind":"event","v":1}', true],
      ['{"kind":"event","toJSON":"x","v":1}', true],
      // version and kind
      ['{"kind":"event","v":"1"}', false],
      ['{"kind":"event","v":2}', false],
      ['{"kind":"seal","v":1}', false],
      ['{"kind":"key","v":1}', false],
      ['{"kind":["event"],"v":1}', false],
      ['{"v":1}', false],
      ['{"kind":"event","v":3}', false],
      // framing
      ['{"kind":"event","v":1} ', false],
      [' {"kind":"event","v":1}', false],
      ['\ufeff{"kind":"event","v":1}', false],
      ['{"kind":"event","v":1}{}', false],
      ['[{"kind":"event","v":1}]', false],
      ['{"kind":"event", "v":1}', false],
      ['{"kind":"event","v":1', false],
      [`{"kind":"event","v":1,"x":${"[".repeat(40)}${"]".repeat(40)}}`, false],
      [`{"kind":"event","v":1,"x":${"[".repeat(20)}${"]".repeat(20)}}`, true],
    ];
    for (const [text, sure] of cases) {
      expect(isCertainlyCanonicalEntry(bytes(text)), text).toBe(sure);
      check(bytes(text));
    }
    // Bytes that are not UTF-8, or not the shortest form: never "sure".
    for (const raw of [[0xc3], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xc3, 0x28]]) {
      const b = Uint8Array.from([...bytes('{"kind":"event","t":"'), ...raw, ...bytes('","v":1}')]);
      expect(isCertainlyCanonicalEntry(b)).toBe(false);
      check(b);
    }
    const big = bytes(`{"kind":"event","pad":"${"x".repeat(MAX_ENTRY_BYTES)}","v":1}`);
    expect(isCertainlyCanonicalEntry(big)).toBe(false);
    check(big);
    check(new Uint8Array(0));
  });
});

import { describe, expect, it } from "vitest";
import { expectRedactionError } from "./expect.fixture.js";
import { canonicalJson, MAX_JSON_DEPTH } from "./index.js";
import { deepCopy } from "./json.js";

describe("canonicalJson (RFC 8785)", () => {
  // U+1F600 (😀, UTF-16 D83D DE00) sorts before U+FB33 by code units, after it by code points.
  it("sorts keys by UTF-16 code units and formats numbers the ECMAScript way", () => {
    expect(canonicalJson({ b: 1.0, a: [1e21, -0, 0.000001, "\u0000é"], "\u20ac": 1, "\uD83D\uDE00": 2, "\uFB33": 3 })).toBe('{"a":[1e+21,0,0.000001,"\\u0000é"],"b":1,"\u20ac":1,"\uD83D\uDE00":2,"\uFB33":3}');
  });

  it("accepts null-prototype objects and an own __proto__ member", () => {
    const o = Object.create(null) as Record<string, number>;
    o.x = 1;
    expect(canonicalJson(o)).toBe('{"x":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"a":1}}'))).toBe('{"__proto__":{"a":1}}');
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = [deep];

  it.each([
    ["undefined", undefined, /undefined is not a JSON value/],
    ["an undefined member", { a: undefined }, /undefined/],
    ["NaN", [NaN], /non-finite/],
    ["Infinity", { x: -Infinity }, /non-finite/],
    ["bigint", 1n, /bigint/],
    ["a function", { f: () => 1 }, /function/],
    ["a symbol", Symbol("s"), /symbol/],
    ["a lone surrogate in a string", "a\uD800", /lone surrogate/],
    ["a lone surrogate in a key", { "\uDC00": 1 }, /key with a lone surrogate/],
    ["a Date", new Date(0), /Date is not a plain object/],
    ["a Map", new Map(), /Map is not a plain object/],
    ["a Uint8Array", new Uint8Array(2), /Uint8Array/],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test.
    ["an array hole", [1, , 3], /hole at index 1/],
    ["a cycle", cyclic, /deeper than 256 \(or cyclic\)/],
    ["too deep nesting", deep, /deeper than 256/],
  ])("refuses %s", (_, value, msg) => {
    expectRedactionError(() => canonicalJson(value), "NOT_JSON", msg);
  });

  it(`accepts nesting of exactly ${MAX_JSON_DEPTH}`, () => {
    let v: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) v = { k: v };
    expect(canonicalJson(v)).toContain('{"k":1}');
  });
});

describe("deepCopy", () => {
  it("copies an own __proto__ member as a member, not as the prototype", () => {
    const src = JSON.parse('{"__proto__":{"polluted":true},"a":[{"b":1}]}');
    const copy = deepCopy(src) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, "__proto__")).toBe(true);
    expect(canonicalJson(copy)).toBe(canonicalJson(src));
    expect(copy.a).not.toBe(src.a);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("unshares shared sub-objects", () => {
    const shared = { x: 1 };
    const copy = deepCopy({ a: shared, b: shared }) as Record<string, unknown>;
    expect(copy.a).not.toBe(copy.b);
    expect(copy.a).toEqual(shared);
  });
});

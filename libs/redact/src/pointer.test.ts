import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectRedactionError } from "./expect.fixture.js";
import { formatPointer, lookupPointer, MAX_POINTER_DEPTH, MAX_POINTER_LENGTH, parsePointer } from "./index.js";
import type { JsonValue } from "./index.js";

// RFC 6901 §5, parsed from the RFC's own JSON text.
const rfcDoc = JSON.parse(String.raw`{
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8
}`) as JsonValue;

const rfcExamples: Array<[string, string[], JsonValue]> = [
  ["/foo", ["foo"], ["bar", "baz"]],
  ["/foo/0", ["foo", "0"], "bar"],
  ["/", [""], 0],
  ["/a~1b", ["a/b"], 1],
  ["/c%d", ["c%d"], 2],
  ["/e^f", ["e^f"], 3],
  ["/g|h", ["g|h"], 4],
  ["/i\\j", ["i\\j"], 5],
  ['/k"l', ['k"l'], 6],
  ["/ ", [" "], 7],
  ["/m~0n", ["m~n"], 8],
];

describe("RFC 6901 §5 examples", () => {
  it.each(rfcExamples)("%s", (pointer, tokens, value) => {
    expect(parsePointer(pointer)).toEqual(tokens);
    expect(formatPointer(tokens)).toBe(pointer);
    expect(lookupPointer(rfcDoc, pointer)).toEqual({ present: true, value });
  });

  it('the whole-document pointer "" is refused as a personal-data field', () => {
    expectRedactionError(() => parsePointer(""), "BAD_POINTER", /empty pointer/);
    expectRedactionError(() => formatPointer([]), "BAD_POINTER", /empty pointer/);
  });
});

describe("parsePointer", () => {
  it("unescapes ~1 before ~0 in one pass, so ~01 is ~1 (RFC 6901 §4)", () => {
    expect(parsePointer("/~01")).toEqual(["~1"]);
    expect(parsePointer("/~10")).toEqual(["/0"]);
    expect(parsePointer("/~0~1~0")).toEqual(["~/~"]);
  });

  it("keeps empty tokens and treats * and - literally", () => {
    expect(parsePointer("//")).toEqual(["", ""]);
    expect(parsePointer("/a/")).toEqual(["a", ""]);
    expect(parsePointer("/*/-")).toEqual(["*", "-"]);
  });

  it.each([
    ["email", /does not start with "\/"/],
    ["#/email", /does not start/],
    ["/a~", /"~" not followed/],
    ["/a~2", /"~" not followed/],
    ["/~~0", /"~" not followed/],
    ["/a\uD800", /lone surrogate/],
    ["/a\uDC00b", /lone surrogate/],
    ["/a\u0000", /U\+0000/],
  ])("rejects %j", (p, msg) => {
    expectRedactionError(() => parsePointer(p), "BAD_POINTER", msg);
  });

  it("rejects non-strings", () => {
    expectRedactionError(() => parsePointer(42 as never), "BAD_POINTER", /must be a string, got number/);
    expectRedactionError(() => parsePointer(null as never), "BAD_POINTER", /got null/);
  });

  it(`allows ${MAX_POINTER_DEPTH} tokens, not more`, () => {
    expect(parsePointer("/a".repeat(MAX_POINTER_DEPTH))).toHaveLength(MAX_POINTER_DEPTH);
    expectRedactionError(() => parsePointer("/a".repeat(MAX_POINTER_DEPTH + 1)), "BAD_POINTER", /more than 32 tokens/);
  });

  it(`allows ${MAX_POINTER_LENGTH} UTF-8 bytes, not more`, () => {
    expect(parsePointer("/" + "a".repeat(MAX_POINTER_LENGTH - 1))).toHaveLength(1);
    expectRedactionError(() => parsePointer("/" + "a".repeat(MAX_POINTER_LENGTH)), "BAD_POINTER", /longer than 512/);
    // é is 2 bytes, € 3 and 😀 (a surrogate pair) 4: counted in UTF-8, not UTF-16 units.
    expect(parsePointer("/" + "é".repeat(255) + "a")).toHaveLength(1);
    expectRedactionError(() => parsePointer("/" + "é".repeat(256)), "BAD_POINTER", /UTF-8/);
    expectRedactionError(() => parsePointer("/" + "€".repeat(171)), "BAD_POINTER", /UTF-8/);
    expect(parsePointer("/" + "😀".repeat(127) + "abc")).toHaveLength(1);
    expectRedactionError(() => parsePointer("/" + "😀".repeat(128)), "BAD_POINTER", /UTF-8/);
  });
});

describe("formatPointer", () => {
  it("escapes ~ and / only", () => {
    expect(formatPointer(["result", "taxId"])).toBe("/result/taxId");
    expect(formatPointer(["a/b", "m~n", "~1", ""])).toBe("/a~1b/m~0n/~01/");
    expect(formatPointer(["%", "^", " ", "*"])).toBe("/%/^/ /*");
  });

  it("refuses what parsePointer refuses", () => {
    expectRedactionError(() => formatPointer(["a\u0000"]), "BAD_POINTER");
    expectRedactionError(() => formatPointer(["\uDFFF"]), "BAD_POINTER");
    expectRedactionError(() => formatPointer(Array(MAX_POINTER_DEPTH + 1).fill("x")), "BAD_POINTER");
    expectRedactionError(() => formatPointer([1 as never]), "BAD_POINTER", /token must be a string/);
    expectRedactionError(() => formatPointer("abc" as never), "BAD_POINTER", /array/);
  });

  it("round-trips with parsePointer, both ways", () => {
    const token = fc.string({ unit: fc.constantFrom("a", "/", "~", "0", "1", "é", "😀", "-", "*"), maxLength: 6 });
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 8 }), (tokens) => {
        const p = formatPointer(tokens);
        expect(parsePointer(p)).toEqual(tokens);
        expect(formatPointer(parsePointer(p))).toBe(p);
      }),
    );
  });
});

describe("lookupPointer", () => {
  const doc = JSON.parse('{"a":[10,{"b":null}],"n":null,"s":"str","__proto__":{"x":1}}') as JsonValue;

  it.each([
    ["/a/0", 10],
    ["/a/1/b", null],
    ["/n", null],
    ["/__proto__/x", 1],
  ])("finds %s", (p, value) => {
    expect(lookupPointer(doc, p)).toEqual({ present: true, value });
  });

  it.each([
    "/missing",
    "/a/2", // out of range
    "/a/-", // the element after the last
    "/a/01", // leading zero is not an index
    "/a/+1",
    "/a/1e0",
    "/a/ 0",
    "/a/99999999999999999999999",
    "/a/x",
    "/n/x", // null on the way
    "/s/0", // string on the way: strings are not containers
    "/constructor", // inherited, not own
    "/toString",
    "/a/length",
  ])("does not find %s", (p) => {
    expect(lookupPointer(doc, p)).toEqual({ present: false });
  });

  it("validates both arguments", () => {
    expectRedactionError(() => lookupPointer(doc, "a"), "BAD_POINTER");
    expectRedactionError(() => lookupPointer({ x: NaN }, "/x"), "NOT_JSON");
  });
});

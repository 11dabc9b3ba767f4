import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./hex.js";
import { EncodingError, type EncodingErrorCode } from "./errors.js";

function expectEncodingError(fn: () => unknown, code: EncodingErrorCode, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(EncodingError);
  expect((thrown as EncodingError).code).toBe(code);
  expect((thrown as EncodingError).message).toBe(message);
}

describe("toHex / fromHex", () => {
  it("round-trips every byte value, lowercase out", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toMatch(/^[0-9a-f]{512}$/);
    expect(fromHex(hex)).toEqual(all);
    expect(toHex(new Uint8Array(0))).toBe("");
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });

  it("spells every byte string as Node's hex encoder does, at any offset into its buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.nat(8), (b, skip) => {
        const view = b.subarray(Math.min(skip, b.length));
        expect(toHex(view)).toBe(Buffer.from(view).toString("hex"));
      }),
    );
  });

  it("accepts uppercase and mixed case", () => {
    expect(fromHex("DEADbeef")).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  });

  it("rejects odd length", () => {
    expectEncodingError(() => fromHex("abc"), "BAD_HEX", "fromHex: expected an even number of hex digits, got length=3");
  });

  it.each([
    ["0x00", 1, "x"],
    ["ab g", 2, " "],
    ["abcg", 3, "g"],
    [" abc", 0, " "],
    ["ab\n0", 2, "\n"],
    ["+1", 0, "+"],
    ["éé", 0, "é"],
  ])("rejects %j (bad character at %i)", (input, offset, ch) => {
    expectEncodingError(() => fromHex(input), "BAD_HEX", `fromHex: invalid hex character ${JSON.stringify(ch)} at offset ${offset}`);
  });

  it("rejects non-strings and non-bytes", () => {
    expectEncodingError(() => fromHex(12 as unknown as string), "BAD_ARGUMENT_TYPE", "fromHex: expected string, got number");
    expectEncodingError(() => fromHex(null as unknown as string), "BAD_ARGUMENT_TYPE", "fromHex: expected string, got null");
    expectEncodingError(() => toHex("ab" as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "toHex input: expected Uint8Array, got string");
  });

  it("encodes inputs longer than the shared scratch buffer, and short ones after them", () => {
    const long = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7) & 0xff);
    const hex = toHex(long);
    expect(hex.length).toBe(80_000);
    expect(fromHex(hex)).toEqual(long);
    expect(toHex(Uint8Array.of(0xab, 0x01))).toBe("ab01");
    expect(hex.slice(0, 6)).toBe("00070e");
  });
});

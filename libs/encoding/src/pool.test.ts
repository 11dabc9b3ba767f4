import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocBytes, utf8Bytes } from "./pool.js";

const reference = new TextEncoder();

describe("utf8Bytes and allocBytes", () => {
  it("gives exactly TextEncoder's bytes for any string, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 3000 }), (s) => {
        expect(Array.from(utf8Bytes(s))).toEqual(Array.from(reference.encode(s)));
      }),
      { numRuns: 2000 },
    );
  });

  it("never lets a later result overwrite an earlier one, across blocks", () => {
    const texts = Array.from({ length: 5000 }, (_, i) => `${i}:${"é".repeat(i % 40)}`);
    const results = texts.map((t) => utf8Bytes(t));
    const decoder = new TextDecoder();
    results.forEach((r, i) => {
      expect(decoder.decode(r)).toBe(texts[i]);
    });
    // Writing into one result leaves its neighbours alone.
    results[1]!.fill(0x21);
    expect(decoder.decode(results[0])).toBe(texts[0]);
    expect(decoder.decode(results[2])).toBe(texts[2]);
  });

  it("encodes a text too long to share a block on its own", () => {
    const long = "ü".repeat(3000);
    const bytes = utf8Bytes(long);
    expect(bytes.byteLength).toBe(6000);
    expect(bytes.buffer.byteLength).toBe(6000);
    expect(new TextDecoder().decode(bytes)).toBe(long);
  });

  it("allocates zero-filled arrays that do not overlap, pooled or not", () => {
    const sizes = [0, 1, 7, 8, 33, 100, 1000, 4096, 4097, 10_000];
    const arrays = Array.from({ length: 300 }, (_, i) => allocBytes(sizes[i % sizes.length]!));
    arrays.forEach((a, i) => {
      expect(a.length).toBe(sizes[i % sizes.length]);
      expect(a.every((b) => b === 0)).toBe(true);
      a.fill(i % 251);
    });
    arrays.forEach((a, i) => {
      expect(a.every((b) => b === i % 251)).toBe(true);
    });
  });
});

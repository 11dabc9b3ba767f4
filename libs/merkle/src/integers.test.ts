import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { assertSafeUint, bitLength, half, isPowerOfTwo, largestPowerOfTwoBelow, popCount, shiftRight, smallestPowerOfTwoAtLeast, trailingZeros, xor } from "./integers.js";
import { expectMerkleError } from "./expect.fixture.js";

const MAX = Number.MAX_SAFE_INTEGER;
const safeUint = fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.maxSafeNat(), fc.constantFrom(0, 1, 2, 2 ** 32 - 1, 2 ** 32, 2 ** 52, MAX - 1, MAX));

describe("safe-integer bit helpers (exact up to 2^53 - 1)", () => {
  it("agree with BigInt arithmetic", () => {
    fc.assert(
      fc.property(safeUint, safeUint, fc.integer({ min: 0, max: 53 }), (a, b, k) => {
        const A = BigInt(a);
        const B = BigInt(b);
        expect(BigInt(xor(a, b))).toBe(A ^ B);
        expect(BigInt(half(a))).toBe(A >> 1n);
        expect(BigInt(shiftRight(a, k))).toBe(A >> BigInt(k));
        expect(bitLength(a)).toBe(a === 0 ? 0 : A.toString(2).length);
        expect(popCount(a)).toBe([...A.toString(2)].filter((c) => c === "1").length);
        expect(isPowerOfTwo(a)).toBe(a > 0 && (A & (A - 1n)) === 0n);
        if (a > 0) expect(trailingZeros(a)).toBe(A.toString(2).length - 1 - A.toString(2).lastIndexOf("1"));
      }),
      { numRuns: 300 },
    );
  });

  it("finds the RFC 9162 §2.1.1 split point k < n <= 2k", () => {
    expect([2, 3, 4, 5, 8, 9].map(largestPowerOfTwoBelow)).toEqual([1, 2, 2, 4, 4, 8]);
    expect(largestPowerOfTwoBelow(MAX)).toBe(2 ** 52);
    expect(largestPowerOfTwoBelow(2 ** 52 + 1)).toBe(2 ** 52);
    expect(largestPowerOfTwoBelow(2 ** 52)).toBe(2 ** 51);
    expect([1, 2, 3, 5, 8].map(smallestPowerOfTwoAtLeast)).toEqual([1, 2, 4, 8, 8]);
    expect(smallestPowerOfTwoAtLeast(MAX)).toBe(2 ** 53);
  });

  it("assertSafeUint accepts 0 .. 2^53 - 1", () => {
    for (const ok of [0, 1, 2 ** 32, MAX]) expect(() => assertSafeUint(ok, "x")).not.toThrow();
  });

  it.each([
    [-1, "x: expected a non-negative safe integer, got -1"],
    [1.5, "x: expected a non-negative safe integer, got 1.5"],
    [Number.NaN, "x: expected a non-negative safe integer, got NaN"],
    [Number.POSITIVE_INFINITY, "x: expected a non-negative safe integer, got Infinity"],
    [2 ** 53, "x: expected a non-negative safe integer, got 9007199254740992"],
    // biome-ignore lint/correctness/noPrecisionLoss: 2^64 - 1 as a double, the value a careless u64 decode yields.
    [18446744073709551615, "x: expected a non-negative safe integer, got 18446744073709552000"],
    ["1", "x: expected a non-negative safe integer, got string"],
    [1n, "x: expected a non-negative safe integer, got bigint"],
    [null, "x: expected a non-negative safe integer, got null"],
    [undefined, "x: expected a non-negative safe integer, got undefined"],
  ])("assertSafeUint rejects %s", (value, message) => {
    expectMerkleError(() => assertSafeUint(value, "x"), "BAD_INTEGER", message);
  });
});

import { MerkleProofError } from "./errors.js";

/*
 * Tree sizes and indexes are JS numbers, so JS's 32-bit bitwise operators are off limits: these
 * helpers use exact arithmetic (division by 2 of a safe integer is exact) and are valid for every
 * value up to Number.MAX_SAFE_INTEGER.
 */

const TWO_32 = 2 ** 32;

/** Throws unless `value` is an integer in [0, 2^53 - 1], the range where a number is exact. */
export function assertSafeUint(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") {
    throw new MerkleProofError("BAD_INTEGER", `${what}: expected a non-negative safe integer, got ${value === null ? "null" : typeof value}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleProofError("BAD_INTEGER", `${what}: expected a non-negative safe integer, got ${String(value)}`);
  }
}

export function isOdd(x: number): boolean {
  return x % 2 === 1;
}

/** x >> 1 for any non-negative safe integer. */
export function half(x: number): number {
  return (x - (x % 2)) / 2;
}

/** Number of significant bits: 0 for 0, 1 for 1, 3 for 5. */
export function bitLength(x: number): number {
  let n = 0;
  for (let v = x; v > 0; v = half(v)) n++;
  return n;
}

export function popCount(x: number): number {
  let n = 0;
  for (let v = x; v > 0; v = half(v)) if (isOdd(v)) n++;
  return n;
}

/** Trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  let n = 0;
  for (let v = x; v > 0 && !isOdd(v); v = half(v)) n++;
  return n;
}

export function isPowerOfTwo(x: number): boolean {
  return x > 0 && popCount(x) === 1;
}

/** The k of RFC 9162 §2.1.1: the largest power of two strictly less than n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The smallest power of two >= n (n >= 1). */
export function smallestPowerOfTwoAtLeast(n: number): number {
  let k = 1;
  while (k < n) k *= 2;
  return k;
}

/** a XOR b for non-negative safe integers, done on the two 32-bit halves. */
export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a % TWO_32) ^ (b % TWO_32)) >>> 0;
  return hi * TWO_32 + lo;
}

/** x >> k for non-negative safe integers. */
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

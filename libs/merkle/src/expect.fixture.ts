// Test-only helpers: error-code assertions, bit flips, fast hash-list comparison.
import { expect } from "vitest";
import { MerkleProofError, type MerkleErrorCode } from "./errors.js";
import { bytesEqual } from "./hash.js";
import { nodeKey, type StoredNode } from "./nodeid.js";

export function expectMerkleError(fn: () => unknown, code: MerkleErrorCode, message?: string | RegExp): MerkleProofError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected MerkleProofError ${code}, but nothing was thrown`).toBeInstanceOf(MerkleProofError);
  const err = thrown as MerkleProofError;
  expect(err.code, err.message).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

/** A copy of `bytes` with one bit flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  const i = Math.floor(bit / 8) % out.length;
  out[i] = (out[i] ?? 0) ^ (1 << (bit % 8));
  return out;
}

export function bytes(length: number, fill = 0xab): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/**
 * Fast equality for long hash lists: vitest's deep equality walks typed arrays element by element
 * and costs ~0.1 ms per hash, which would dominate the property tests.
 */
export function expectSameHashes(actual: readonly Uint8Array[], expected: readonly Uint8Array[], what = "hashes"): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const firstMismatch = actual.findIndex((h, i) => !bytesEqual(h, expected[i] ?? new Uint8Array(0)));
  expect(firstMismatch, `${what}: index of first mismatching hash`).toBe(-1);
}

/** Same ids in the same order, and the same hashes. */
export function expectSameNodes(actual: readonly StoredNode[], expected: readonly StoredNode[], what = "nodes"): void {
  expect(actual.map(nodeKey).join(","), `${what}: ids`).toBe(expected.map(nodeKey).join(","));
  expectSameHashes(
    actual.map((n) => n.hash),
    expected.map((n) => n.hash),
    what,
  );
}

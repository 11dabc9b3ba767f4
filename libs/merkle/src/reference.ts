import { MerkleProofError } from "./errors.js";
import { assertHash, emptyRoot, nodeHash } from "./hash.js";
import { assertSafeUint, largestPowerOfTwoBelow } from "./integers.js";

/*
 * Straight transcriptions of the RFC 9162 §2.1 definitions over an in-memory array of leaf hashes.
 * They are the yardstick the storage-oriented code (plan.ts, append.ts) is tested against, and are
 * fine for small trees; they are O(n) per call, so a sequencer must not use them on the live log.
 */

function assertLeafHashes(leafHashes: readonly Uint8Array[], fn: string): void {
  if (!Array.isArray(leafHashes)) {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `${fn}: expected an array of leaf hashes, got ${typeof leafHashes}`);
  }
  for (let i = 0; i < leafHashes.length; i++) assertHash(leafHashes[i], `${fn} leafHashes[${i}]`);
}

/** MTH(D[start:end]) for a non-empty range (RFC 9162 §2.1.1). */
function mth(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leafHashes[start] as Uint8Array;
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(mth(leafHashes, start, start + k), mth(leafHashes, start + k, end));
}

/** PATH(m, D[start:end]) (RFC 9162 §2.1.3.1), m relative to start; bottom-most sibling first. */
function path(leafHashes: readonly Uint8Array[], m: number, start: number, end: number): Uint8Array[] {
  const n = end - start;
  if (n === 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...path(leafHashes, m, start, start + k), mth(leafHashes, start + k, end)];
  return [...path(leafHashes, m - k, start + k, end), mth(leafHashes, start, start + k)];
}

/** SUBPROOF(m, D[start:end], b) (RFC 9162 §2.1.4.1), m relative to start. */
function subproof(leafHashes: readonly Uint8Array[], m: number, start: number, end: number, b: boolean): Uint8Array[] {
  const n = end - start;
  // m == n: the old tree is this whole subtree; its root is only sent when the verifier can't know it.
  if (m === n) return b ? [] : [mth(leafHashes, start, end)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(leafHashes, m, start, start + k, b), mth(leafHashes, start + k, end)];
  return [...subproof(leafHashes, m - k, start + k, end, false), mth(leafHashes, start, start + k)];
}

/** MTH of the whole array; the empty tree's root is SHA-256() (RFC 9162 §2.1.1). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  assertLeafHashes(leafHashes, "rootFromLeafHashes");
  return leafHashes.length === 0 ? emptyRoot() : mth(leafHashes, 0, leafHashes.length).slice();
}

/** The RFC 9162 §2.1.3.1 inclusion path for leaf `index` in the tree of size leafHashes.length. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Uint8Array[] {
  assertLeafHashes(leafHashes, "inclusionProof");
  assertSafeUint(index, "inclusionProof index");
  if (index >= leafHashes.length) {
    throw new MerkleProofError("INDEX_OUT_OF_RANGE", `inclusionProof: index ${index} is not < tree size ${leafHashes.length}`);
  }
  return path(leafHashes, index, 0, leafHashes.length).map((h) => h.slice());
}

/** The RFC 9162 §2.1.4.1 consistency proof from the first `oldSize` leaves to all of them. */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number): Uint8Array[] {
  assertLeafHashes(leafHashes, "consistencyProof");
  assertSafeUint(oldSize, "consistencyProof oldSize");
  if (oldSize === 0) {
    throw new MerkleProofError("SIZE_ZERO_CONSISTENCY", "consistencyProof: oldSize is 0; a proof from the empty tree proves nothing");
  }
  if (oldSize > leafHashes.length) {
    throw new MerkleProofError("SIZE_ORDER", `consistencyProof: oldSize ${oldSize} is > tree size ${leafHashes.length}`);
  }
  return subproof(leafHashes, oldSize, 0, leafHashes.length, true).map((h) => h.slice());
}

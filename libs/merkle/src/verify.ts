import { MerkleProofError } from "./errors.js";
import { assertHash, bytesEqual } from "./hash.js";
import { toHex } from "@custody/encoding";
import { assertSafeUint, bitLength, isPowerOfTwo, popCount, shiftRight, trailingZeros, xor } from "./integers.js";
import { rfcRootFromInclusionPath, rfcRootsFromConsistencyPath } from "./rfc9162.js";

/*
 * Attacker-facing verification. Every input is checked for type and shape before any hashing, in
 * a fixed order: integers, the caller's hashes, the proof's length (so an oversized proof costs
 * O(1) to reject), then each proof hash. The RFC loops only ever see well-formed input.
 * Failure is reported by throwing MerkleProofError; there is deliberately no boolean variant, so a
 * caller cannot forget to look at the result.
 *
 * The proof authenticates a leaf (or an old tree) against a root, not the tree size: with the same
 * root, a different claimed size with the same path shape also verifies. Callers must take size
 * and root together from one verified checkpoint (an RFC 9162 signed tree head).
 */

function assertProofArray(proof: unknown, what: string): asserts proof is readonly unknown[] {
  if (!Array.isArray(proof)) {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `${what}: expected an array of hashes, got ${proof === null ? "null" : typeof proof}`);
  }
}

function assertProofHashes(proof: readonly unknown[], what: string): asserts proof is readonly Uint8Array[] {
  for (let i = 0; i < proof.length; i++) assertHash(proof[i], `${what}[${i}]`);
}

function assertRange(index: number, treeSize: number, what: string): void {
  if (index >= treeSize) {
    throw new MerkleProofError("INDEX_OUT_OF_RANGE", `${what}: leaf index ${index} is not < tree size ${treeSize}`);
  }
}

function assertSizeOrder(size1: number, size2: number, what: string): void {
  if (size1 > size2) throw new MerkleProofError("SIZE_ORDER", `${what}: size1 ${size1} is > size2 ${size2}`);
  if (size1 === 0) {
    throw new MerkleProofError("SIZE_ZERO_CONSISTENCY", `${what}: size1 is 0; every tree is consistent with the empty tree, so such a proof proves nothing`);
  }
}

function assertProofLength(proof: readonly unknown[], expected: number, what: string): void {
  if (proof.length !== expected) {
    throw new MerkleProofError("WRONG_PROOF_SIZE", `${what}: expected ${expected} hashes, got ${proof.length}`);
  }
}

function assertRootMatches(computed: Uint8Array, expected: Uint8Array, what: string): void {
  if (!bytesEqual(computed, expected)) {
    throw new MerkleProofError("ROOT_MISMATCH", `${what}: computed root ${toHex(computed)} does not match expected ${toHex(expected)}`);
  }
}

/**
 * Proof length implied by the sizes alone: the path from leaf `index` to the root has `inner`
 * levels below the point where it leaves the path to leaf size-1, and above that point one
 * sibling per left turn (a set bit of index). Same decomposition as the RFC 9162 §2.1.3.2 loop.
 */
function inclusionSplit(index: number, treeSize: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, treeSize - 1));
  return { inner, border: popCount(shiftRight(index, inner)) };
}

/** Number of hashes in the inclusion proof for leaf `index` of a tree of `treeSize` leaves. */
export function inclusionProofLength(index: number, treeSize: number): number {
  assertSafeUint(index, "inclusionProofLength index");
  assertSafeUint(treeSize, "inclusionProofLength treeSize");
  assertRange(index, treeSize, "inclusionProofLength");
  const { inner, border } = inclusionSplit(index, treeSize);
  return inner + border;
}

/** Number of hashes in the consistency proof from size1 to size2 (0 when they are equal). */
export function consistencyProofLength(size1: number, size2: number): number {
  assertSafeUint(size1, "consistencyProofLength size1");
  assertSafeUint(size2, "consistencyProofLength size2");
  assertSizeOrder(size1, size2, "consistencyProofLength");
  if (size1 === size2) return 0;
  // The proof is the inclusion proof of leaf size1-1 cut off below the largest perfect subtree the
  // old tree ends with (whose root is level `shift`), plus that subtree's root unless it is the
  // whole old tree (RFC 9162 §2.1.4.2 step 2).
  const { inner, border } = inclusionSplit(size1 - 1, size2);
  const shift = trailingZeros(size1);
  return (isPowerOfTwo(size1) ? 0 : 1) + inner - shift + border;
}

/** `trusted` lists the caller's roots, shape-checked with the other inputs before any hashing. */
function checkedInclusionRoot(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], trusted: ReadonlyArray<readonly [unknown, string]>, what: string): Uint8Array {
  assertSafeUint(index, `${what} index`);
  assertSafeUint(treeSize, `${what} treeSize`);
  assertHash(leafHash, `${what} leafHash`);
  for (const [hash, name] of trusted) assertHash(hash, `${what} ${name}`);
  assertProofArray(proof, `${what} proof`);
  assertRange(index, treeSize, what);
  const { inner, border } = inclusionSplit(index, treeSize);
  assertProofLength(proof, inner + border, `${what} for leaf ${index} in tree size ${treeSize}`);
  assertProofHashes(proof, `${what} proof`);
  return rfcRootFromInclusionPath(leafHash, index, treeSize, proof);
}

/**
 * The root a tree of `treeSize` leaves must have if `proof` is leaf `index`'s inclusion proof
 * (RFC 9162 §2.1.3.2 without the final comparison). Useful when the trusted root arrives later;
 * otherwise use verifyInclusion.
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Uint8Array {
  return checkedInclusionRoot(leafHash, index, treeSize, proof, [], "rootFromInclusionProof");
}

/** Throws MerkleProofError unless `proof` proves `leafHash` is leaf `index` of the tree with `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusion(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  const computed = checkedInclusionRoot(leafHash, index, treeSize, proof, [[root, "root"]], "verifyInclusion");
  assertRootMatches(computed, root, `verifyInclusion for leaf ${index} in tree size ${treeSize}`);
}

function checkedConsistencyRoot(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, trusted: ReadonlyArray<readonly [unknown, string]>, what: string): Uint8Array {
  assertSafeUint(size1, `${what} size1`);
  assertSafeUint(size2, `${what} size2`);
  assertHash(root1, `${what} root1`);
  for (const [hash, name] of trusted) assertHash(hash, `${what} ${name}`);
  assertProofArray(proof, `${what} proof`);
  assertSizeOrder(size1, size2, what);
  assertProofLength(proof, consistencyProofLength(size1, size2), `${what} from size ${size1} to ${size2}`);
  assertProofHashes(proof, `${what} proof`);
  // Equal sizes: nothing to prove beyond the roots being the same tree head.
  if (size1 === size2) return root1.slice();
  const { firstRoot, secondRoot } = rfcRootsFromConsistencyPath(size1, size2, proof, root1);
  assertRootMatches(firstRoot, root1, `${what}: root1 for size ${size1}`);
  return secondRoot;
}

/**
 * Checks `proof` against `root1` and returns the root the tree of `size2` leaves must have
 * (RFC 9162 §2.1.4.2 without the final second_hash comparison).
 */
export function rootFromConsistencyProof(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array): Uint8Array {
  return checkedConsistencyRoot(size1, size2, proof, root1, [], "rootFromConsistencyProof");
}

/** Throws MerkleProofError unless `proof` shows the tree (size2, root2) extends the tree (size1, root1) (RFC 9162 §2.1.4.2). */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  const computed = checkedConsistencyRoot(size1, size2, proof, root1, [[root2, "root2"]], "verifyConsistency");
  assertRootMatches(computed, root2, `verifyConsistency: root2 for size ${size2}`);
}

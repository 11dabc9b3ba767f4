import { MerkleProofError } from "./errors.js";
import { assertHash, emptyRoot, nodeHash } from "./hash.js";
import { assertSafeUint, bitLength, smallestPowerOfTwoAtLeast } from "./integers.js";

/**
 * The perfect subtree covering leaves [index·2^level, (index+1)·2^level); level 0 is a leaf hash.
 * Once a tree has that many leaves the node's hash is fixed forever (RFC 9162 logs are append-only),
 * which is what makes these ids safe primary keys for stored hashes.
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A NodeId with its hash, as the sequencer stores it. */
export interface StoredNode extends NodeId {
  readonly hash: Uint8Array;
}

/** A stable string key for maps and SQL `IN` lists: "level:index". */
export function nodeKey(id: NodeId): string {
  return `${id.level}:${id.index}`;
}

/** Throws unless `id` names a node whose leaf range fits in safe integers. */
export function assertNodeId(id: unknown, what: string): asserts id is NodeId {
  if (typeof id !== "object" || id === null) {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `${what}: expected {level, index}, got ${id === null ? "null" : typeof id}`);
  }
  const { level, index } = id as Record<string, unknown>;
  assertSafeUint(level, `${what}.level`);
  assertSafeUint(index, `${what}.index`);
  // Its leaf range must end within a tree size a number can hold exactly.
  if ((index + 1) * 2 ** level > Number.MAX_SAFE_INTEGER) {
    throw new MerkleProofError("BAD_INTEGER", `${what}: node {level:${level}, index:${index}} ends past leaf 2^53 - 1`);
  }
}

/**
 * The perfect subtrees, left to right and strictly decreasing in size, whose concatenation is the
 * leaf range [start, end). Only ranges the RFC 9162 §2.1.1 recursion produces are accepted: those
 * start on a multiple of the smallest power of two >= their length. For any other range the pieces
 * would still exist but their fold would not be a hash that appears in any RFC tree or proof.
 */
export function perfectDecomposition(start: number, end: number): NodeId[] {
  assertSafeUint(start, "perfectDecomposition start");
  assertSafeUint(end, "perfectDecomposition end");
  if (start >= end) throw new MerkleProofError("BAD_RANGE", `perfectDecomposition: range [${start}, ${end}) is empty`);
  const span = smallestPowerOfTwoAtLeast(end - start);
  if (start % span !== 0) {
    throw new MerkleProofError("BAD_RANGE", `perfectDecomposition: [${start}, ${end}) is not an RFC 9162 subtree: start must be a multiple of ${span}`);
  }
  const out: NodeId[] = [];
  let pos = start;
  // Each piece is the largest power of two that still fits: the RFC split point k of §2.1.1.
  for (let size = span, level = bitLength(span) - 1; pos < end; size /= 2, level--) {
    if (end - pos >= size) {
      out.push({ level, index: pos / size });
      pos += size;
    }
  }
  return out;
}

/**
 * MTH of a range from the hashes of its perfectDecomposition, in the same order. MTH(D[a:b]) is
 * nodeHash(left perfect part, MTH(rest)) by RFC 9162 §2.1.1, hence a right fold. The empty list
 * gives MTH({}) = SHA-256(), matching rootPlan(0) = [].
 */
export function hashFromDecomposition(hashes: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(hashes)) {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `hashFromDecomposition: expected an array of hashes, got ${typeof hashes}`);
  }
  for (let i = 0; i < hashes.length; i++) assertHash(hashes[i], `hashFromDecomposition hashes[${i}]`);
  if (hashes.length === 0) return emptyRoot();
  let acc = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i] as Uint8Array, acc);
  return hashes.length === 1 ? acc.slice() : acc;
}

import { MerkleProofError } from "./errors.js";
import { nodeHash } from "./hash.js";
import { half, isOdd, isPowerOfTwo } from "./integers.js";

/*
 * Literal transcriptions of the RFC 9162 verification loops, kept separate from verify.ts so they
 * can be read side by side with the RFC text. Callers must already have checked types, hash sizes
 * and the size preconditions; verify.ts does, and additionally rejects a proof of the wrong length
 * before any hashing. The loops' own `sn` checks are kept anyway: they are the RFC's length check,
 * and keeping both means a bug in either length computation still cannot make a bad proof pass.
 */

function tooLong(what: string): MerkleProofError {
  return new MerkleProofError("WRONG_PROOF_SIZE", `${what}: proof has more hashes than the tree sizes allow`);
}

function tooShort(what: string): MerkleProofError {
  return new MerkleProofError("WRONG_PROOF_SIZE", `${what}: proof has fewer hashes than the tree sizes require`);
}

/** RFC 9162 §2.1.3.2 steps 2-5, returning r (the caller compares it with root_hash). Needs index < treeSize. */
export function rfcRootFromInclusionPath(leafHash: Uint8Array, index: number, treeSize: number, inclusionPath: readonly Uint8Array[]): Uint8Array {
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of inclusionPath) {
    if (sn === 0) throw tooLong("inclusion proof");
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      // fn == sn on an even fn: we are the last node of a level with no right sibling, so climb
      // until we are a right child again.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw tooShort("inclusion proof");
  return r;
}

/**
 * RFC 9162 §2.1.4.2 steps 1-7, returning (fr, sr) for the caller to compare with first_hash and
 * second_hash. Needs 0 < first < second.
 */
export function rfcRootsFromConsistencyPath(first: number, second: number, consistencyPath: readonly Uint8Array[], firstHash: Uint8Array): { firstRoot: Uint8Array; secondRoot: Uint8Array } {
  if (consistencyPath.length === 0) throw tooShort("consistency proof");
  // Step 2: when the old tree is a perfect subtree of the new one, its root is the proof's seed and
  // the prover leaves it out.
  const path = isPowerOfTwo(first) ? [firstHash, ...consistencyPath] : consistencyPath;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) throw tooLong("consistency proof");
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw tooShort("consistency proof");
  return { firstRoot: fr, secondRoot: sr };
}

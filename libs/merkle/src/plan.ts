import { MerkleProofError } from "./errors.js";
import { assertHash } from "./hash.js";
import { assertSafeUint, largestPowerOfTwoBelow } from "./integers.js";
import { assertNodeId, hashFromDecomposition, nodeKey, perfectDecomposition, type NodeId } from "./nodeid.js";

/*
 * Proofs as lists of stored nodes. Every proof element and root in RFC 9162 is the MTH of a range
 * produced by the §2.1.1 recursion, so it is a fold over that range's perfect subtrees (nodeid.ts).
 * At most one element of a proof covers a non-perfect range (the first right sibling taken while
 * still on the tree's right edge; below that every range is perfect), so a plan names O(log n)
 * nodes and a sequencer can answer any proof from one indexed read.
 */

/** For each element of the RFC 9162 §2.1.3.1 inclusion path of leaf `index`, the nodes that fold into it. */
export function inclusionProofPlan(index: number, size: number): NodeId[][] {
  assertSafeUint(index, "inclusionProofPlan index");
  assertSafeUint(size, "inclusionProofPlan size");
  if (index >= size) throw new MerkleProofError("INDEX_OUT_OF_RANGE", `inclusionProofPlan: index ${index} is not < tree size ${size}`);
  const out: NodeId[][] = [];
  // PATH(m, D[start:end]) = PATH(sub-range holding m) : MTH(other sub-range); bottom-up order.
  const walk = (start: number, end: number): void => {
    if (end - start === 1) return;
    const mid = start + largestPowerOfTwoBelow(end - start);
    if (index < mid) {
      walk(start, mid);
      out.push(perfectDecomposition(mid, end));
    } else {
      walk(mid, end);
      out.push(perfectDecomposition(start, mid));
    }
  };
  walk(0, size);
  return out;
}

/** For each element of the RFC 9162 §2.1.4.1 consistency proof from oldSize to newSize, the nodes that fold into it. */
export function consistencyProofPlan(oldSize: number, newSize: number): NodeId[][] {
  assertSafeUint(oldSize, "consistencyProofPlan oldSize");
  assertSafeUint(newSize, "consistencyProofPlan newSize");
  if (oldSize > newSize) throw new MerkleProofError("SIZE_ORDER", `consistencyProofPlan: oldSize ${oldSize} is > newSize ${newSize}`);
  if (oldSize === 0) {
    throw new MerkleProofError("SIZE_ZERO_CONSISTENCY", "consistencyProofPlan: oldSize is 0; a proof from the empty tree proves nothing");
  }
  const out: NodeId[][] = [];
  // SUBPROOF(m, D[start:end], b), with m = oldSize - start.
  const walk = (start: number, end: number, b: boolean): void => {
    if (oldSize === end) {
      // The old tree ends exactly here; send this subtree's root unless the verifier already has it (b).
      if (!b) out.push(perfectDecomposition(start, end));
      return;
    }
    const mid = start + largestPowerOfTwoBelow(end - start);
    if (oldSize <= mid) {
      walk(start, mid, b);
      out.push(perfectDecomposition(mid, end));
    } else {
      walk(mid, end, false);
      out.push(perfectDecomposition(start, mid));
    }
  };
  walk(0, newSize, true);
  return out;
}

/** The perfect subtrees whose right fold is the root of a tree of `size` leaves; [] for the empty tree. */
export function rootPlan(size: number): NodeId[] {
  assertSafeUint(size, "rootPlan size");
  return size === 0 ? [] : perfectDecomposition(0, size);
}

/**
 * Every node named anywhere in `plan`, once, sorted by (level, index), so a caller can fetch them
 * with one query. To include a root, pass e.g. `[...inclusionProofPlan(i, n), rootPlan(n)]`.
 */
export function uniqueNodeIds(plan: ReadonlyArray<readonly NodeId[]>): NodeId[] {
  if (!Array.isArray(plan)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `uniqueNodeIds: expected an array of node-id arrays, got ${typeof plan}`);
  const seen = new Map<string, NodeId>();
  plan.forEach((element, i) => {
    if (!Array.isArray(element)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `uniqueNodeIds plan[${i}]: expected an array of node ids, got ${typeof element}`);
    element.forEach((id, j) => {
      assertNodeId(id, `uniqueNodeIds plan[${i}][${j}]`);
      const key = nodeKey(id);
      if (!seen.has(key)) seen.set(key, { level: id.level, index: id.index });
    });
  });
  return [...seen.values()].sort((a, b) => a.level - b.level || a.index - b.index);
}

/**
 * Turns a plan into proof hashes using stored nodes. `lookup` may return undefined for a node it
 * does not have (e.g. Map.get), which is reported as MISSING_NODE rather than producing a proof
 * that merely fails to verify later.
 */
export function assembleProof(plan: ReadonlyArray<readonly NodeId[]>, lookup: (id: NodeId) => Uint8Array | undefined): Uint8Array[] {
  if (!Array.isArray(plan)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `assembleProof: expected an array of node-id arrays, got ${typeof plan}`);
  if (typeof lookup !== "function") throw new MerkleProofError("BAD_ARGUMENT_TYPE", `assembleProof: expected a lookup function, got ${typeof lookup}`);
  return plan.map((element, i) => {
    if (!Array.isArray(element)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `assembleProof plan[${i}]: expected an array of node ids, got ${typeof element}`);
    const hashes = element.map((id, j) => {
      assertNodeId(id, `assembleProof plan[${i}][${j}]`);
      const hash = lookup(id);
      if (hash === undefined) throw new MerkleProofError("MISSING_NODE", `assembleProof: node {level:${id.level}, index:${id.index}} not found`);
      assertHash(hash, `assembleProof: node {level:${id.level}, index:${id.index}}`);
      return hash;
    });
    return hashFromDecomposition(hashes);
  });
}

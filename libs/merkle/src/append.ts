import { MerkleProofError } from "./errors.js";
import { assertHash, nodeHash } from "./hash.js";
import { assertSafeUint } from "./integers.js";
import { assertNodeId, hashFromDecomposition, type StoredNode } from "./nodeid.js";
import { rootPlan } from "./plan.js";

export interface AppendResult {
  /** Every perfect node completed by this append (leaves included), in completion order; each is final and may be stored forever. */
  readonly newNodes: StoredNode[];
  /** The perfect-subtree roots of the new tree, i.e. rootPlan(size) with hashes. */
  readonly frontier: StoredNode[];
  readonly size: number;
  /** MTH of the new tree (RFC 9162 §2.1.1). */
  readonly root: Uint8Array;
}

function show(id: { level: number; index: number }): string {
  return `{level:${id.level}, index:${id.index}}`;
}

/**
 * Appends leaf hashes to a tree known only by its frontier. Works like a binary counter: a new
 * leaf is a level-0 perfect subtree, and two perfect subtrees of the same level merge into their
 * parent (RFC 9162 §2.1.1: a perfect range splits exactly in half). O(k + log n) hashes for k
 * leaves. Pure: inputs are not modified.
 */
export function appendLeaves(frontier: readonly StoredNode[], size: number, newLeafHashes: readonly Uint8Array[]): AppendResult {
  assertSafeUint(size, "appendLeaves size");
  if (!Array.isArray(frontier)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `appendLeaves: expected a frontier array, got ${typeof frontier}`);
  if (!Array.isArray(newLeafHashes)) throw new MerkleProofError("BAD_ARGUMENT_TYPE", `appendLeaves: expected an array of leaf hashes, got ${typeof newLeafHashes}`);
  if (size + newLeafHashes.length > Number.MAX_SAFE_INTEGER) {
    throw new MerkleProofError("BAD_INTEGER", `appendLeaves: size ${size} + ${newLeafHashes.length} leaves exceeds 2^53 - 1`);
  }
  // A wrong frontier would silently produce wrong "final" nodes that get stored forever, so it must
  // be exactly the node set rootPlan(size) names.
  const expected = rootPlan(size);
  if (frontier.length !== expected.length) {
    throw new MerkleProofError("BAD_FRONTIER", `appendLeaves: a tree of size ${size} has ${expected.length} frontier nodes, got ${frontier.length}`);
  }
  expected.forEach((want, i) => {
    const got = frontier[i];
    assertNodeId(got, `appendLeaves frontier[${i}]`);
    if (got.level !== want.level || got.index !== want.index) {
      throw new MerkleProofError("BAD_FRONTIER", `appendLeaves: frontier[${i}] is ${show(got)}, expected ${show(want)} for size ${size}`);
    }
    assertHash((got as Partial<StoredNode>).hash, `appendLeaves frontier[${i}].hash`);
  });
  newLeafHashes.forEach((h, i) => {
    assertHash(h, `appendLeaves newLeafHashes[${i}]`);
  });

  const stack: StoredNode[] = frontier.map((n) => ({ level: n.level, index: n.index, hash: n.hash }));
  const newNodes: StoredNode[] = [];
  let position = size;
  for (const leaf of newLeafHashes) {
    let node: StoredNode = { level: 0, index: position++, hash: leaf.slice() };
    newNodes.push(node);
    for (let top = stack[stack.length - 1]; top !== undefined && top.level === node.level; top = stack[stack.length - 1]) {
      stack.pop();
      node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
      newNodes.push(node);
    }
    stack.push(node);
  }
  return { newNodes, frontier: stack, size: position, root: hashFromDecomposition(stack.map((n) => n.hash)) };
}

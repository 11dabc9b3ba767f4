import { describe, expect, it } from "vitest";
import { assembleProof, consistencyProofPlan, inclusionProofPlan, rootPlan, uniqueNodeIds } from "./plan.js";
import { nodeKey, type NodeId } from "./nodeid.js";
import { toHex } from "@custody/encoding";
import { bytes, expectMerkleError } from "./expect.fixture.js";
import { vectorNodes, vectors } from "./vectors.fixture.js";

const lookup = (id: NodeId): Uint8Array | undefined => vectorNodes.get(nodeKey(id));
const MAX = Number.MAX_SAFE_INTEGER;

describe("proof plans", () => {
  it("name the nodes of an inclusion path, bottom-up", () => {
    expect(inclusionProofPlan(5, 8)).toEqual([[{ level: 0, index: 4 }], [{ level: 1, index: 3 }], [{ level: 2, index: 0 }]]);
    // Leaf 0 of 7: the last sibling is MTH(D[4:7]), a non-perfect range of two stored nodes.
    expect(inclusionProofPlan(0, 7)).toEqual([
      [{ level: 0, index: 1 }],
      [{ level: 1, index: 1 }],
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(inclusionProofPlan(0, 1)).toEqual([]);
  });

  it("name the nodes of a consistency proof", () => {
    expect(consistencyProofPlan(6, 8)).toEqual([[{ level: 1, index: 2 }], [{ level: 1, index: 3 }], [{ level: 2, index: 0 }]]);
    expect(consistencyProofPlan(4, 8)).toEqual([[{ level: 2, index: 1 }]]);
    expect(consistencyProofPlan(5, 5)).toEqual([]);
  });

  it("assemble into the vector proofs and roots", () => {
    for (const v of vectors.inclusion) {
      expect(assembleProof(inclusionProofPlan(v.leaf_index, v.tree_size), lookup).map(toHex)).toEqual(v.proof);
    }
    for (const v of vectors.consistency) {
      expect(assembleProof(consistencyProofPlan(v.size1, v.size2), lookup).map(toHex)).toEqual(v.proof);
    }
    for (let n = 0; n <= 8; n++) expect(toHex(assembleProof([rootPlan(n)], lookup)[0] as Uint8Array)).toBe(n === 0 ? vectors.empty_root : vectors.roots[String(n)]);
  });

  it("stay O(log n) at 2^53 - 1", () => {
    const total = (plan: NodeId[][]): number => plan.reduce((sum, e) => sum + e.length, 0);
    expect(total(inclusionProofPlan(0, MAX))).toBeLessThanOrEqual(2 * 53);
    expect(total(consistencyProofPlan(3, MAX))).toBeLessThanOrEqual(2 * 53);
    expect(rootPlan(MAX)).toHaveLength(53);
  });

  it("reject bad sizes", () => {
    expectMerkleError(() => inclusionProofPlan(8, 8), "INDEX_OUT_OF_RANGE", "inclusionProofPlan: index 8 is not < tree size 8");
    expectMerkleError(() => inclusionProofPlan(0, 0), "INDEX_OUT_OF_RANGE");
    expectMerkleError(() => inclusionProofPlan(0, 1.5), "BAD_INTEGER");
    expectMerkleError(() => consistencyProofPlan(0, 8), "SIZE_ZERO_CONSISTENCY");
    expectMerkleError(() => consistencyProofPlan(9, 8), "SIZE_ORDER", "consistencyProofPlan: oldSize 9 is > newSize 8");
    expectMerkleError(() => rootPlan(-1), "BAD_INTEGER", "rootPlan size: expected a non-negative safe integer, got -1");
  });
});

describe("uniqueNodeIds", () => {
  it("deduplicates and sorts by (level, index)", () => {
    const plan = [...inclusionProofPlan(0, 7), rootPlan(7), [{ level: 0, index: 1 }]];
    expect(uniqueNodeIds(plan)).toEqual([
      { level: 0, index: 1 },
      { level: 0, index: 6 },
      { level: 1, index: 1 },
      { level: 1, index: 2 },
      { level: 2, index: 0 },
    ]);
    expect(uniqueNodeIds([])).toEqual([]);
  });

  it("rejects malformed plans", () => {
    expectMerkleError(() => uniqueNodeIds([[{ level: -1, index: 0 }]]), "BAD_INTEGER", "uniqueNodeIds plan[0][0].level: expected a non-negative safe integer, got -1");
    expectMerkleError(() => uniqueNodeIds([{ level: 0, index: 0 }] as unknown as NodeId[][]), "BAD_ARGUMENT_TYPE", "uniqueNodeIds plan[0]: expected an array of node ids, got object");
    expectMerkleError(() => uniqueNodeIds("x" as unknown as NodeId[][]), "BAD_ARGUMENT_TYPE");
  });
});

describe("assembleProof", () => {
  it("MISSING_NODE: the lookup has no hash for a planned node", () => {
    expectMerkleError(() => assembleProof(inclusionProofPlan(0, 16), lookup), "MISSING_NODE", "assembleProof: node {level:3, index:1} not found");
  });

  it("BAD_HASH_SIZE: the lookup returns a malformed hash", () => {
    expectMerkleError(() => assembleProof([[{ level: 0, index: 0 }]], () => bytes(31)), "BAD_HASH_SIZE", "assembleProof: node {level:0, index:0}: expected 32-byte hash, got length=31");
    expectMerkleError(() => assembleProof([[{ level: 0, index: 0 }]], () => null as unknown as Uint8Array), "BAD_ARGUMENT_TYPE");
  });

  it("rejects malformed plans and lookups", () => {
    expectMerkleError(() => assembleProof([[{ level: 0, index: -2 }]], lookup), "BAD_INTEGER");
    expectMerkleError(() => assembleProof([null] as unknown as NodeId[][], lookup), "BAD_ARGUMENT_TYPE", "assembleProof plan[0]: expected an array of node ids, got object");
    expectMerkleError(() => assembleProof({} as unknown as NodeId[][], lookup), "BAD_ARGUMENT_TYPE");
    expectMerkleError(() => assembleProof([], vectorNodes as unknown as (id: NodeId) => Uint8Array), "BAD_ARGUMENT_TYPE", "assembleProof: expected a lookup function, got object");
  });
});

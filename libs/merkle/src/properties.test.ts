import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MerkleProofError, type MerkleErrorCode } from "./errors.js";
import { leafHash } from "./hash.js";
import { bitLength, popCount } from "./integers.js";
import { appendLeaves } from "./append.js";
import { nodeKey, perfectDecomposition, type NodeId, type StoredNode } from "./nodeid.js";
import { assembleProof, consistencyProofPlan, inclusionProofPlan, rootPlan, uniqueNodeIds } from "./plan.js";
import { consistencyProof, inclusionProof, rootFromLeafHashes } from "./reference.js";
import { rfcRootFromInclusionPath, rfcRootsFromConsistencyPath } from "./rfc9162.js";
import { consistencyProofLength, inclusionProofLength, rootFromConsistencyProof, rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./verify.js";
import { bytes, expectSameHashes, expectSameNodes, flipBit } from "./expect.fixture.js";

/*
 * Property tests on random trees of up to 2,000 leaves. numRuns are sized so the whole file stays
 * well under 10 s on two cores; sizes are biased towards powers of two and their neighbours, where
 * off-by-one errors in the RFC 9162 split live.
 */

const MAX_LEAVES = 2000;
const MAX = Number.MAX_SAFE_INTEGER;

const sizeArb = (max = MAX_LEAVES): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 1, max }),
    fc.integer({ min: 1, max: Math.min(40, max) }),
    fc
      .integer({ min: 0, max: Math.floor(Math.log2(max)) })
      .chain((k) => fc.constantFrom(2 ** k - 1, 2 ** k, 2 ** k + 1))
      .filter((n) => n >= 1 && n <= max),
  );

/** Distinct leaf hashes, different per seed. */
function makeLeaves(seed: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(leafHash(new TextEncoder().encode(`${seed}/${i}`)));
  return out;
}

function codeOf(run: () => unknown): MerkleErrorCode | "accepted" {
  try {
    run();
    return "accepted";
  } catch (err) {
    if (!(err instanceof MerkleProofError)) throw err;
    return err.code;
  }
}

/** A different value in [1, max] (max >= 2). */
const otherThan = (value: number, pick: number, max: number): number => 1 + ((value - 1 + 1 + (pick % (max - 1))) % max);

describe("inclusion proofs (RFC 9162 §2.1.3)", () => {
  it("verify, and fail on any bit flip or changed index/size", () => {
    fc.assert(
      fc.property(fc.nat(), sizeArb(), fc.nat(), fc.nat({ max: 255 }), fc.nat(), fc.nat(), (seed, n, pick, bit, pickIndex, pickSize) => {
        const size2 = otherThan(n, pickSize, MAX_LEAVES);
        const leaves = makeLeaves(seed, Math.max(n, size2));
        const tree = leaves.slice(0, n);
        const i = pick % n;
        const leaf = tree[i] as Uint8Array;
        const root = rootFromLeafHashes(tree);
        const proof = inclusionProof(tree, i);
        expect(proof).toHaveLength(inclusionProofLength(i, n));

        verifyInclusion(leaf, i, n, proof, root);
        expect(rootFromInclusionProof(leaf, i, n, proof)).toEqual(root);

        expect(codeOf(() => verifyInclusion(flipBit(leaf, bit), i, n, proof, root))).toBe("ROOT_MISMATCH");
        expect(codeOf(() => verifyInclusion(leaf, i, n, proof, flipBit(root, bit)))).toBe("ROOT_MISMATCH");
        proof.forEach((_, j) => {
          const tampered = proof.map((h, k) => (k === j ? flipBit(h, bit) : h));
          expect(codeOf(() => verifyInclusion(leaf, i, n, tampered, root))).toBe("ROOT_MISMATCH");
        });
        // One hash too many or too few, wherever it is.
        expect(codeOf(() => verifyInclusion(leaf, i, n, [...proof, leaf], root))).toBe("WRONG_PROOF_SIZE");
        expect(codeOf(() => verifyInclusion(leaf, i, n, [leaf, ...proof], root))).toBe("WRONG_PROOF_SIZE");
        if (proof.length > 0) {
          expect(codeOf(() => verifyInclusion(leaf, i, n, proof.slice(1), root))).toBe("WRONG_PROOF_SIZE");
          expect(codeOf(() => verifyInclusion(leaf, i, n, proof.slice(0, -1), root))).toBe("WRONG_PROOF_SIZE");
        }

        if (n > 1) {
          const j = (i + 1 + (pickIndex % (n - 1))) % n;
          expect(codeOf(() => verifyInclusion(leaf, j, n, proof, root))).not.toBe("accepted");
        }
        expect(codeOf(() => verifyInclusion(leaf, n + (pickIndex % 3), n, proof, root))).toBe("INDEX_OUT_OF_RANGE");
        // A changed size, checked against that size's real root (the tree head an attacker could
        // actually present). See verify.test.ts for why "same root, other size" is out of scope.
        const root2 = rootFromLeafHashes(leaves.slice(0, size2));
        expect(codeOf(() => verifyInclusion(leaf, i, size2, proof, root2))).not.toBe("accepted");
      }),
      { numRuns: 60 },
    );
  });
});

describe("consistency proofs (RFC 9162 §2.1.4)", () => {
  it("verify, and fail on any bit flip or changed size", () => {
    fc.assert(
      fc.property(fc.nat(), sizeArb(), fc.nat(), fc.nat({ max: 255 }), fc.nat(), fc.nat(), (seed, n, pick, bit, pick1, pick2) => {
        const m = 1 + (pick % n);
        const n2 = otherThan(n, pick2, MAX_LEAVES);
        const leaves = makeLeaves(seed, Math.max(n, n2));
        const tree = leaves.slice(0, n);
        const root1 = rootFromLeafHashes(tree.slice(0, m));
        const root2 = rootFromLeafHashes(tree);
        const proof = consistencyProof(tree, m);
        expect(proof).toHaveLength(consistencyProofLength(m, n));

        verifyConsistency(m, n, proof, root1, root2);
        expect(rootFromConsistencyProof(m, n, proof, root1)).toEqual(root2);

        expect(codeOf(() => verifyConsistency(m, n, proof, flipBit(root1, bit), root2))).toBe("ROOT_MISMATCH");
        expect(codeOf(() => verifyConsistency(m, n, proof, root1, flipBit(root2, bit)))).toBe("ROOT_MISMATCH");
        proof.forEach((_, j) => {
          const tampered = proof.map((h, k) => (k === j ? flipBit(h, bit) : h));
          expect(codeOf(() => verifyConsistency(m, n, tampered, root1, root2))).toBe("ROOT_MISMATCH");
        });
        expect(codeOf(() => verifyConsistency(m, n, [...proof, root1], root1, root2))).toBe("WRONG_PROOF_SIZE");
        expect(codeOf(() => verifyConsistency(m, n, [root1, ...proof], root1, root2))).toBe("WRONG_PROOF_SIZE");
        if (proof.length > 0) {
          expect(codeOf(() => verifyConsistency(m, n, proof.slice(1), root1, root2))).toBe("WRONG_PROOF_SIZE");
          expect(codeOf(() => verifyConsistency(m, n, proof.slice(0, -1), root1, root2))).toBe("WRONG_PROOF_SIZE");
        }

        // Changed sizes, each with that size's real root.
        if (n > 1) {
          const m2 = otherThan(m, pick1, n);
          const otherRoot1 = rootFromLeafHashes(tree.slice(0, m2));
          expect(codeOf(() => verifyConsistency(m2, n, proof, otherRoot1, root2))).not.toBe("accepted");
        }
        const otherRoot2 = rootFromLeafHashes(leaves.slice(0, n2));
        expect(codeOf(() => verifyConsistency(m, n2, proof, root1, otherRoot2))).not.toBe("accepted");
      }),
      { numRuns: 60 },
    );
  });
});

/** Appends `leaves` in the given batch sizes, storing every completed node in a Map. */
function buildStore(leaves: Uint8Array[], cuts: number[]): { store: Map<string, Uint8Array>; nodes: StoredNode[]; roots: Uint8Array[]; frontier: StoredNode[] } {
  const store = new Map<string, Uint8Array>();
  const nodes: StoredNode[] = [];
  const roots: Uint8Array[] = [];
  let state: { frontier: StoredNode[]; size: number } = { frontier: [], size: 0 };
  const bounds = [...new Set(cuts.map((c) => c % (leaves.length + 1)))].sort((a, b) => a - b);
  for (const end of [...bounds, leaves.length]) {
    const r = appendLeaves(state.frontier, state.size, leaves.slice(state.size, Math.max(end, state.size)));
    for (const node of r.newNodes) {
      if (store.has(nodeKey(node))) throw new Error(`node ${nodeKey(node)} completed twice`);
      store.set(nodeKey(node), node.hash);
    }
    nodes.push(...r.newNodes);
    roots.push(r.root);
    state = r;
  }
  return { store, nodes, roots, frontier: state.frontier };
}

describe("storage plans over appendLeaves' nodes", () => {
  it("assemble byte-identical proofs and roots, for the current and any earlier size", () => {
    fc.assert(
      fc.property(fc.nat(), sizeArb(), fc.array(fc.nat(), { maxLength: 4 }), fc.nat(), fc.nat(), fc.nat(), (seed, n, cuts, a, b, c) => {
        const leaves = makeLeaves(seed, n);
        const { store } = buildStore(leaves, cuts);
        const lookup = (id: NodeId): Uint8Array | undefined => store.get(nodeKey(id));
        // Nodes never change once complete, so the same store answers for any size <= n.
        for (const size of [n, 1 + (c % n)]) {
          const tree = leaves.slice(0, size);
          const i = a % size;
          const m = 1 + (b % size);
          const inclPlan = inclusionProofPlan(i, size);
          const consPlan = consistencyProofPlan(m, size);
          expect(assembleProof(inclPlan, lookup)).toEqual(inclusionProof(tree, i));
          expect(assembleProof(consPlan, lookup)).toEqual(consistencyProof(tree, m));
          expect(assembleProof([rootPlan(size)], lookup)).toEqual([rootFromLeafHashes(tree)]);
          const ids = uniqueNodeIds([...inclPlan, ...consPlan, rootPlan(size)]);
          for (const id of ids) expect(store.has(nodeKey(id))).toBe(true);
          // O(log n) reads: a bounded node count per proof, whatever the size.
          expect(uniqueNodeIds(inclPlan).length).toBeLessThanOrEqual(2 * bitLength(size));
          expect(uniqueNodeIds(consPlan).length).toBeLessThanOrEqual(2 * bitLength(size));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("appending in any batch split yields the same nodes, frontier and roots as one batch", () => {
    fc.assert(
      fc.property(fc.nat(), sizeArb(), fc.array(fc.nat(), { maxLength: 8 }), (seed, n, cuts) => {
        const leaves = makeLeaves(seed, n);
        const whole = buildStore(leaves, []);
        const split = buildStore(leaves, cuts);
        expectSameNodes(split.nodes, whole.nodes);
        expectSameNodes(split.frontier, whole.frontier, "frontier");
        expect(split.roots.at(-1)).toEqual(whole.roots[0]);
        expect(whole.roots[0]).toEqual(rootFromLeafHashes(leaves));
        // A tree of n leaves has exactly 2n - popcount(n) perfect subtrees.
        expect(whole.nodes).toHaveLength(2 * n - popCount(n));
        // Intermediate roots are the roots of their prefixes (two checked: each costs O(n) hashes).
        const bounds = [...new Set(cuts.map((c) => c % (n + 1)))].sort((x, y) => x - y);
        bounds.slice(0, 2).forEach((end, k) => {
          expect(split.roots[k]).toEqual(rootFromLeafHashes(leaves.slice(0, end)));
        });
      }),
      { numRuns: 30 },
    );
  });

  it("every stored node hash is the MTH of its leaf range", () => {
    fc.assert(
      fc.property(fc.nat(), sizeArb(300), (seed, n) => {
        const leaves = makeLeaves(seed, n);
        const { nodes } = buildStore(leaves, []);
        const expected = nodes.map((node) => {
          const width = 2 ** node.level;
          return rootFromLeafHashes(leaves.slice(node.index * width, (node.index + 1) * width));
        });
        expectSameHashes(
          nodes.map((n) => n.hash),
          expected,
        );
      }),
      { numRuns: 15 },
    );
  });
});

describe("size arithmetic up to 2^53 - 1 (no hashing of real trees)", () => {
  const bigSize = fc.oneof(
    fc.integer({ min: 1, max: MAX }),
    fc.integer({ min: 0, max: 53 }).map((k) => Math.min(MAX, Math.max(1, 2 ** k + (k % 3) - 1))),
  );

  it("proof lengths, plans and the RFC loops agree", () => {
    const dummy = bytes(32, 7);
    fc.assert(
      fc.property(bigSize, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, u, v) => {
        const i = Math.min(n - 1, Math.floor(u * n));
        const m = Math.min(n, 1 + Math.floor(v * n));
        const inclLen = inclusionProofLength(i, n);
        const inclPlan = inclusionProofPlan(i, n);
        expect(inclPlan).toHaveLength(inclLen);
        const path = Array.from({ length: inclLen }, () => dummy);
        expect(() => rfcRootFromInclusionPath(dummy, i, n, path)).not.toThrow();
        expect(codeOf(() => rfcRootFromInclusionPath(dummy, i, n, [...path, dummy]))).toBe("WRONG_PROOF_SIZE");
        if (inclLen > 0) expect(codeOf(() => rfcRootFromInclusionPath(dummy, i, n, path.slice(1)))).toBe("WRONG_PROOF_SIZE");

        const consLen = consistencyProofLength(m, n);
        const consPlan = consistencyProofPlan(m, n);
        expect(consPlan).toHaveLength(consLen);
        if (m < n) {
          const cpath = Array.from({ length: consLen }, () => dummy);
          expect(() => rfcRootsFromConsistencyPath(m, n, cpath, dummy)).not.toThrow();
          expect(codeOf(() => rfcRootsFromConsistencyPath(m, n, [...cpath, dummy], dummy))).toBe("WRONG_PROOF_SIZE");
          expect(codeOf(() => rfcRootsFromConsistencyPath(m, n, cpath.slice(1), dummy))).toBe("WRONG_PROOF_SIZE");
        }

        for (const plan of [inclPlan, consPlan]) {
          expect(plan.reduce((sum, e) => sum + e.length, 0)).toBeLessThanOrEqual(2 * bitLength(n));
          for (const element of plan) {
            // Each element is a contiguous run of perfect nodes inside [0, n), largest first.
            let pos = (element[0]?.index ?? 0) * 2 ** (element[0]?.level ?? 0);
            const start = pos;
            for (const id of element) {
              expect(id.index * 2 ** id.level).toBe(pos);
              pos += 2 ** id.level;
            }
            expect(pos).toBeLessThanOrEqual(n);
            expect(perfectDecomposition(start, pos)).toEqual(element);
          }
        }
        const root = rootPlan(n);
        expect(root.reduce((sum, id) => sum + 2 ** id.level, 0)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });
});

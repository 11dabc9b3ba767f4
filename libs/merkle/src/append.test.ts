import { describe, expect, it } from "vitest";
import { appendLeaves } from "./append.js";
import { nodeKey, type StoredNode } from "./nodeid.js";
import { rootPlan } from "./plan.js";
import { toHex } from "@custody/encoding";
import { bytes, expectMerkleError } from "./expect.fixture.js";
import { leafHashes, rootOf, vectorNodes, vectors } from "./vectors.fixture.js";

const MAX = Number.MAX_SAFE_INTEGER;

describe("appendLeaves", () => {
  it("builds every node of the vector tree and its root", () => {
    const r = appendLeaves([], 0, leafHashes);
    expect(r.size).toBe(8);
    expect(toHex(r.root)).toBe(vectors.roots["8"]);
    expect(r.newNodes).toHaveLength(15);
    expect(new Map(r.newNodes.map((n) => [nodeKey(n), toHex(n.hash)]))).toEqual(new Map([...vectorNodes].map(([k, h]) => [k, toHex(h)])));
    expect(r.frontier.map(({ level, index }) => ({ level, index }))).toEqual(rootPlan(8));
  });

  it("appends one leaf at a time with the right root and frontier at every size", () => {
    let state = { frontier: [] as StoredNode[], size: 0 };
    for (let n = 1; n <= 8; n++) {
      const r = appendLeaves(state.frontier, state.size, [leafHashes[n - 1] as Uint8Array]);
      expect(r.root).toEqual(rootOf(n));
      expect(r.frontier.map(({ level, index }) => ({ level, index }))).toEqual(rootPlan(n));
      state = r;
    }
  });

  it("lists nodes in completion order, leaves included", () => {
    const r3 = appendLeaves([], 0, leafHashes.slice(0, 3));
    const r4 = appendLeaves(r3.frontier, r3.size, leafHashes.slice(3, 4));
    expect(r4.newNodes.map(nodeKey)).toEqual(["0:3", "1:1", "2:0"]);
  });

  it("with no leaves returns the same tree, and the empty tree's root for size 0", () => {
    const r5 = appendLeaves([], 0, leafHashes.slice(0, 5));
    const same = appendLeaves(r5.frontier, 5, []);
    expect(same.newNodes).toEqual([]);
    expect(same.root).toEqual(rootOf(5));
    expect(toHex(appendLeaves([], 0, []).root)).toBe(vectors.empty_root);
  });

  it("is pure: inputs are left untouched and leaf hashes are copied", () => {
    const r3 = appendLeaves([], 0, leafHashes.slice(0, 3));
    const frontier = r3.frontier.map((n) => ({ ...n, hash: n.hash.slice() }));
    const snapshot = frontier.map((n) => ({ ...n, hash: toHex(n.hash) }));
    const leaves = leafHashes.slice(3, 8).map((h) => h.slice());
    const r8 = appendLeaves(frontier, 3, leaves);
    expect(frontier.map((n) => ({ ...n, hash: toHex(n.hash) }))).toEqual(snapshot);
    expect(r8.newNodes[0]?.hash).not.toBe(leaves[0]);
    expect(r8.root).toEqual(rootOf(8));
  });

  it("BAD_FRONTIER: wrong number of nodes, or nodes that are not rootPlan(size)", () => {
    const r7 = appendLeaves([], 0, leafHashes.slice(0, 7));
    const leaf = leafHashes[7] as Uint8Array;
    expectMerkleError(() => appendLeaves(r7.frontier.slice(1), 7, [leaf]), "BAD_FRONTIER", "appendLeaves: a tree of size 7 has 3 frontier nodes, got 2");
    expectMerkleError(() => appendLeaves(r7.frontier, 6, [leaf]), "BAD_FRONTIER", "appendLeaves: a tree of size 6 has 2 frontier nodes, got 3");
    expectMerkleError(() => appendLeaves([...r7.frontier].reverse(), 7, [leaf]), "BAD_FRONTIER", "appendLeaves: frontier[0] is {level:0, index:6}, expected {level:2, index:0} for size 7");
    const shifted = r7.frontier.map((n, i) => (i === 2 ? { ...n, index: 7 } : n));
    expectMerkleError(() => appendLeaves(shifted, 7, [leaf]), "BAD_FRONTIER", "appendLeaves: frontier[2] is {level:0, index:7}, expected {level:0, index:6} for size 7");
    expectMerkleError(() => appendLeaves([], 1, [leaf]), "BAD_FRONTIER", "appendLeaves: a tree of size 1 has 1 frontier nodes, got 0");
  });

  it("rejects malformed hashes, sizes and arrays", () => {
    const r7 = appendLeaves([], 0, leafHashes.slice(0, 7));
    const badHash = r7.frontier.map((n, i) => (i === 1 ? { ...n, hash: bytes(31) } : n));
    expectMerkleError(() => appendLeaves(badHash, 7, []), "BAD_HASH_SIZE", "appendLeaves frontier[1].hash: expected 32-byte hash, got length=31");
    expectMerkleError(() => appendLeaves(r7.frontier, 7, [bytes(32), bytes(33)]), "BAD_HASH_SIZE", "appendLeaves newLeafHashes[1]: expected 32-byte hash, got length=33");
    expectMerkleError(() => appendLeaves([null] as unknown as StoredNode[], 1, []), "BAD_ARGUMENT_TYPE", "appendLeaves frontier[0]: expected {level, index}, got null");
    expectMerkleError(() => appendLeaves([], -1, []), "BAD_INTEGER", "appendLeaves size: expected a non-negative safe integer, got -1");
    expectMerkleError(() => appendLeaves([], MAX, [bytes(32)]), "BAD_INTEGER", "appendLeaves: size 9007199254740991 + 1 leaves exceeds 2^53 - 1");
    expectMerkleError(() => appendLeaves({} as unknown as StoredNode[], 0, []), "BAD_ARGUMENT_TYPE");
    expectMerkleError(() => appendLeaves([], 0, bytes(32) as unknown as Uint8Array[]), "BAD_ARGUMENT_TYPE");
  });

  it("works at the top of the safe range", () => {
    // A frontier for size 2^53 - 2 with dummy hashes: appending one leaf completes no parent.
    const size = MAX - 1;
    const frontier = rootPlan(size).map((id) => ({ ...id, hash: bytes(32, id.level) }));
    const r = appendLeaves(frontier, size, [bytes(32, 0xee)]);
    expect(r.size).toBe(MAX);
    expect(r.newNodes).toEqual([{ level: 0, index: size, hash: bytes(32, 0xee) }]);
    expect(r.frontier.map(({ level, index }) => ({ level, index }))).toEqual(rootPlan(MAX));
  });
});

import { describe, expect, it } from "vitest";
import { assertNodeId, hashFromDecomposition, nodeKey, perfectDecomposition } from "./nodeid.js";
import { fromHex, toHex } from "@custody/encoding";
import { bytes, expectMerkleError } from "./expect.fixture.js";
import { rootOf, vectorNodes, vectors } from "./vectors.fixture.js";

const MAX = Number.MAX_SAFE_INTEGER;

describe("perfectDecomposition", () => {
  it("splits RFC ranges into aligned perfect subtrees, largest first", () => {
    expect(perfectDecomposition(0, 8)).toEqual([{ level: 3, index: 0 }]);
    expect(perfectDecomposition(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(perfectDecomposition(4, 7)).toEqual([
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(perfectDecomposition(6, 7)).toEqual([{ level: 0, index: 6 }]);
    expect(perfectDecomposition(8, 13)).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it("handles the largest safe tree", () => {
    const d = perfectDecomposition(0, MAX);
    expect(d).toHaveLength(53);
    expect(d[0]).toEqual({ level: 52, index: 0 });
    expect(d[52]).toEqual({ level: 0, index: MAX - 1 });
    expect(perfectDecomposition(2 ** 52, MAX)).toEqual(d.slice(1));
  });

  it("BAD_RANGE: empty, reversed, or not produced by the RFC 9162 §2.1.1 recursion", () => {
    expectMerkleError(() => perfectDecomposition(5, 5), "BAD_RANGE", "perfectDecomposition: range [5, 5) is empty");
    expectMerkleError(() => perfectDecomposition(6, 5), "BAD_RANGE", "perfectDecomposition: range [6, 5) is empty");
    expectMerkleError(() => perfectDecomposition(2, 5), "BAD_RANGE", "perfectDecomposition: [2, 5) is not an RFC 9162 subtree: start must be a multiple of 4");
    expectMerkleError(() => perfectDecomposition(1, 3), "BAD_RANGE", "perfectDecomposition: [1, 3) is not an RFC 9162 subtree: start must be a multiple of 2");
    expectMerkleError(() => perfectDecomposition(-1, 3), "BAD_INTEGER", "perfectDecomposition start: expected a non-negative safe integer, got -1");
    expectMerkleError(() => perfectDecomposition(0, MAX + 1), "BAD_INTEGER");
  });
});

describe("hashFromDecomposition", () => {
  const node = (level: number, index: number): Uint8Array => vectorNodes.get(`${level}:${index}`) as Uint8Array;

  it("right-folds to the RFC root (MTH(D[a:b]) = nodeHash(perfect left, MTH(rest)))", () => {
    for (let n = 1; n <= 8; n++) {
      const hashes = perfectDecomposition(0, n).map((id) => node(id.level, id.index));
      expect(toHex(hashFromDecomposition(hashes)), `size ${n}`).toBe(vectors.roots[String(n)]);
    }
  });

  it("gives MTH({}) for no nodes and a copy for one node", () => {
    expect(toHex(hashFromDecomposition([]))).toBe(vectors.empty_root);
    const single = rootOf(4);
    const out = hashFromDecomposition([single]);
    expect(out).toEqual(single);
    expect(out).not.toBe(single);
  });

  it("rejects malformed hashes", () => {
    expectMerkleError(() => hashFromDecomposition([rootOf(1), bytes(16)]), "BAD_HASH_SIZE", "hashFromDecomposition hashes[1]: expected 32-byte hash, got length=16");
    expectMerkleError(() => hashFromDecomposition(fromHex(vectors.empty_root) as unknown as Uint8Array[]), "BAD_ARGUMENT_TYPE");
  });
});

describe("NodeId helpers", () => {
  it("nodeKey is level:index", () => {
    expect(nodeKey({ level: 3, index: 17 })).toBe("3:17");
  });

  it("assertNodeId checks shape and that the node ends within 2^53 - 1 leaves", () => {
    expect(() => assertNodeId({ level: 0, index: MAX - 1 }, "id")).not.toThrow();
    expect(() => assertNodeId({ level: 52, index: 0 }, "id")).not.toThrow();
    expectMerkleError(() => assertNodeId({ level: 0, index: MAX }, "id"), "BAD_INTEGER", "id: node {level:0, index:9007199254740991} ends past leaf 2^53 - 1");
    expectMerkleError(() => assertNodeId({ level: 53, index: 0 }, "id"), "BAD_INTEGER");
    expectMerkleError(() => assertNodeId({ level: 1.5, index: 0 }, "id"), "BAD_INTEGER", "id.level: expected a non-negative safe integer, got 1.5");
    expectMerkleError(() => assertNodeId({ level: 0 }, "id"), "BAD_INTEGER", "id.index: expected a non-negative safe integer, got undefined");
    expectMerkleError(() => assertNodeId(null, "id"), "BAD_ARGUMENT_TYPE", "id: expected {level, index}, got null");
  });
});

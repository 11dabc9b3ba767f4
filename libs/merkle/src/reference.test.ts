import { describe, expect, it } from "vitest";
import { consistencyProof, inclusionProof, rootFromLeafHashes } from "./reference.js";
import { fromHex, toHex } from "@custody/encoding";
import { bytes, expectMerkleError } from "./expect.fixture.js";
import { leafHashes, vectors } from "./vectors.fixture.js";

describe("in-memory RFC 9162 §2.1 reference", () => {
  it("MTH matches the vector roots for sizes 0..8", () => {
    expect(toHex(rootFromLeafHashes([]))).toBe(vectors.empty_root);
    for (let n = 1; n <= 8; n++) expect(toHex(rootFromLeafHashes(leafHashes.slice(0, n))), `size ${n}`).toBe(vectors.roots[String(n)]);
  });

  it("PATH matches the vector inclusion proofs", () => {
    expect(vectors.inclusion.length).toBeGreaterThan(0);
    for (const v of vectors.inclusion) {
      expect(inclusionProof(leafHashes.slice(0, v.tree_size), v.leaf_index).map(toHex), `${v.leaf_index}/${v.tree_size}`).toEqual(v.proof);
    }
  });

  it("PROOF matches the vector consistency proofs", () => {
    expect(vectors.consistency.length).toBeGreaterThan(0);
    for (const v of vectors.consistency) {
      expect(consistencyProof(leafHashes.slice(0, v.size2), v.size1).map(toHex), `${v.size1}->${v.size2}`).toEqual(v.proof);
    }
  });

  it("a consistency proof to the same size is empty (RFC 9162 §2.1.4.1: SUBPROOF(m, D[m], true) = {})", () => {
    for (let n = 1; n <= 8; n++) expect(consistencyProof(leafHashes.slice(0, n), n)).toEqual([]);
  });

  it("returns copies, never the caller's arrays", () => {
    const leaves = leafHashes.slice(0, 1).map((h) => h.slice());
    const root = rootFromLeafHashes(leaves);
    expect(root).toEqual(leaves[0]);
    expect(root).not.toBe(leaves[0]);
    const proof = inclusionProof(leafHashes.slice(0, 2), 0);
    expect(proof[0]).not.toBe(leafHashes[1]);
  });

  it("rejects bad arguments", () => {
    const leaves = leafHashes.slice(0, 5);
    expectMerkleError(() => inclusionProof(leaves, 5), "INDEX_OUT_OF_RANGE", "inclusionProof: index 5 is not < tree size 5");
    expectMerkleError(() => inclusionProof([], 0), "INDEX_OUT_OF_RANGE", "inclusionProof: index 0 is not < tree size 0");
    expectMerkleError(() => inclusionProof(leaves, -1), "BAD_INTEGER", "inclusionProof index: expected a non-negative safe integer, got -1");
    expectMerkleError(() => consistencyProof(leaves, 0), "SIZE_ZERO_CONSISTENCY");
    expectMerkleError(() => consistencyProof(leaves, 6), "SIZE_ORDER", "consistencyProof: oldSize 6 is > tree size 5");
    expectMerkleError(() => consistencyProof(leaves, 2.5), "BAD_INTEGER");
    expectMerkleError(() => rootFromLeafHashes([fromHex(vectors.empty_root), bytes(31)]), "BAD_HASH_SIZE", "rootFromLeafHashes leafHashes[1]: expected 32-byte hash, got length=31");
    expectMerkleError(() => rootFromLeafHashes("x" as unknown as Uint8Array[]), "BAD_ARGUMENT_TYPE");
  });
});

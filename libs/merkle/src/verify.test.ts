import { describe, expect, it } from "vitest";
import { consistencyProofLength, inclusionProofLength, rootFromConsistencyProof, rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./verify.js";
import { consistencyProof, inclusionProof } from "./reference.js";
import { fromHex, toHex } from "@custody/encoding";
import { bytes, expectMerkleError, flipBit } from "./expect.fixture.js";
import { leafHashes, rootOf, vectors } from "./vectors.fixture.js";

const MAX = Number.MAX_SAFE_INTEGER;
const leaf = (i: number): Uint8Array => leafHashes[i] as Uint8Array;
const inclusion = (i: number, n: number): Uint8Array[] => inclusionProof(leafHashes.slice(0, n), i);
const consistency = (m: number, n: number): Uint8Array[] => consistencyProof(leafHashes.slice(0, n), m);

describe("verifyInclusion (RFC 9162 §2.1.3.2)", () => {
  it("accepts the vector proofs and rootFromInclusionProof recomputes their roots", () => {
    for (const v of vectors.inclusion) {
      const proof = v.proof.map(fromHex);
      expect(() => verifyInclusion(fromHex(v.leaf_hash), v.leaf_index, v.tree_size, proof, fromHex(v.root))).not.toThrow();
      expect(toHex(rootFromInclusionProof(fromHex(v.leaf_hash), v.leaf_index, v.tree_size, proof))).toBe(v.root);
    }
  });

  it("accepts every leaf of every tree size 1..8", () => {
    for (let n = 1; n <= 8; n++) for (let i = 0; i < n; i++) verifyInclusion(leaf(i), i, n, inclusion(i, n), rootOf(n));
  });

  it("BAD_INTEGER: index or size not a non-negative safe integer", () => {
    const p = inclusion(1, 5);
    expectMerkleError(() => verifyInclusion(leaf(1), -1, 5, p, rootOf(5)), "BAD_INTEGER", "verifyInclusion index: expected a non-negative safe integer, got -1");
    expectMerkleError(() => verifyInclusion(leaf(1), 1.5, 5, p, rootOf(5)), "BAD_INTEGER", "verifyInclusion index: expected a non-negative safe integer, got 1.5");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, MAX + 1, p, rootOf(5)), "BAD_INTEGER", "verifyInclusion treeSize: expected a non-negative safe integer, got 9007199254740992");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, Number.NaN, p, rootOf(5)), "BAD_INTEGER");
    expectMerkleError(() => verifyInclusion(leaf(1), "1" as unknown as number, 5, p, rootOf(5)), "BAD_INTEGER", "verifyInclusion index: expected a non-negative safe integer, got string");
    expectMerkleError(() => rootFromInclusionProof(leaf(1), 1, -5, p), "BAD_INTEGER", "rootFromInclusionProof treeSize: expected a non-negative safe integer, got -5");
  });

  it("BAD_ARGUMENT_TYPE: hashes that are not Uint8Array, proof that is not an array", () => {
    const p = inclusion(1, 5);
    expectMerkleError(() => verifyInclusion(toHex(leaf(1)) as unknown as Uint8Array, 1, 5, p, rootOf(5)), "BAD_ARGUMENT_TYPE", "verifyInclusion leafHash: expected Uint8Array, got string");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, p, undefined as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "verifyInclusion root: expected Uint8Array, got undefined");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, "proof" as unknown as Uint8Array[], rootOf(5)), "BAD_ARGUMENT_TYPE", "verifyInclusion proof: expected an array of hashes, got string");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, [p[0], null, p[2]] as unknown as Uint8Array[], rootOf(5)), "BAD_ARGUMENT_TYPE", "verifyInclusion proof[1]: expected Uint8Array, got null");
    // A sparse array must not be read as "shorter".
    const sparse = new Array<Uint8Array>(3);
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, sparse, rootOf(5)), "BAD_ARGUMENT_TYPE", "verifyInclusion proof[0]: expected Uint8Array, got undefined");
  });

  it("BAD_HASH_SIZE: leaf hash, root or any proof hash not exactly 32 bytes", () => {
    const p = inclusion(1, 5);
    expectMerkleError(() => verifyInclusion(bytes(31), 1, 5, p, rootOf(5)), "BAD_HASH_SIZE", "verifyInclusion leafHash: expected 32-byte hash, got length=31");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, p, bytes(33)), "BAD_HASH_SIZE", "verifyInclusion root: expected 32-byte hash, got length=33");
    expectMerkleError(() => verifyInclusion(leaf(1), 1, 5, [p[0], bytes(0), p[2]] as Uint8Array[], rootOf(5)), "BAD_HASH_SIZE", "verifyInclusion proof[1]: expected 32-byte hash, got length=0");
    expectMerkleError(() => rootFromInclusionProof(new Uint8Array(64), 1, 5, p), "BAD_HASH_SIZE", "rootFromInclusionProof leafHash: expected 32-byte hash, got length=64");
  });

  it("INDEX_OUT_OF_RANGE: index >= treeSize (step 1), including the empty tree", () => {
    expectMerkleError(() => verifyInclusion(leaf(0), 8, 8, inclusion(7, 8), rootOf(8)), "INDEX_OUT_OF_RANGE", "verifyInclusion: leaf index 8 is not < tree size 8");
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 0, [], fromHex(vectors.empty_root)), "INDEX_OUT_OF_RANGE", "verifyInclusion: leaf index 0 is not < tree size 0");
  });

  it("WRONG_PROOF_SIZE: one hash too many or too few, at either end", () => {
    const p = inclusion(5, 8);
    const extra = leaf(0);
    expectMerkleError(() => verifyInclusion(leaf(5), 5, 8, [...p, extra], rootOf(8)), "WRONG_PROOF_SIZE", "verifyInclusion for leaf 5 in tree size 8: expected 3 hashes, got 4");
    expectMerkleError(() => verifyInclusion(leaf(5), 5, 8, [extra, ...p], rootOf(8)), "WRONG_PROOF_SIZE");
    expectMerkleError(() => verifyInclusion(leaf(5), 5, 8, p.slice(1), rootOf(8)), "WRONG_PROOF_SIZE", "verifyInclusion for leaf 5 in tree size 8: expected 3 hashes, got 2");
    expectMerkleError(() => verifyInclusion(leaf(5), 5, 8, p.slice(0, -1), rootOf(8)), "WRONG_PROOF_SIZE");
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 1, [extra], rootOf(1)), "WRONG_PROOF_SIZE", "verifyInclusion for leaf 0 in tree size 1: expected 0 hashes, got 1");
  });

  it("ROOT_MISMATCH: a well-formed proof that does not lead to the root", () => {
    const p = inclusion(2, 3);
    const err = expectMerkleError(() => verifyInclusion(leaf(2), 2, 3, p, rootOf(4)), "ROOT_MISMATCH");
    expect(err.message).toBe(`verifyInclusion for leaf 2 in tree size 3: computed root ${vectors.roots["3"]} does not match expected ${vectors.roots["4"]}`);
    expectMerkleError(() => verifyInclusion(flipBit(leaf(2), 0), 2, 3, p, rootOf(3)), "ROOT_MISMATCH");
    expectMerkleError(() => verifyInclusion(leaf(2), 2, 3, [flipBit(p[0] as Uint8Array, 255)], rootOf(3)), "ROOT_MISMATCH");
  });

  it("checks in a fixed order: integers, caller hashes, range, proof length, proof hashes, root", () => {
    expectMerkleError(() => verifyInclusion(bytes(1), -1, 5, [bytes(2)], bytes(3)), "BAD_INTEGER");
    expectMerkleError(() => verifyInclusion(bytes(1), 9, 5, [bytes(2)], bytes(3)), "BAD_HASH_SIZE", "verifyInclusion leafHash: expected 32-byte hash, got length=1");
    expectMerkleError(() => verifyInclusion(leaf(0), 9, 5, [bytes(2)], bytes(3)), "BAD_HASH_SIZE", "verifyInclusion root: expected 32-byte hash, got length=3");
    expectMerkleError(() => verifyInclusion(leaf(0), 9, 5, [bytes(2)], rootOf(5)), "INDEX_OUT_OF_RANGE");
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 5, [bytes(2)], rootOf(5)), "WRONG_PROOF_SIZE");
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 5, [bytes(2), leaf(1), leaf(2)], rootOf(5)), "BAD_HASH_SIZE", "verifyInclusion proof[0]: expected 32-byte hash, got length=2");
  });

  it("rejects an oversized proof by its length, without inspecting its elements", () => {
    const huge = new Array<Uint8Array>(1_000_000);
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 5, huge, rootOf(5)), "WRONG_PROOF_SIZE", "verifyInclusion for leaf 0 in tree size 5: expected 3 hashes, got 1000000");
    expectMerkleError(() => verifyConsistency(2, 5, huge, rootOf(2), rootOf(5)), "WRONG_PROOF_SIZE");
  });

  it("the tree size is authenticated by the signed tree head, not by the proof", () => {
    // RFC 9162 §2.1.3.2 takes (tree_size, root_hash) from a trusted tree head. Pairing a real root
    // with a different size can verify when both sizes give the same path shape: here the proof
    // for leaf 0 of 3 also "verifies" as leaf 0 of 4 against root(3). Callers must take the size
    // and root together from one verified checkpoint.
    expect(() => verifyInclusion(leaf(0), 0, 4, inclusion(0, 3), rootOf(3))).not.toThrow();
    expectMerkleError(() => verifyInclusion(leaf(0), 0, 4, inclusion(0, 3), rootOf(4)), "ROOT_MISMATCH");
  });
});

describe("verifyConsistency (RFC 9162 §2.1.4.2)", () => {
  it("accepts the vector proofs and rootFromConsistencyProof recomputes root2", () => {
    for (const v of vectors.consistency) {
      const proof = v.proof.map(fromHex);
      expect(() => verifyConsistency(v.size1, v.size2, proof, fromHex(v.root1), fromHex(v.root2))).not.toThrow();
      expect(toHex(rootFromConsistencyProof(v.size1, v.size2, proof, fromHex(v.root1)))).toBe(v.root2);
    }
  });

  it("accepts every pair 1 <= m <= n <= 8", () => {
    for (let n = 1; n <= 8; n++) for (let m = 1; m <= n; m++) verifyConsistency(m, n, consistency(m, n), rootOf(m), rootOf(n));
  });

  it("equal sizes need an empty proof and equal roots", () => {
    expect(() => verifyConsistency(5, 5, [], rootOf(5), rootOf(5))).not.toThrow();
    const root = rootFromConsistencyProof(5, 5, [], rootOf(5));
    expect(root).toEqual(rootOf(5));
    expect(root).not.toBe(rootOf(5));
    expectMerkleError(() => verifyConsistency(5, 5, [leaf(0)], rootOf(5), rootOf(5)), "WRONG_PROOF_SIZE", "verifyConsistency from size 5 to 5: expected 0 hashes, got 1");
    expectMerkleError(() => verifyConsistency(5, 5, [], rootOf(5), rootOf(6)), "ROOT_MISMATCH");
  });

  it("BAD_INTEGER: sizes not non-negative safe integers", () => {
    const p = consistency(3, 7);
    expectMerkleError(() => verifyConsistency(-3, 7, p, rootOf(3), rootOf(7)), "BAD_INTEGER", "verifyConsistency size1: expected a non-negative safe integer, got -3");
    expectMerkleError(() => verifyConsistency(3, 7.5, p, rootOf(3), rootOf(7)), "BAD_INTEGER", "verifyConsistency size2: expected a non-negative safe integer, got 7.5");
    expectMerkleError(() => verifyConsistency(3, MAX + 2, p, rootOf(3), rootOf(7)), "BAD_INTEGER");
  });

  it("BAD_ARGUMENT_TYPE and BAD_HASH_SIZE: roots and proof hashes", () => {
    const p = consistency(3, 7);
    expectMerkleError(() => verifyConsistency(3, 7, p, rootOf(3), null as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "verifyConsistency root2: expected Uint8Array, got null");
    expectMerkleError(() => verifyConsistency(3, 7, { length: 3 } as unknown as Uint8Array[], rootOf(3), rootOf(7)), "BAD_ARGUMENT_TYPE", "verifyConsistency proof: expected an array of hashes, got object");
    expectMerkleError(() => verifyConsistency(3, 7, p, bytes(12), rootOf(7)), "BAD_HASH_SIZE", "verifyConsistency root1: expected 32-byte hash, got length=12");
    expectMerkleError(() => verifyConsistency(3, 7, p, rootOf(3), bytes(12)), "BAD_HASH_SIZE", "verifyConsistency root2: expected 32-byte hash, got length=12");
    expectMerkleError(() => verifyConsistency(3, 7, [...p.slice(0, -1), bytes(31)], rootOf(3), rootOf(7)), "BAD_HASH_SIZE", `verifyConsistency proof[${p.length - 1}]: expected 32-byte hash, got length=31`);
    // Equal sizes are no exception: roots are still exactly 32 bytes.
    expectMerkleError(() => verifyConsistency(1, 1, [], bytes(12), bytes(12)), "BAD_HASH_SIZE");
  });

  it("SIZE_ZERO_CONSISTENCY: from the empty tree, whatever the proof", () => {
    const empty = fromHex(vectors.empty_root);
    expectMerkleError(() => verifyConsistency(0, 3, [], empty, rootOf(3)), "SIZE_ZERO_CONSISTENCY", "verifyConsistency: size1 is 0; every tree is consistent with the empty tree, so such a proof proves nothing");
    expectMerkleError(() => verifyConsistency(0, 0, [], empty, empty), "SIZE_ZERO_CONSISTENCY");
    expectMerkleError(() => rootFromConsistencyProof(0, 1, [leaf(0)], empty), "SIZE_ZERO_CONSISTENCY");
  });

  it("SIZE_ORDER: size1 > size2", () => {
    expectMerkleError(() => verifyConsistency(5, 4, [], rootOf(5), rootOf(4)), "SIZE_ORDER", "verifyConsistency: size1 5 is > size2 4");
    expectMerkleError(() => verifyConsistency(1, 0, [], rootOf(1), fromHex(vectors.empty_root)), "SIZE_ORDER");
  });

  it("WRONG_PROOF_SIZE: empty, one too many, one too few", () => {
    const p = consistency(6, 8);
    expectMerkleError(() => verifyConsistency(6, 8, [], rootOf(6), rootOf(8)), "WRONG_PROOF_SIZE", "verifyConsistency from size 6 to 8: expected 3 hashes, got 0");
    expectMerkleError(() => verifyConsistency(6, 8, [...p, leaf(0)], rootOf(6), rootOf(8)), "WRONG_PROOF_SIZE", "verifyConsistency from size 6 to 8: expected 3 hashes, got 4");
    expectMerkleError(() => verifyConsistency(6, 8, [rootOf(6), ...p], rootOf(6), rootOf(8)), "WRONG_PROOF_SIZE");
    expectMerkleError(() => verifyConsistency(6, 8, p.slice(1), rootOf(6), rootOf(8)), "WRONG_PROOF_SIZE");
    // size1 a power of two: the prover omits root1 (step 2); sending it anyway is one hash too many.
    const q = consistency(4, 8);
    expect(q).toHaveLength(1);
    expectMerkleError(() => verifyConsistency(4, 8, [rootOf(4), ...q], rootOf(4), rootOf(8)), "WRONG_PROOF_SIZE", "verifyConsistency from size 4 to 8: expected 1 hashes, got 2");
  });

  it("ROOT_MISMATCH: on root1 (step 7, fr) and on root2 (sr)", () => {
    const p = consistency(3, 7);
    const e1 = expectMerkleError(() => verifyConsistency(3, 7, p, rootOf(2), rootOf(7)), "ROOT_MISMATCH");
    expect(e1.message).toBe(`verifyConsistency: root1 for size 3: computed root ${vectors.roots["3"]} does not match expected ${vectors.roots["2"]}`);
    const e2 = expectMerkleError(() => verifyConsistency(3, 7, p, rootOf(3), rootOf(8)), "ROOT_MISMATCH");
    expect(e2.message).toBe(`verifyConsistency: root2 for size 7: computed root ${vectors.roots["7"]} does not match expected ${vectors.roots["8"]}`);
    // rootFromConsistencyProof still checks root1 even though it returns root2.
    expectMerkleError(() => rootFromConsistencyProof(3, 7, p, rootOf(2)), "ROOT_MISMATCH");
    // A power-of-two size1 is checked through the prepended root1 seed.
    expectMerkleError(() => verifyConsistency(4, 7, consistency(4, 7), flipBit(rootOf(4), 3), rootOf(7)), "ROOT_MISMATCH");
  });
});

describe("proof lengths", () => {
  it("match the reference proofs on the vector tree", () => {
    for (let n = 1; n <= 8; n++) {
      for (let i = 0; i < n; i++) expect(inclusionProofLength(i, n)).toBe(inclusion(i, n).length);
      for (let m = 1; m <= n; m++) expect(consistencyProofLength(m, n)).toBe(consistency(m, n).length);
    }
  });

  it("work up to 2^53 - 1", () => {
    expect(inclusionProofLength(0, MAX)).toBe(53);
    expect(inclusionProofLength(MAX - 1, MAX)).toBe(52);
    expect(inclusionProofLength(2 ** 52, 2 ** 52 + 1)).toBe(1);
    expect(consistencyProofLength(2 ** 52, MAX)).toBe(1); // old tree is the perfect left half: just MTH(D[2^52:n])
    expect(consistencyProofLength(1, MAX)).toBe(53);
  });

  it("reject what the verifiers reject", () => {
    expectMerkleError(() => inclusionProofLength(3, 3), "INDEX_OUT_OF_RANGE");
    expectMerkleError(() => inclusionProofLength(0, MAX + 1), "BAD_INTEGER");
    expectMerkleError(() => consistencyProofLength(0, 3), "SIZE_ZERO_CONSISTENCY");
    expectMerkleError(() => consistencyProofLength(4, 3), "SIZE_ORDER");
  });
});

import { describe, expect, it } from "vitest";
import { rfcRootFromInclusionPath, rfcRootsFromConsistencyPath } from "./rfc9162.js";
import { consistencyProof, inclusionProof } from "./reference.js";
import { expectMerkleError } from "./expect.fixture.js";
import { leafHashes, rootOf } from "./vectors.fixture.js";

// The loops' own length checks, exercised directly: verify.ts rejects wrong lengths before it gets
// here, so these guards are only reachable through the internal functions.
describe("RFC 9162 loops without the up-front length check", () => {
  const leaf = (i: number): Uint8Array => leafHashes[i] as Uint8Array;

  it("§2.1.3.2 computes the root and stops on sn == 0 / rejects sn != 0", () => {
    const p = inclusionProof(leafHashes.slice(0, 6), 4);
    expect(rfcRootFromInclusionPath(leaf(4), 4, 6, p)).toEqual(rootOf(6));
    expectMerkleError(() => rfcRootFromInclusionPath(leaf(4), 4, 6, [...p, leaf(0)]), "WRONG_PROOF_SIZE", "inclusion proof: proof has more hashes than the tree sizes allow");
    expectMerkleError(() => rfcRootFromInclusionPath(leaf(4), 4, 6, p.slice(0, -1)), "WRONG_PROOF_SIZE", "inclusion proof: proof has fewer hashes than the tree sizes require");
    expectMerkleError(() => rfcRootFromInclusionPath(leaf(0), 0, 1, [leaf(1)]), "WRONG_PROOF_SIZE");
  });

  it("§2.1.4.2 computes both roots and rejects empty, long and short paths", () => {
    const p = consistencyProof(leafHashes.slice(0, 7), 3);
    expect(rfcRootsFromConsistencyPath(3, 7, p, rootOf(3))).toEqual({ firstRoot: rootOf(3), secondRoot: rootOf(7) });
    expectMerkleError(() => rfcRootsFromConsistencyPath(3, 7, [], rootOf(3)), "WRONG_PROOF_SIZE", "consistency proof: proof has fewer hashes than the tree sizes require");
    expectMerkleError(() => rfcRootsFromConsistencyPath(3, 7, [...p, leaf(0)], rootOf(3)), "WRONG_PROOF_SIZE", "consistency proof: proof has more hashes than the tree sizes allow");
    expectMerkleError(() => rfcRootsFromConsistencyPath(3, 7, p.slice(0, -1), rootOf(3)), "WRONG_PROOF_SIZE", "consistency proof: proof has fewer hashes than the tree sizes require");
    const q = consistencyProof(leafHashes.slice(0, 8), 4);
    expect(rfcRootsFromConsistencyPath(4, 8, q, rootOf(4))).toEqual({ firstRoot: rootOf(4), secondRoot: rootOf(8) });
    expectMerkleError(() => rfcRootsFromConsistencyPath(4, 8, [...q, leaf(0)], rootOf(4)), "WRONG_PROOF_SIZE");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inclusionProof, rootFromLeafHashes } from "./reference.js";
import { treeLevels } from "./levels.js";
import { leafHash } from "./hash.js";
import { expectMerkleError } from "./expect.fixture.js";

describe("treeLevels", () => {
  it("gives the RFC 9162 root and every inclusion path of the reference implementation, for any size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, seed) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i & 255, i >> 8, seed & 255)));
        const tree = treeLevels(leaves);
        expect(tree.root).toEqual(rootFromLeafHashes(leaves));
        for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 17))) expect(tree.pathOf(i)).toEqual(inclusionProof(leaves, i));
        expect(tree.pathOf(n - 1)).toEqual(inclusionProof(leaves, n - 1));
      }),
      { numRuns: 200 },
    );
  });

  it("has the empty tree's root for no leaves, and refuses indexes outside the tree and hashes of the wrong size", () => {
    expect(treeLevels([]).root).toEqual(rootFromLeafHashes([]));
    expectMerkleError(() => treeLevels([leafHash(new Uint8Array(1))]).pathOf(1), "INDEX_OUT_OF_RANGE");
    expectMerkleError(() => treeLevels([new Uint8Array(31)]), "BAD_HASH_SIZE");
  });
});

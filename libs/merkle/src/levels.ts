import { MerkleProofError } from "./errors.js";
import { assertHash, emptyRoot, nodeHash } from "./hash.js";

/**
 * A whole RFC 9162 tree kept level by level, for small trees built at once (a batch of records).
 * Level 0 is the leaf hashes; each level above pairs neighbours left to right, and a level's odd
 * last node moves up unpaired. That is exactly RFC 9162's Merkle Tree Hash — a range splits at the
 * largest power of two below its size, so the right-most node of a level is the one left without a
 * partner — but costs n − 1 hashes and no recursion (levels.test.ts checks it against reference.ts).
 */
export interface TreeLevels {
  readonly size: number;
  readonly root: Uint8Array;
  /** The RFC 9162 §2.1.3.1 inclusion path of leaf `index`, the leaf's sibling first. */
  pathOf(index: number): Uint8Array[];
}

export function treeLevels(leafHashes: readonly Uint8Array[]): TreeLevels {
  leafHashes.forEach((h, i) => {
    assertHash(h, `treeLevels leafHashes[${i}]`);
  });
  const levels: Uint8Array[][] = [[...leafHashes]];
  for (let level = levels[0]!; level.length > 1; ) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    levels.push(up);
    level = up;
  }
  const size = leafHashes.length;
  return {
    size,
    root: size === 0 ? emptyRoot() : levels[levels.length - 1]![0]!.slice(),
    pathOf(index) {
      if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
        throw new MerkleProofError("INDEX_OUT_OF_RANGE", `treeLevels.pathOf: index ${index} is not < tree size ${size}`);
      }
      const path: Uint8Array[] = [];
      let i = index;
      for (let l = 0; l < levels.length - 1; l++, i >>= 1) {
        const sibling = i ^ 1;
        // No sibling: the node moves up unpaired and adds nothing to the path.
        if (sibling < levels[l]!.length) path.push(levels[l]![sibling]!.slice());
      }
      return path;
    },
  };
}

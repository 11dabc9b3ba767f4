import { HASH_SIZE, leafHash, treeLevels } from "@custody/merkle";
import { MAX_BATCH_SIZE } from "@custody/ledger";
import { CustodyFormatError } from "./hops.js";

/** Largest batch (seal or outcomes), as FORMAT §3 bounds the entries' `size`: a document's paths hold at most 12 hashes, a batch row's leaves 128 KiB. */
export const MAX_BATCH = MAX_BATCH_SIZE;

export interface Batch {
  /** MTH over the leaf entries (RFC 9162). */
  root: Uint8Array;
  /** SHA-256(0x00 || entry) of each leaf, in order: what a batch row stores to answer paths later. */
  leafHashes: Uint8Array[];
  /** Inclusion path of leaf `index` (RFC 9162 §2.1.3). */
  pathOf(index: number): Uint8Array[];
}

/**
 * A Merkle tree over one batch of records (custody records of a seal, outcome records of a
 * recording). Built once; every path is read from its nodes, O(n log n) for all of them.
 */
export function batchOf(leafEntries: readonly Uint8Array[]): Batch {
  return batchFromLeafHashes(leafEntries.map((e) => leafHash(e)));
}

/** The same tree from stored leaf hashes (proof documents are built from a batch row, not the records). */
export function batchFromLeafHashes(leafHashes: readonly Uint8Array[]): Batch {
  if (leafHashes.length === 0 || leafHashes.length > MAX_BATCH) {
    throw new CustodyFormatError("BAD_SEAL", `a batch holds 1 to ${MAX_BATCH} records, got ${leafHashes.length}`);
  }
  const tree = treeLevels(leafHashes);
  return { root: tree.root, leafHashes: [...leafHashes], pathOf: (index) => tree.pathOf(index) };
}

/** Packs leaf hashes into one byte string (32 bytes each), as a batch row stores them. */
export function packLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(leafHashes.length * HASH_SIZE);
  leafHashes.forEach((h, i) => {
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

export function unpackLeafHashes(packed: Uint8Array): Uint8Array[] {
  if (packed.length === 0 || packed.length % HASH_SIZE !== 0) throw new CustodyFormatError("BAD_SEAL", `packed leaf hashes must be a positive multiple of ${HASH_SIZE} bytes, got ${packed.length}`);
  return Array.from({ length: packed.length / HASH_SIZE }, (_, i) => packed.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
}

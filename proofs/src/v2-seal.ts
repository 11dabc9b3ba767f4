/**
 * Check 8, `seal` (proofs/FORMAT.md §8, §14): the seal note verifies with a key named by the origin
 * and has origin `<origin>/seal`; the custody record's leaf is included at `index` under the note's
 * root; and the batch's `seal` ledger entry states the note's root, size and signing key and is
 * included under the checkpoint. (That x-custody-seal states this note is check 7.)
 */
import { leafHash } from "@custody/merkle";
import { toHex } from "@custody/encoding";
import { includedInBatch } from "./batch.js";
import { sealNote, type Context } from "./context.js";
import { decodeKind, fail, includedUnder, readProven } from "./entries.js";
import { recordBytes } from "./v2-record.js";
import type { RefV2 } from "./v2-ref.js";

export function sealV2(ctx: Context, ref: RefV2): string {
  const { a } = ref;
  const opened = sealNote(ctx, a.seal.note);
  // FORMAT §8: the seal note is exactly origin, size and root, the text a receiver rebuilds.
  if (opened.cp.extensions.length > 0) fail("seal note: has extension lines; a seal note is exactly its origin, size and root lines");
  const leaf = leafHash(recordBytes(ref.record));
  includedInBatch(leaf, a.seal.index, opened.cp.size, a.seal.path, opened.cp.rootHash, `the custody record's leaf is not included at index ${a.seal.index} under the seal note's root`);

  const what = "seal entry";
  const read = readProven(a.seal.entry, what);
  const entry = decodeKind(read.bytes, "seal", what);
  const { batchRoot, size, keyId } = entry;
  if (batchRoot !== toHex(opened.cp.rootHash)) fail(`${what}: batchRoot ${batchRoot} is not the seal note's root ${toHex(opened.cp.rootHash)}`);
  if (size !== opened.cp.size) fail(`${what}: size ${size} is not the seal note's size ${opened.cp.size}`);
  if (!opened.keyIds.includes(keyId)) fail(`${what}: keyId ${keyId} is not the key that signed the seal note (${opened.keyIds.join(", ")})`);
  const where = includedUnder(a.seal.entry, read.leaf, ctx.checkpoint, what);
  return `index ${a.seal.index} of a batch of ${size}, signed by key ${keyId}; seal entry ${where}`;
}

/**
 * A record's membership in a batch tree (proofs/FORMAT.md §8, §9; Appendix A for format 1's seal
 * leaves): RFC 9162 inclusion of its leaf at `index` in a batch of `size` leaves, and the §10 form
 * of the x-custody-seal header that states a seal membership to the receiver.
 */
import { formatSealHeader } from "@custody/custody";
import { verifyInclusion } from "@custody/merkle";
import { fromHex } from "@custody/encoding";
import { fail, reason } from "./entries.js";

/**
 * Throws unless `leaf` is leaf `index` of the batch of `size` leaves with `root` (path in hex); the
 * failure is `<failure>: <why>`.
 */
export function includedInBatch(leaf: Uint8Array, index: number, size: number, path: readonly string[], root: Uint8Array, failure: string): void {
  try {
    verifyInclusion(leaf, index, size, path.map(fromHex), root);
  } catch (err) {
    fail(`${failure}: ${reason(err)}`);
  }
}

/** `signer=…;size=…;index=…;path=…;sig=…` (FORMAT §10) for a seal membership and one signature line. */
export function sealHeader(signer: string, size: number, index: number, path: readonly string[], signature: string): string {
  return formatSealHeader({ signer, size, index, path: path.map(fromHex), signature });
}

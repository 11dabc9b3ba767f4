import { hash } from "node:crypto";
import type { TreeHasher } from "@custody/ledger";

/**
 * RFC 9162 leaf and node hashes with node:crypto's one-shot SHA-256, for the audit's ~2 hashes per
 * leaf. The same bytes as @custody/merkle's leafHash and nodeHash (audit-hash.test.ts), without their
 * cost per call: the input is laid out in a buffer kept for the purpose, and the digest comes back as
 * a latin1 string turned into a pooled Buffer — a Buffer digest costs a new ArrayBuffer each time,
 * several times the hash itself for inputs this small.
 */
export function nativeTreeHasher(): TreeHasher {
  let scratch = Buffer.allocUnsafe(1 + 64 * 1024);
  const pair = Buffer.allocUnsafe(65);
  pair[0] = 0x01;
  const digest = (input: Buffer) => Buffer.from(hash("sha256", input, "binary"), "latin1");
  return {
    leaf(entry) {
      if (entry.length + 1 > scratch.length) scratch = Buffer.allocUnsafe(entry.length + 1);
      scratch[0] = 0x00;
      scratch.set(entry, 1);
      return digest(scratch.subarray(0, entry.length + 1));
    },
    node(left, right) {
      if (left.length !== 32 || right.length !== 32) throw new Error(`node hash of ${left.length} and ${right.length} bytes: expected two 32-byte hashes`);
      pair.set(left, 1);
      pair.set(right, 33);
      return digest(pair);
    },
  };
}

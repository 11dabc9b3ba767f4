import { decodeBase64, encodeBase64 } from "@custody/encoding";
import { leafHash, rootFromInclusionProof } from "@custody/merkle";
import { formatCheckpoint, parseCheckpoint, signNote, verifyNote, type Signer, type VerifierKey } from "@custody/note";
import { batchOf, MAX_BATCH } from "./batch.js";
import { CustodyFormatError } from "./hops.js";

const encoder = new TextEncoder();
const ROOT_DOMAIN = encoder.encode("custody-root/v1");

/**
 * One signature per batch keeps Ed25519 off the per-delivery path (proofs/FORMAT.md §8): a note
 * signature costs ~30 µs with node:crypto and ~1 ms with the portable code under load, while the
 * batch tree costs two hashes per attempt.
 */
export const MAX_SEAL_BATCH = MAX_BATCH;

/** Format 1: a custody root's leaf in a seal batch tree, `"custody-root/v1" || 0x00 || root(32)`. Format 2 leaves are custody records. */
export function sealLeafEntry(custodyRoot: Uint8Array): Uint8Array {
  if (custodyRoot.length !== 32) throw new CustodyFormatError("BAD_SEAL", `expected a 32-byte custody root, got ${custodyRoot.length}`);
  const out = new Uint8Array(ROOT_DOMAIN.length + 1 + 32);
  out.set(ROOT_DOMAIN, 0);
  out.set(custodyRoot, ROOT_DOMAIN.length + 1);
  return out;
}

/** The seal note's origin: the log origin with `/seal`, so a seal can never pass for a ledger checkpoint. */
export function sealOrigin(logOrigin: string): string {
  return `${logOrigin}/seal`;
}

export interface SealedBatch {
  /** The signed note: a C2SP checkpoint of the batch tree, origin `<log origin>/seal`. */
  note: string;
  root: Uint8Array;
  size: number;
  /** SHA-256(0x00 || leaf entry) of each member, in order. */
  leafHashes: Uint8Array[];
  /** Per input leaf, in order: its index and inclusion path in the batch tree. */
  members: Array<{ index: number; path: Uint8Array[] }>;
}

/** Builds the batch tree over leaf entries (format 2: custody records) and signs its root once with the platform key. */
export function sealLeaves(leafEntries: readonly Uint8Array[], signer: Signer): SealedBatch {
  const batch = batchOf(leafEntries);
  const size = leafEntries.length;
  const note = signNote(formatCheckpoint({ origin: sealOrigin(signer.name), size, rootHash: batch.root }), [signer]);
  return { note, root: batch.root, size, leafHashes: batch.leafHashes, members: batch.leafHashes.map((_, index) => ({ index, path: batch.pathOf(index) })) };
}

/** Format 1: the batch tree over custody roots. */
export function sealBatch(custodyRoots: readonly Uint8Array[], signer: Signer): SealedBatch {
  return sealLeaves(custodyRoots.map(sealLeafEntry), signer);
}

export interface SealProof {
  /** The signer's name: the platform key name, which is the log origin. */
  signer: string;
  size: number;
  index: number;
  path: Uint8Array[];
  /** base64 of key id (4 bytes) || Ed25519 signature, as in the note's signature line. */
  signature: string;
}

/**
 * Rebuilds the seal note from a member's leaf entry and its proof, and verifies it with the
 * platform's verifier keys. Throws unless the note verifies and names this batch root.
 */
export function verifySealOf(leafEntry: Uint8Array, proof: SealProof, keys: readonly VerifierKey[]): void {
  const batchRoot = rootFromInclusionProof(leafHash(leafEntry), proof.index, proof.size, proof.path);
  const text = formatCheckpoint({ origin: sealOrigin(proof.signer), size: proof.size, rootHash: batchRoot });
  const note = `${text}\n\u2014 ${proof.signer} ${proof.signature}\n`;
  const verified = verifyNote(note, keys);
  const checkpoint = parseCheckpoint(verified.text);
  if (checkpoint.origin !== sealOrigin(proof.signer)) throw new CustodyFormatError("BAD_SEAL", `seal origin is ${checkpoint.origin}`);
}

/** The signature line's base64 blob of a seal note (what a SealProof carries). */
export function sealSignatureOf(note: string, signerName: string): string {
  const prefix = `\u2014 ${signerName} `;
  const line = note.split("\n").find((l) => l.startsWith(prefix));
  const blob = line === undefined ? undefined : decodeBase64(line.slice(prefix.length));
  if (blob === undefined) throw new CustodyFormatError("BAD_SEAL", `seal note has no base64 signature by ${signerName}`);
  // Re-encoded, not sliced: the note holds an em dash, so V8 stores it and every slice of it two
  // bytes per character, and so would be each x-custody-seal header built from the slice, and the
  // whole request head undici joins around it, for every delivery of the batch.
  return encodeBase64(blob);
}

import { appendLeaves, assembleProof, inclusionProofPlan, leafHash, nodeKey, rootFromInclusionProof } from "@custody/merkle";
import { formatCheckpoint, parseCheckpoint, signNote, verifyNote, type Signer, type VerifierKey } from "@custody/note";
import { CustodyFormatError } from "./hops.js";

const encoder = new TextEncoder();
const ROOT_DOMAIN = encoder.encode("custody-root/v1");

/**
 * Signing one root per batch keeps Ed25519 off the per-delivery path (proofs/FORMAT.md §8): measured
 * here, one note signature with @noble/ed25519 costs ~1 ms under load, so a signature per delivery
 * would cap a core at ~1,000 deliveries/s, while a batch of 256 costs ~0.2 ms per attempt, almost all
 * of it hashing. With batching, the portable noble code is fast enough and the verifier shares it.
 */
export const MAX_SEAL_BATCH = 4096;

/** A custody root's leaf in a seal batch tree: `"custody-root/v1" || 0x00 || root(32)`. */
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
  /** Per input root, in order: its index and inclusion path in the batch tree. */
  members: Array<{ index: number; path: Uint8Array[] }>;
}

/** Builds the batch tree over custody roots and signs its root once with the platform key. */
export function sealBatch(custodyRoots: readonly Uint8Array[], signer: Signer): SealedBatch {
  if (custodyRoots.length === 0 || custodyRoots.length > MAX_SEAL_BATCH) {
    throw new CustodyFormatError("BAD_SEAL", `a seal batch holds 1 to ${MAX_SEAL_BATCH} roots, got ${custodyRoots.length}`);
  }
  const leaves = custodyRoots.map((r) => leafHash(sealLeafEntry(r)));
  // Build the tree once and read every path from its nodes: O(n log n), where a proof per member
  // computed from scratch would be O(n²).
  const tree = appendLeaves([], 0, leaves);
  const nodes = new Map(tree.newNodes.map((n) => [nodeKey(n), n.hash]));
  const lookup = (id: { level: number; index: number }) => nodes.get(nodeKey(id));
  const note = signNote(formatCheckpoint({ origin: sealOrigin(signer.name), size: leaves.length, rootHash: tree.root }), [signer]);
  return {
    note,
    root: tree.root,
    size: leaves.length,
    members: leaves.map((_, index) => ({ index, path: assembleProof(inclusionProofPlan(index, leaves.length), lookup) })),
  };
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
 * Rebuilds the seal note from a custody root and its proof, and verifies it with the platform's
 * verifier keys. Throws unless the note verifies and names this batch root.
 */
export function verifySeal(custodyRoot: Uint8Array, proof: SealProof, keys: readonly VerifierKey[]): void {
  const batchRoot = rootFromInclusionProof(leafHash(sealLeafEntry(custodyRoot)), proof.index, proof.size, proof.path);
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
  if (!line) throw new CustodyFormatError("BAD_SEAL", `seal note has no signature by ${signerName}`);
  return line.slice(prefix.length);
}

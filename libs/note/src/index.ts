/**
 * @custody/note: C2SP signed notes (c2sp.org/signed-note), Ed25519 note keys, transparency-log
 * checkpoints (c2sp.org/tlog-checkpoint) and proof bundles (c2sp.org/tlog-proof@v1).
 * Pure TypeScript with no I/O, so the same code runs in the service, a browser and the standalone
 * verifier.
 */
export { NoteError, NoteErrorCodes } from "./errors.js";
export type { NoteErrorCode } from "./errors.js";

export {
  computeKeyId,
  formatSignerKey,
  formatVerifierKey,
  generateSigner,
  KEY_ID_SIZE,
  parseSignerKey,
  parseVerifierKey,
  signerFromSeed,
  SIG_TYPE_ED25519,
  verifierKeyFromPublicKey,
  verifierKeyOf,
} from "./keys.js";
export type { Signer, VerifierKey } from "./keys.js";

export { MAX_NOTE_SIZE, MAX_SIGNATURES, parseNote, signNote, verifyNote } from "./note.js";
export type { NoteInput, NoteSignature, ParsedNote, VerifiedNote } from "./note.js";

export { formatCheckpoint, openCheckpoint, parseCheckpoint, ROOT_HASH_SIZE } from "./checkpoint.js";
export type { Checkpoint, CheckpointFields } from "./checkpoint.js";

export {
  formatTlogProof,
  MAX_PROOF_HASHES,
  MAX_TLOG_PROOF_SIZE,
  openTlogProof,
  parseTlogProof,
  TLOG_PROOF_HEADER,
} from "./tlog-proof.js";
export type { OpenedTlogProof, TlogProof } from "./tlog-proof.js";

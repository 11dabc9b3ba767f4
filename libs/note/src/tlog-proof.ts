/**
 * Transparency log proofs, c2sp.org/tlog-proof (format version `c2sp.org/tlog-proof@v1`), the
 * offline-verifiable "spicy signature" bundle:
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64 opaque data>\n]        optional, unauthenticated
 *   index <decimal, no leading zeros>\n
 *   [<base64 32-byte hash>\n ...]         RFC 6962 inclusion proof, leaf's sibling first
 *   \n                                    empty line
 *   <signed checkpoint note, verbatim>
 *
 * This module only handles the layout. parseTlogProof checks the structure (including that the
 * embedded checkpoint is a well-formed signed note whose text is a well-formed checkpoint and that
 * index < tree size) but verifies nothing; openTlogProof also verifies the checkpoint signature.
 * Checking the inclusion proof against the checkpoint's root is the Merkle library's job (RFC 9162
 * §2.1.3.2), as is the exact proof length for (index, size).
 */
import { decodeBase64, encodeBase64 } from "@custody/encoding";
import { openCheckpoint, parseCheckpoint, ROOT_HASH_SIZE } from "./checkpoint.js";
import type { Checkpoint } from "./checkpoint.js";
import { NoteError } from "./errors.js";
import type { VerifierKey } from "./keys.js";
import { MAX_NOTE_SIZE, parseNote } from "./note.js";
import type { NoteInput } from "./note.js";
import { decodeUtf8, findForbiddenChar, isSafeNonNegativeInteger, parseDecimal } from "./text.js";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

/**
 * An inclusion proof in a tree of at most 2^53-1 leaves (the largest size a checkpoint here can
 * carry) has at most 53 hashes; 64 leaves headroom and still bounds the parse.
 */
export const MAX_PROOF_HASHES = 64;

/** Cap on the whole bundle: the checkpoint note's own cap plus room for extra data and hashes. */
export const MAX_TLOG_PROOF_SIZE = 2 * MAX_NOTE_SIZE;

export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  readonly index: number;
  /** Inclusion proof hashes, 32 bytes each, from the leaf's sibling up to the root's child. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim (ends with a newline). */
  readonly checkpointNote: string;
  /** Opaque application data. NOT authenticated: never trust it without an independent check. */
  readonly extra?: Uint8Array;
}

/** A tlog proof whose checkpoint signature has been verified (the inclusion proof has not). */
export interface OpenedTlogProof {
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  readonly checkpoint: Checkpoint;
  readonly extra?: Uint8Array;
}

function bad(message: string): never {
  throw new NoteError("MALFORMED_TLOG_PROOF", message);
}

/** Checks the embedded note and returns its (unverified) checkpoint, for the index < size check. */
function embeddedCheckpoint(checkpointNote: string): Checkpoint {
  return parseCheckpoint(parseNote(checkpointNote).text);
}

export function formatTlogProof(p: TlogProof): string {
  if (!isSafeNonNegativeInteger(p.index)) bad("index must be a non-negative safe integer");
  if (!Array.isArray(p.proof)) bad("proof must be an array of hashes");
  if (p.proof.length > MAX_PROOF_HASHES) bad(`proof has more than ${MAX_PROOF_HASHES} hashes`);
  for (const h of p.proof) {
    if (!(h instanceof Uint8Array) || h.length !== ROOT_HASH_SIZE) bad(`every proof hash must be ${ROOT_HASH_SIZE} bytes`);
  }
  if (p.extra !== undefined && !(p.extra instanceof Uint8Array)) bad("extra must be a Uint8Array");
  if (typeof p.checkpointNote !== "string") bad("checkpoint note must be a string");
  // Refuse to emit a bundle our own parser would reject.
  const cp = embeddedCheckpoint(p.checkpointNote);
  if (p.index >= cp.size) bad(`index ${p.index} is not below checkpoint size ${cp.size}`);

  let out = `${TLOG_PROOF_HEADER}\n`;
  // tlog-proof §Format: "If no extra data is present, this line is omitted", so empty extra data
  // is written as no line at all (and parseTlogProof rejects an empty `extra ` line).
  if (p.extra !== undefined && p.extra.length > 0) out += `extra ${encodeBase64(p.extra)}\n`;
  out += `index ${p.index}\n`;
  for (const h of p.proof) out += `${encodeBase64(h)}\n`;
  return `${out}\n${p.checkpointNote}`;
}

/**
 * Parses a tlog-proof@v1 bundle. Structural only: the checkpoint is NOT verified, so nothing in the
 * result may be trusted yet (see openTlogProof). Errors in the embedded note or checkpoint surface
 * with their own codes (MALFORMED_NOTE, BAD_SIGNATURE_LINE, MALFORMED_CHECKPOINT, ...).
 */
export function parseTlogProof(input: NoteInput): TlogProof {
  let s: string;
  if (input instanceof Uint8Array) {
    if (input.length > MAX_TLOG_PROOF_SIZE) throw new NoteError("NOTE_TOO_LARGE", `tlog proof exceeds ${MAX_TLOG_PROOF_SIZE} bytes`);
    const decoded = decodeUtf8(input);
    if (decoded === undefined) bad("tlog proof is not valid UTF-8");
    s = decoded;
  } else if (typeof input === "string") {
    if (input.length > MAX_TLOG_PROOF_SIZE) throw new NoteError("NOTE_TOO_LARGE", `tlog proof exceeds ${MAX_TLOG_PROOF_SIZE} bytes`);
    s = input;
  } else {
    bad("tlog proof must be a string or Uint8Array");
  }
  if (!s.startsWith(`${TLOG_PROOF_HEADER}\n`)) bad(`first line must be ${TLOG_PROOF_HEADER}`);

  // The header, extra, index and hash lines are all non-empty, so the first empty line is the one
  // that ends the proof section; everything after it is the checkpoint note, verbatim.
  const sep = s.indexOf("\n\n");
  if (sep < 0) bad("no empty line before the checkpoint");
  const head = s.slice(0, sep);
  const checkpointNote = s.slice(sep + 2);
  if (findForbiddenChar(head) >= 0) bad("proof section contains a control character or lone surrogate");
  const lines = head.split("\n");
  // Bound the work before decoding anything: header + optional extra + index + hashes.
  if (lines.length > 3 + MAX_PROOF_HASHES) bad(`proof has more than ${MAX_PROOF_HASHES} hashes`);

  let pos = 1;
  let extra: Uint8Array | undefined;
  const extraLine = lines[pos];
  if (extraLine?.startsWith("extra ")) {
    const decoded = decodeBase64(extraLine.slice("extra ".length));
    if (decoded === undefined) bad("extra data is not canonical base64");
    if (decoded.length === 0) bad("extra line present but empty (the line must be omitted instead)");
    extra = decoded;
    pos++;
  }
  const indexLine = lines[pos];
  if (indexLine === undefined || !indexLine.startsWith("index ")) bad("missing `index <N>` line");
  const index = parseDecimal(indexLine.slice("index ".length));
  if (index === undefined) bad("index must be a decimal without leading zeros, at most 2^53-1");
  pos++;

  const hashLines = lines.slice(pos);
  if (hashLines.length > MAX_PROOF_HASHES) bad(`proof has more than ${MAX_PROOF_HASHES} hashes`);
  const proof: Uint8Array[] = [];
  for (const line of hashLines) {
    const h = decodeBase64(line);
    if (h === undefined || h.length !== ROOT_HASH_SIZE) bad(`proof line ${proof.length + 1} is not canonical base64 of ${ROOT_HASH_SIZE} bytes`);
    proof.push(h);
  }

  const cp = embeddedCheckpoint(checkpointNote);
  if (index >= cp.size) bad(`index ${index} is not below checkpoint size ${cp.size}`);
  return extra === undefined ? { index, proof, checkpointNote } : { index, proof, checkpointNote, extra };
}

/**
 * Parses a bundle and verifies its checkpoint with the log's key (and origin, if given). The
 * caller must still verify `proof` for its own leaf hash at `index` against `checkpoint.rootHash`
 * and `checkpoint.size`, and must not trust `extra`.
 */
export function openTlogProof(input: NoteInput, logKey: VerifierKey, expectedOrigin?: string): OpenedTlogProof {
  const p = parseTlogProof(input);
  const checkpoint = openCheckpoint(p.checkpointNote, logKey, expectedOrigin);
  return p.extra === undefined ? { index: p.index, proof: p.proof, checkpoint } : { index: p.index, proof: p.proof, checkpoint, extra: p.extra };
}

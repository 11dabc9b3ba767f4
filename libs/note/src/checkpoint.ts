/**
 * Checkpoints, c2sp.org/tlog-checkpoint §Note text: a signed note whose text is
 *
 *   <origin>\n
 *   <tree size, ASCII decimal, no leading zeros>\n
 *   <base64 RFC 6962/9162 root hash>\n
 *   [<extension line>\n ...]
 *
 * parseCheckpoint is strict: text from a log is attacker-controlled until verified, and even
 * verified text is parsed so that exactly one byte string means a given tree head.
 */
import { decodeBase64, encodeBase64 } from "@custody/encoding";
import { NoteError } from "./errors.js";
import type { VerifierKey } from "./keys.js";
import { MAX_NOTE_SIZE, verifyNote } from "./note.js";
import type { NoteInput } from "./note.js";
import { findForbiddenChar, isSafeNonNegativeInteger, parseDecimal } from "./text.js";

/** SHA-256 output: RFC 9162 §2.1 fixes the tree hash for these logs. */
export const ROOT_HASH_SIZE = 32;

export interface Checkpoint {
  /** Unique identifier of the log; the spec recommends (but does not require) a schema-less URL. */
  readonly origin: string;
  /** Number of leaves; limited to Number.MAX_SAFE_INTEGER so it is exact. */
  readonly size: number;
  /** 32-byte Merkle tree head at `size`. */
  readonly rootHash: Uint8Array;
  /** Opaque extension lines, without their newlines. The spec does NOT RECOMMEND using them. */
  readonly extensions: readonly string[];
}

export interface CheckpointFields {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

function bad(message: string): never {
  throw new NoteError("MALFORMED_CHECKPOINT", message);
}

/** A line of checkpoint text: non-empty, no newline, no control characters, no lone surrogates. */
function checkLine(line: unknown, what: string): asserts line is string {
  if (typeof line !== "string" || line.length === 0) bad(`${what} must be a non-empty string`);
  if (line.includes("\n") || findForbiddenChar(line) >= 0) bad(`${what} contains a newline or control character`);
}

/** Renders the checkpoint note text (to be signed with signNote). */
export function formatCheckpoint(cp: CheckpointFields): string {
  checkLine(cp.origin, "origin");
  if (!isSafeNonNegativeInteger(cp.size)) bad("size must be a non-negative safe integer");
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== ROOT_HASH_SIZE) bad(`root hash must be ${ROOT_HASH_SIZE} bytes`);
  const extensions = cp.extensions ?? [];
  if (!Array.isArray(extensions)) bad("extensions must be an array of strings");
  extensions.forEach((ext, i) => {
    checkLine(ext, `extension line ${i + 1}`);
  });
  let text = `${cp.origin}\n${cp.size}\n${encodeBase64(cp.rootHash)}\n`;
  for (const ext of extensions) text += `${ext}\n`;
  return text;
}

/**
 * Parses checkpoint note text (the text of a note, ending in "\n"). Does not verify anything: call
 * openCheckpoint for a signed checkpoint from an untrusted source.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== "string") bad("checkpoint text must be a string");
  if (text.length > MAX_NOTE_SIZE) throw new NoteError("NOTE_TOO_LARGE", `checkpoint text exceeds ${MAX_NOTE_SIZE} characters`);
  if (findForbiddenChar(text) >= 0) bad("checkpoint text contains a control character or lone surrogate");
  if (!text.endsWith("\n")) bad("checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) bad("checkpoint needs origin, size and root lines");
  // "a sequence of at least three non-empty lines"; extension lines "MUST be non-empty".
  if (lines.some((l) => l.length === 0)) bad("checkpoint text contains an empty line");
  const size = parseDecimal(sizeLine);
  if (size === undefined) bad("tree size must be a decimal without leading zeros, at most 2^53-1");
  const rootHash = decodeBase64(rootLine);
  if (rootHash === undefined || rootHash.length !== ROOT_HASH_SIZE) bad(`root hash must be canonical base64 of ${ROOT_HASH_SIZE} bytes`);
  return { origin, size, rootHash, extensions };
}

/**
 * Verifies a signed checkpoint with the log's key and parses it. The signature is checked before
 * the text is interpreted (signed-note: unverified text MUST be ignored). If `expectedOrigin` is
 * given, the origin line must equal it exactly; a client that follows one log should always pass
 * it, so a validly signed checkpoint of some other log cannot be substituted.
 */
export function openCheckpoint(note: NoteInput, verifierKey: VerifierKey, expectedOrigin?: string): Checkpoint {
  const { text } = verifyNote(note, [verifierKey]);
  const cp = parseCheckpoint(text);
  if (expectedOrigin !== undefined && cp.origin !== expectedOrigin) {
    throw new NoteError("ORIGIN_MISMATCH", `checkpoint origin ${JSON.stringify(cp.origin)} is not ${JSON.stringify(expectedOrigin)}`);
  }
  return cp;
}

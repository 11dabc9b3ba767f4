/**
 * Signed notes, c2sp.org/signed-note:
 *
 *   <text, ending in "\n">
 *   "\n"                                  (blank line)
 *   — <key name> <base64(4-byte key ID || signature)>\n   (one or more)
 *
 * Everything handed to parseNote/verifyNote is treated as attacker-controlled: sizes are capped
 * before work that grows with them, every byte is checked against the spec's character rules, and
 * the whole signature block must parse before any signature is verified. Only Ed25519 (signature
 * type 0x01) keys can be trusted; signature lines for any other key are ignored as the spec
 * requires for unknown keys.
 */
import { ed25519Sign, verifyEd25519 } from "@custody/crypto";
import { decodeBase64, encodeBase64, toHex, utf8Bytes } from "@custody/encoding";
import { NoteError } from "./errors.js";
import { assertSigner, assertVerifierKey, KEY_ID_SIZE } from "./keys.js";
import type { Signer, VerifierKey } from "./keys.js";
import { bytesEqual, concatBytes, decodeUtf8, findForbiddenChar, isValidKeyName } from "./text.js";

/**
 * Maximum note size in UTF-8 bytes. signed-note §Format lets verifiers cap the size as long as 16
 * signatures fit; 16 post-quantum signatures (~5 kB each) are well under 1 MiB, and a checkpoint
 * text is tiny.
 */
export const MAX_NOTE_SIZE = 1 << 20;

/** Maximum number of signature lines (the spec's suggested cap; it MUST be at least 16). */
export const MAX_SIGNATURES = 100;

/** U+2014 EM DASH + U+0020 SPACE: the prefix of every signature line. */
const SIG_PREFIX = "\u2014 ";

/** The raw bytes a note arrived as, or the string decoded from them. */
export type NoteInput = string | Uint8Array;

/** One signature line, unverified. */
export interface NoteSignature {
  readonly name: string;
  /** The 4-byte key ID (big-endian uint32 on the wire). */
  readonly keyId: Uint8Array;
  /** The signature bytes after the key ID (64 for Ed25519; other types may differ). */
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, including its final newline but not the separating blank line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface VerifiedNote {
  /** The signed text. Only meaningful because at least one trusted key verified it. */
  readonly text: string;
  /** Names of the trusted keys whose signatures verified, in signature-line order, without repeats. */
  readonly verified: readonly string[];
}

function malformed(message: string): never {
  throw new NoteError("MALFORMED_NOTE", message);
}

/**
 * Turns the input into a string that satisfies signed-note §Format's character rules, checking the
 * size first so an oversized input is refused before it is decoded or scanned.
 */
function noteString(input: NoteInput): string {
  let s: string;
  if (input instanceof Uint8Array) {
    if (input.length > MAX_NOTE_SIZE) throw new NoteError("NOTE_TOO_LARGE", `note is ${input.length} bytes, limit ${MAX_NOTE_SIZE}`);
    const decoded = decodeUtf8(input);
    if (decoded === undefined) malformed("note is not valid UTF-8");
    s = decoded;
  } else if (typeof input === "string") {
    // Every UTF-16 code unit encodes to at least one UTF-8 byte, so this rejects early without
    // encoding; the exact byte count is checked after the character scan.
    if (input.length > MAX_NOTE_SIZE) throw new NoteError("NOTE_TOO_LARGE", `note exceeds ${MAX_NOTE_SIZE} bytes`);
    s = input;
  } else {
    malformed("note must be a string or Uint8Array");
  }
  const bad = findForbiddenChar(s);
  if (bad >= 0) malformed(`note contains a control character or lone surrogate at offset ${bad}`);
  if (typeof input === "string" && utf8Bytes(s).length > MAX_NOTE_SIZE) {
    throw new NoteError("NOTE_TOO_LARGE", `note exceeds ${MAX_NOTE_SIZE} bytes`);
  }
  return s;
}

function badLine(index: number, why: string): never {
  throw new NoteError("BAD_SIGNATURE_LINE", `signature line ${index + 1}: ${why}`);
}

/** Parses `— <name> <base64(keyID || sig)>` (without the trailing newline). */
function parseSignatureLine(line: string, index: number): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) badLine(index, "must start with U+2014 EM DASH and a space");
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) badLine(index, "missing space between key name and signature");
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) badLine(index, "invalid key name");
  // Strict decoding: a second space, missing padding or stray bits all fail here.
  const raw = decodeBase64(b64);
  if (raw === undefined) badLine(index, "signature is not canonical base64");
  if (raw.length < KEY_ID_SIZE + 1) badLine(index, "signature shorter than key ID + 1 byte");
  return { name, keyId: raw.slice(0, KEY_ID_SIZE), signature: raw.slice(KEY_ID_SIZE) };
}

/**
 * Splits a note into its text and (unverified) signatures. Does NOT check any signature: the
 * returned text must not be acted on (signed-note: "The text MUST be ignored unless the note is
 * signed by a trusted key"). Use verifyNote for that.
 */
export function parseNote(note: NoteInput): ParsedNote {
  const s = noteString(note);
  // signed-note §Format: the text is separated from the signatures by the LAST empty line, so the
  // text itself may contain empty lines. Signature lines never contain "\n\n".
  const split = s.lastIndexOf("\n\n");
  if (split < 0) malformed("no blank line before the signatures");
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0) malformed("note has no signature lines");
  if (!block.endsWith("\n")) malformed("note does not end with a newline");
  const lines = block.slice(0, -1).split("\n");
  // Cap before parsing any line, so a note of a million tiny lines costs one split.
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteError("NOTE_TOO_LARGE", `note has ${lines.length} signature lines, limit ${MAX_SIGNATURES}`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** Index of trusted keys by (name, key ID), the tuple signed-note says identifies a key. */
function indexKeys(keys: readonly VerifierKey[]): Map<string, VerifierKey> {
  if (!Array.isArray(keys)) throw new NoteError("BAD_VKEY", "verifier keys must be an array");
  const byId = new Map<string, VerifierKey>();
  for (const key of keys) {
    assertVerifierKey(key);
    const id = lookupId(key.name, key.keyId);
    const existing = byId.get(id);
    if (existing !== undefined && !bytesEqual(existing.publicKey, key.publicKey)) {
      // Two different keys answering to one (name, ID): we could not say which one a signature
      // line means, and picking either would make the outcome depend on list order.
      throw new NoteError("BAD_VKEY", `two different verifier keys share name ${key.name} and key ID ${toHex(key.keyId)}`);
    }
    byId.set(id, key);
  }
  return byId;
}

function lookupId(name: string, keyId: Uint8Array): string {
  // '+' cannot occur in a valid name, so this join is unambiguous.
  return `${name}+${toHex(keyId)}`;
}

/**
 * Verifies a note against trusted keys, per signed-note §Signatures:
 *  - a line whose (name, key ID) is not a trusted key is ignored, even if it shares the name OR the
 *    ID (but not both) with one;
 *  - a line from a trusted key that fails to verify rejects the whole note (SIGNATURE_INVALID),
 *    even if another trusted key verified;
 *  - if no trusted key verified, the note is rejected (NO_VERIFIED_SIGNATURE).
 * Every line from a trusted key is verified, including repeats: a duplicate line cannot smuggle in
 * garbage. The signed message is exactly the UTF-8 bytes of the text, final newline included.
 */
export function verifyNote(note: NoteInput, verifierKeys: readonly VerifierKey[]): VerifiedNote {
  const known = indexKeys(verifierKeys);
  const { text, signatures } = parseNote(note);
  const message = utf8Bytes(text);
  const verified: string[] = [];
  for (const sig of signatures) {
    const key = known.get(lookupId(sig.name, sig.keyId));
    if (key === undefined) continue;
    if (!verifyEd25519(sig.signature, message, key.publicKey)) {
      throw new NoteError("SIGNATURE_INVALID", `signature by ${sig.name}+${toHex(sig.keyId)} does not verify`);
    }
    if (!verified.includes(sig.name)) verified.push(sig.name);
  }
  if (verified.length === 0) throw new NoteError("NO_VERIFIED_SIGNATURE", "note has no signature from a trusted key");
  return { text, verified };
}

/**
 * Signs `text` with each signer, in order. The text must be non-empty, end with a newline and obey
 * the note character rules, so that what we emit always parses back to the same text.
 */
export function signNote(text: string, signers: readonly Signer[]): string {
  if (typeof text !== "string") malformed("note text must be a string");
  if (!text.endsWith("\n")) malformed("note text must be non-empty and end with a newline");
  const bad = findForbiddenChar(text);
  if (bad >= 0) malformed(`note text contains a control character or lone surrogate at offset ${bad}`);
  if (!Array.isArray(signers) || signers.length === 0) malformed("a signed note needs at least one signer");
  if (signers.length > MAX_SIGNATURES) throw new NoteError("NOTE_TOO_LARGE", `more than ${MAX_SIGNATURES} signers`);

  const message = utf8Bytes(text);
  if (message.length > MAX_NOTE_SIZE) throw new NoteError("NOTE_TOO_LARGE", `note text exceeds ${MAX_NOTE_SIZE} bytes`);
  const seen = new Set<string>();
  let out = text + "\n";
  for (const signer of signers) {
    assertSigner(signer);
    const id = lookupId(signer.name, signer.keyId);
    if (seen.has(id)) throw new NoteError("BAD_SIGNER_KEY", `signer ${id} given twice`);
    seen.add(id);
    const sig = ed25519Sign(message, signer.seed);
    out += `${SIG_PREFIX}${signer.name} ${encodeBase64(concatBytes(signer.keyId, sig))}\n`;
  }
  if (utf8Bytes(out).length > MAX_NOTE_SIZE) throw new NoteError("NOTE_TOO_LARGE", `signed note exceeds ${MAX_NOTE_SIZE} bytes`);
  return out;
}

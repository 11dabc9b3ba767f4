/**
 * Ed25519 note keys and their text encodings (c2sp.org/signed-note §Signatures, §Ed25519
 * signatures; text forms as in golang.org/x/mod/sumdb/note, which the C2SP spec codifies):
 *
 *   verifier key: <name>+<hex8 key ID>+base64(0x01 || 32-byte public key)
 *   signer key:   PRIVATE+KEY+<name>+<hex8 key ID>+base64(0x01 || 32-byte seed)
 *
 * Verifier keys come from configuration, signer keys from a secret store; both are parsed
 * strictly and the embedded key ID is recomputed, so a typo fails here, not as a confusing
 * "no verified signature" later.
 */
import { isUsablePublicKey, PUBLIC_KEY_SIZE, publicKeyFromSeed, randomSeed, SEED_SIZE, sha256 } from "@custody/crypto";
import { decodeBase64, encodeBase64, fromHex, toHex, utf8Bytes } from "@custody/encoding";
import { NoteError } from "./errors.js";
import type { NoteErrorCode } from "./errors.js";
import { bytesEqual, concatBytes, isValidKeyName } from "./text.js";

/** signed-note §Signature types: 0x01 is Ed25519, the only type this library signs or verifies. */
export const SIG_TYPE_ED25519 = 0x01;
export const KEY_ID_SIZE = 4;

/** Generous cap on key text length; keeps hostile configuration strings from costing much. */
const MAX_KEY_TEXT = 4096;

/** A trusted Ed25519 public key, identified in notes by (name, keyId). */
export interface VerifierKey {
  readonly name: string;
  /** SHA-256(name || 0x0A || 0x01 || publicKey)[:4], big-endian as it appears on the wire. */
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** An Ed25519 signing key. `seed` is the RFC 8032 32-byte private key; keep it secret. */
export interface Signer {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
}

/**
 * signed-note §Ed25519 signatures:
 *   key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4]
 */
export function computeKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  const digest = sha256(concatBytes(utf8Bytes(name), Uint8Array.of(0x0a, SIG_TYPE_ED25519), publicKey));
  return digest.slice(0, KEY_ID_SIZE);
}

function fail(code: NoteErrorCode, message: string): never {
  throw new NoteError(code, message);
}

function checkName(name: unknown, code: NoteErrorCode): asserts name is string {
  if (typeof name !== "string" || !isValidKeyName(name)) {
    fail(code, "key name must be non-empty with no Unicode spaces, '+' or control characters");
  }
}

/** Builds a verifier key from a raw 32-byte Ed25519 public key. */
export function verifierKeyFromPublicKey(name: string, publicKey: Uint8Array): VerifierKey {
  checkName(name, "BAD_VKEY");
  if (!(publicKey instanceof Uint8Array) || !isUsablePublicKey(publicKey)) {
    fail("BAD_VKEY", "public key must be a canonical 32-byte Ed25519 point not of small order");
  }
  const pk = publicKey.slice();
  return Object.freeze({ name, keyId: computeKeyId(name, pk), publicKey: pk });
}

/**
 * Throws BAD_VKEY unless `key` is internally consistent. Callers may build VerifierKey objects by
 * hand, so verifyNote re-checks them rather than trusting the type.
 */
export function assertVerifierKey(key: VerifierKey): void {
  if (typeof key !== "object" || key === null) fail("BAD_VKEY", "verifier key must be an object");
  checkName(key.name, "BAD_VKEY");
  if (!(key.publicKey instanceof Uint8Array) || !isUsablePublicKey(key.publicKey)) {
    fail("BAD_VKEY", `verifier key ${key.name}: public key must be a canonical 32-byte Ed25519 point not of small order`);
  }
  if (!(key.keyId instanceof Uint8Array) || !bytesEqual(key.keyId, computeKeyId(key.name, key.publicKey))) {
    fail("BAD_VKEY", `verifier key ${key.name}: key ID does not match name and public key`);
  }
}

/** Splits `name+hex8+base64` (the tail shared by both key formats) and checks each part. */
function parseKeyTail(parts: string[], code: NoteErrorCode, what: string): { name: string; keyId: Uint8Array; key: Uint8Array } {
  const [name, hex, b64] = parts;
  if (name === undefined || hex === undefined || b64 === undefined) fail(code, `${what}: wrong number of '+'-separated fields`);
  checkName(name, code);
  // The canonical form (Go's %08x) is lowercase; accepting exactly one spelling keeps key text
  // comparable as a string.
  if (!/^[0-9a-f]{8}$/.test(hex)) fail(code, `${what}: key ID must be 8 lowercase hex digits`);
  const raw = decodeBase64(b64);
  if (raw === undefined) fail(code, `${what}: key is not canonical base64`);
  if (raw.length !== 1 + 32) fail(code, `${what}: key must be 33 bytes (type byte + 32), got ${raw.length}`);
  if (raw[0] !== SIG_TYPE_ED25519) fail(code, `${what}: unsupported signature type 0x${toHex(raw.subarray(0, 1))}`);
  return { name, keyId: fromHex(hex), key: raw.slice(1) };
}

/**
 * Splits at the first `n - 1` '+' characters. The last field is base64, whose alphabet includes
 * '+', so it may contain more of them; the earlier fields (fixed words, a key name, hex) cannot.
 * Returns undefined if there are fewer than n fields.
 */
function splitFields(text: string, n: number): string[] | undefined {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < n - 1; i++) {
    const plus = rest.indexOf("+");
    if (plus < 0) return undefined;
    out.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  out.push(rest);
  return out;
}

/** Parses `name+hex8+base64(0x01 || pubkey)`. */
export function parseVerifierKey(text: string): VerifierKey {
  if (typeof text !== "string") fail("BAD_VKEY", "verifier key must be a string");
  if (text.length > MAX_KEY_TEXT) fail("BAD_VKEY", "verifier key text too long");
  const parts = splitFields(text, 3);
  if (parts === undefined) fail("BAD_VKEY", "verifier key must have the form name+hex8+base64");
  const { name, keyId, key } = parseKeyTail(parts, "BAD_VKEY", "verifier key");
  const vkey = verifierKeyFromPublicKey(name, key);
  if (!bytesEqual(vkey.keyId, keyId)) fail("BAD_VKEY", `verifier key ${name}: key ID does not match name and public key`);
  return vkey;
}

export function formatVerifierKey(key: VerifierKey): string {
  assertVerifierKey(key);
  return `${key.name}+${toHex(key.keyId)}+${encodeBase64(concatBytes(Uint8Array.of(SIG_TYPE_ED25519), key.publicKey))}`;
}

/** Builds a signer from a name and a 32-byte RFC 8032 seed (private key). */
export function signerFromSeed(name: string, seed: Uint8Array): Signer {
  checkName(name, "BAD_SIGNER_KEY");
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_SIZE) fail("BAD_SIGNER_KEY", `seed must be ${SEED_SIZE} bytes`);
  const s = seed.slice();
  const publicKey = publicKeyFromSeed(s);
  return Object.freeze({ name, keyId: computeKeyId(name, publicKey), publicKey, seed: s });
}

/** A fresh signer from the platform CSPRNG (crypto.getRandomValues). */
export function generateSigner(name: string): Signer {
  checkName(name, "BAD_SIGNER_KEY");
  return signerFromSeed(name, randomSeed());
}

/** Parses `PRIVATE+KEY+name+hex8+base64(0x01 || seed)`. */
export function parseSignerKey(text: string): Signer {
  if (typeof text !== "string") fail("BAD_SIGNER_KEY", "signer key must be a string");
  if (text.length > MAX_KEY_TEXT) fail("BAD_SIGNER_KEY", "signer key text too long");
  const parts = splitFields(text, 5);
  if (parts === undefined || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    fail("BAD_SIGNER_KEY", "signer key must have the form PRIVATE+KEY+name+hex8+base64");
  }
  const { name, keyId, key } = parseKeyTail(parts.slice(2), "BAD_SIGNER_KEY", "signer key");
  const signer = signerFromSeed(name, key);
  // The key ID is of the *public* key, so this also catches a seed pasted under the wrong name.
  if (!bytesEqual(signer.keyId, keyId)) fail("BAD_SIGNER_KEY", `signer key ${name}: key ID does not match name and key`);
  return signer;
}

/** Throws BAD_SIGNER_KEY unless `signer` is internally consistent (it may have been built by hand). */
// Deriving the public key costs ~0.3 ms with the portable code, and a process signs with the same
// key many times a second: a signer that passed is remembered with exactly what was checked.
const checkedSigners = new WeakMap<Signer, string>();
const fingerprint = (s: Signer) => `${s.name}\n${toHex(s.seed)}\n${toHex(s.publicKey)}\n${toHex(s.keyId)}`;

export function assertSigner(signer: Signer): void {
  if (typeof signer !== "object" || signer === null) fail("BAD_SIGNER_KEY", "signer must be an object");
  checkName(signer.name, "BAD_SIGNER_KEY");
  if (!(signer.seed instanceof Uint8Array) || signer.seed.length !== SEED_SIZE) fail("BAD_SIGNER_KEY", `seed must be ${SEED_SIZE} bytes`);
  const known = checkedSigners.get(signer);
  if (known !== undefined && signer.publicKey instanceof Uint8Array && signer.keyId instanceof Uint8Array && known === fingerprint(signer)) return;
  const publicKey = publicKeyFromSeed(signer.seed);
  if (!(signer.publicKey instanceof Uint8Array) || !bytesEqual(signer.publicKey, publicKey)) {
    fail("BAD_SIGNER_KEY", `signer ${signer.name}: public key does not match seed`);
  }
  if (!(signer.keyId instanceof Uint8Array) || !bytesEqual(signer.keyId, computeKeyId(signer.name, publicKey))) {
    fail("BAD_SIGNER_KEY", `signer ${signer.name}: key ID does not match name and key`);
  }
  checkedSigners.set(signer, fingerprint(signer));
}

export function formatSignerKey(signer: Signer): string {
  assertSigner(signer);
  return `PRIVATE+KEY+${signer.name}+${toHex(signer.keyId)}+${encodeBase64(concatBytes(Uint8Array.of(SIG_TYPE_ED25519), signer.seed))}`;
}

/** The public half of a signer, for publishing or for verifying its own notes. */
export function verifierKeyOf(signer: Signer): VerifierKey {
  assertSigner(signer);
  return verifierKeyFromPublicKey(signer.name, signer.publicKey);
}

export { PUBLIC_KEY_SIZE, SEED_SIZE };

/**
 * The one place that touches @noble/ed25519, so its configuration and verification policy live
 * together.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

// noble's synchronous API needs a SHA-512 provider; setting it is idempotent, and other modules in
// the process that do the same install the same function.
ed.hashes.sha512 = sha512;

export const PUBLIC_KEY_SIZE = 32;
export const SEED_SIZE = 32;
export const SIGNATURE_SIZE = 64;

/** Derives the RFC 8032 public key from a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

export function randomSeed(): Uint8Array {
  // crypto.getRandomValues via noble; present in browsers and Node >= 19.
  return ed.utils.randomSecretKey();
}

export function signEd25519(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed.sign(message, seed);
}

/**
 * Strict RFC 8032 verification (`zip215: false`): rejects non-canonical R/A encodings and
 * small-order public keys, so a signature has one valid encoding and cannot be malleated into a
 * second line that also verifies. Never throws: a wrong-length or undecodable input is `false`.
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_SIZE || publicKey.length !== PUBLIC_KEY_SIZE) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * True if `publicKey` is a canonical encoding of a point that is not of small order: the keys
 * verifyEd25519 can ever accept a signature for. Checked when a verifier key is parsed so a bad
 * key fails loudly at configuration time rather than as "no valid signature" later.
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_SIZE) return false;
  try {
    return !ed.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

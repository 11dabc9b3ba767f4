/**
 * Ed25519 key checks and verification, one policy for the whole platform and the verifier: strict
 * RFC 8032 (`zip215: false`) — non-canonical encodings and small-order public keys are refused — so
 * a signature has one valid encoding and the ledger never holds a signature its own verifier rejects.
 * Signing goes through the process's backend (backend.ts).
 */
import * as ed from "@noble/ed25519";
import "./backend.js";

export const PUBLIC_KEY_SIZE = 32;
export const SEED_SIZE = 32;
export const SIGNATURE_SIZE = 64;

/** Derives the RFC 8032 public key from a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

/** A fresh random seed (crypto.getRandomValues: browsers and Node >= 19). */
export function randomSeed(): Uint8Array {
  return ed.utils.randomSecretKey();
}

/** Strict RFC 8032 verification. Never throws: a wrong-length or undecodable input is `false`. */
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
 * verifyEd25519 can ever accept a signature for. Checked when a key is registered or parsed, so a
 * bad key fails loudly then rather than as "no valid signature" later.
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_SIZE) return false;
  try {
    return !ed.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

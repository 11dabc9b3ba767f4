/**
 * Ed25519 key checks and verification, one policy for the whole platform and the verifier (FORMAT.md
 * §1): strict RFC 8032 — R and the public key A canonical (y < p, no "negative zero" x), S < L, A
 * not of small order, and the cofactorless equation [S]B = R + [k]A — so a signature has one valid
 * encoding, the ledger never holds a signature its own verifier rejects, and libsodium, OpenSSL or
 * Go (all cofactorless) agree with it on every input a verifier can meet. Signing goes through the
 * process's backend (backend.ts).
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

/** The order of the base point (RFC 8032's L). */
const L = ed.Point.CURVE().n;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Strict RFC 8032 verification (§5.1.7 with the cofactorless equation). noble's own `zip215: false`
 * checks the cofactored [8][S]B = [8]R + [8][k]A, which also accepts R with a small-order component
 * added — a second valid signature for the same message that cofactorless verifiers reject.
 * Never throws: a wrong-length or undecodable input is `false`.
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_SIZE || publicKey.length !== PUBLIC_KEY_SIZE) return false;
  try {
    const A = ed.Point.fromBytes(publicKey, false);
    if (A.isSmallOrder()) return false;
    const r = signature.subarray(0, 32);
    const R = ed.Point.fromBytes(r, false);
    const S = littleEndian(signature.subarray(32));
    if (S >= L) return false;
    const k = littleEndian(ed.hash(ed.etc.concatBytes(r, publicKey, message))) % L;
    return ed.Point.BASE.multiply(S, false).equals(R.add(A.multiply(k, false)));
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

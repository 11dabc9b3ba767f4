/**
 * The one home of Custody's hash, MAC and signature primitives. Portable by default (@noble), so the
 * browser verifier runs the very same code; a process may install a faster backend with identical
 * output (libs/runtime installs node:crypto's in every service: SHA-256 ~4x and Ed25519 signing ~10x
 * faster on this project's machine, docs/benchmarks.md). The pattern is noble-ed25519's own
 * `ed.hashes.sha512 = …`: a backend is a set of pure functions, swapped once at start-up, never per call.
 */
import * as ed from "@noble/ed25519";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256, sha512 } from "@noble/hashes/sha2.js";

// noble's synchronous API needs a SHA-512 provider; setting it is idempotent.
ed.hashes.sha512 = sha512;

export interface CryptoBackend {
  /** Which implementation this is, for logs and tests. */
  readonly name: string;
  /** SHA-256 of the concatenation of the parts (FIPS 180-4). */
  sha256(...parts: Uint8Array[]): Uint8Array;
  /** HMAC-SHA256 (RFC 2104) of the concatenation of the parts. */
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  /** RFC 8032 Ed25519 signature of `message` by the key with this 32-byte seed. */
  ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
}

export const portableBackend: CryptoBackend = {
  name: "noble",
  sha256(...parts) {
    if (parts.length === 1) return nobleSha256(parts[0]!);
    const h = nobleSha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  hmacSha256(key, ...parts) {
    const h = hmac.create(nobleSha256, key);
    for (const p of parts) h.update(p);
    return h.digest();
  },
  ed25519Sign(message, seed) {
    return ed.sign(message, seed);
  },
};

let active: CryptoBackend = portableBackend;

/** Installs a backend for the whole process. Its outputs must equal the portable backend's, byte for byte. */
export function useCryptoBackend(backend: CryptoBackend): void {
  active = backend;
}

export function cryptoBackend(): CryptoBackend {
  return active;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return active.sha256(...parts);
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return active.hmacSha256(key, ...parts);
}

export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return active.ed25519Sign(message, seed);
}

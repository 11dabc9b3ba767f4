import { createHash, createHmac, createPrivateKey, hash, sign, type KeyObject } from "node:crypto";
import { useCryptoBackend, type CryptoBackend } from "@custody/crypto";

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * A digest read as a "binary" (latin1) string, one character per byte, copied into a 32-byte array.
 * V8 keeps typed arrays of up to 64 bytes on its heap; a digest returned as a Buffer gets a backing
 * store of its own, and allocating one costs ~2 µs on this project's machine, several times the
 * hash itself (docs/benchmarks.md, "Off-heap allocation").
 */
function digestBytes(binary: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed: node:crypto takes keys only in a container format.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
// A process signs with one or two platform keys (two across a rotation); the bound only guards a bug.
const MAX_CACHED_KEYS = 16;
const keys = new Map<string, KeyObject>();

function privateKeyOf(seed: Uint8Array): KeyObject {
  const id = Buffer.from(seed).toString("hex");
  let key = keys.get(id);
  if (key === undefined) {
    if (seed.length !== 32) throw new Error(`Ed25519 seed: expected 32 bytes, got length=${seed.length}`);
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}

// Parts joined and hashed in one go up to this size; larger inputs are streamed.
const SMALL = 4_096;

/** node:crypto (OpenSSL): the same bytes as the portable backend, several times faster (crypto.test.ts). */
export const nativeCryptoBackend: CryptoBackend = {
  name: "node:crypto",
  sha256(...parts) {
    // One-shot hashing skips a Hash object per call: most hashes here are of a few small parts.
    if (parts.length === 1) return digestBytes(hash("sha256", parts[0]!, "binary"));
    let size = 0;
    for (const p of parts) size += p.length;
    if (size > SMALL) {
      const h = createHash("sha256");
      for (const p of parts) h.update(p);
      return digestBytes(h.digest("binary"));
    }
    const joined = Buffer.allocUnsafe(size);
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    return digestBytes(hash("sha256", joined, "binary"));
  },
  hmacSha256(key, ...parts) {
    const h = createHmac("sha256", key);
    for (const p of parts) h.update(p);
    return digestBytes(h.digest("binary"));
  },
  ed25519Sign(message, seed) {
    return view(sign(null, message, privateKeyOf(seed)));
  },
};

/** Installs node:crypto as the process's crypto backend (every service does at start). */
export function useNativeCrypto(): void {
  useCryptoBackend(nativeCryptoBackend);
}

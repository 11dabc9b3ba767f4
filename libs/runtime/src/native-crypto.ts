import { createHash, createHmac, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { useCryptoBackend, type CryptoBackend } from "@custody/crypto";

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

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

/** node:crypto (OpenSSL): the same bytes as the portable backend, several times faster (crypto.test.ts). */
export const nativeCryptoBackend: CryptoBackend = {
  name: "node:crypto",
  sha256(...parts) {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return view(h.digest());
  },
  hmacSha256(key, ...parts) {
    const h = createHmac("sha256", key);
    for (const p of parts) h.update(p);
    return view(h.digest());
  },
  ed25519Sign(message, seed) {
    return view(sign(null, message, privateKeyOf(seed)));
  },
};

/** Installs node:crypto as the process's crypto backend (every service does at start). */
export function useNativeCrypto(): void {
  useCryptoBackend(nativeCryptoBackend);
}

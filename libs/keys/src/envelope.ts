import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "@custody/errors";

const VERSION = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under the master key: `0x01 || nonce(12) || ciphertext || tag(16)`. The associated
 * data names what the secret is for (e.g. `platform-key:1a2b3c4d`), so a ciphertext copied onto
 * another row does not decrypt there.
 */
export function encryptSecret(masterKey: Uint8Array, plaintext: Uint8Array, associatedData: string): Buffer {
  checkKey(masterKey);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", masterKey, nonce);
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export function decryptSecret(masterKey: Uint8Array, sealed: Uint8Array, associatedData: string): Buffer {
  checkKey(masterKey);
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
    throw new AppError("KEY_DECRYPTION_FAILED", `encrypted secret for ${associatedData} is malformed`);
  }
  const buf = Buffer.from(sealed);
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", masterKey, nonce);
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (err) {
    throw new AppError("KEY_DECRYPTION_FAILED", `cannot decrypt ${associatedData}: wrong CUSTODY_MASTER_KEY, or the stored secret was altered`, { cause: err });
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new AppError("CONFIG_INVALID", `master key must be 32 bytes, got ${key.length}`);
}

/**
 * Endpoint signing secrets in the Standard Webhooks form: `whsec_` + base64(key bytes). The
 * Standard Webhooks spec recommends 24–64 random bytes; we generate 32 (the SHA-256 block-size
 * sweet spot: HMAC keys past 64 bytes are hashed first and gain nothing).
 */
import { sha256 } from "@custody/crypto";
import { decodeBase64, encodeBase64, toHex, utf8Bytes } from "@custody/encoding";
import { fail } from "./errors.js";

export const SECRET_PREFIX = "whsec_";
export const KEY_ID_PREFIX = "whk_";
export const SECRET_BYTES = 32;
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** Returns n random bytes. Injected so the library stays pure and tests can be deterministic. */
export type RandomSource = (n: number) => Uint8Array;

/** WebCrypto's CSPRNG, present in browsers and Node >= 19 as `globalThis.crypto`. */
export const defaultRandom: RandomSource = (n) => {
  const c = (globalThis as { crypto?: { getRandomValues?: <T extends Uint8Array>(a: T) => T } }).crypto;
  if (typeof c?.getRandomValues !== "function") fail("BAD_RANDOM", "no globalThis.crypto.getRandomValues; inject a random source");
  return c.getRandomValues(new Uint8Array(n));
};

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes (44 base64 characters). */
export function generateSecret(random: RandomSource = defaultRandom): string {
  const key = random(SECRET_BYTES);
  if (!(key instanceof Uint8Array) || key.length !== SECRET_BYTES) {
    fail("BAD_RANDOM", `random source must return a Uint8Array of ${SECRET_BYTES} bytes`);
  }
  // An all-zero key is what a stubbed or broken source returns (a real one: probability 2^-256).
  if (key.every((b) => b === 0)) fail("BAD_RANDOM", "random source returned all-zero bytes");
  return SECRET_PREFIX + encodeBase64(key);
}

/**
 * The raw HMAC key bytes of a secret (a fresh copy). Strict: `whsec_` prefix, canonical padded
 * base64, 24–64 bytes. Unlike the `standardwebhooks` package we do not accept a bare base64 string:
 * our `x-custody-signature` is keyed with the whole `whsec_…` string, so a secret stored without
 * its prefix would silently produce a different signature there.
 */
export function parseSecret(secret: string): Uint8Array {
  return signingKeyOf(secret).key.slice();
}

/** A secret checked and decoded once: the forms signing needs, kept for the life of the process. */
export interface SigningKey {
  /** The raw HMAC key (Standard Webhooks). Never handed out: callers of parseSecret get a copy. */
  readonly key: Uint8Array;
  /** UTF-8 of the whole `whsec_…` string (the x-custody-signature key). */
  readonly utf8: Uint8Array;
  readonly keyId: string;
}

// Deliveries sign with the same few secrets over and over: decode, check and hash each once.
const MAX_PARSED = 4096;
const parsed = new Map<string, SigningKey>();

/** The signing forms of a secret, validated (BAD_SECRET) on first use. */
export function signingKeyOf(secret: string): SigningKey {
  const known = parsed.get(secret);
  if (known !== undefined) return known;
  const key = decodeSecret(secret);
  const signing: SigningKey = { key, utf8: utf8Bytes(secret), keyId: KEY_ID_PREFIX + toHex(sha256(key)).slice(0, 16) };
  if (parsed.size >= MAX_PARSED) parsed.clear();
  parsed.set(secret, signing);
  return signing;
}

function decodeSecret(secret: string): Uint8Array {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    fail("BAD_SECRET", `secret must be a string starting with "${SECRET_PREFIX}"`);
  }
  const key = decodeBase64(secret.slice(SECRET_PREFIX.length));
  if (key === undefined) fail("BAD_SECRET", "secret is not canonical padded base64 after the prefix");
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    fail("BAD_SECRET", `secret must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/**
 * A public, stable id for a secret: `whk_` + the first 16 hex digits (64 bits) of SHA-256(raw key
 * bytes). Sent as `x-custody-signature-key-id` and stored in the ledger so a receiver or auditor can
 * tell which secret signed a delivery without the secret ever leaving the vault. SHA-256 is
 * one-way, and the key has >= 192 bits of entropy, so the id reveals nothing usable about it.
 */
export function secretKeyId(secret: string): string {
  return signingKeyOf(secret).keyId;
}

import { randomBytes } from "node:crypto";
import { sha256 } from "@custody/crypto";

export type KeyEnvironment = "live" | "test";
export type Scope = "admin" | "publish" | "read";
export const ALL_SCOPES: readonly Scope[] = ["admin", "publish", "read"];

const KEY_FORMAT = /^ck_(live|test)_[A-Za-z0-9_-]{43}$/;
/** How much of a key listings show: enough to tell keys apart, far too little to use. */
const PREFIX_LENGTH = 16;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

/** `ck_live_…` / `ck_test_…` followed by 32 random bytes, base64url. Only its SHA-256 is ever stored. */
export function generateApiKey(environment: KeyEnvironment): NewApiKey {
  const key = `ck_${environment}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return Buffer.from(sha256(Buffer.from(key, "utf8")));
}

export function isWellFormedApiKey(key: string): boolean {
  return KEY_FORMAT.test(key);
}

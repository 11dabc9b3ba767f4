import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LENGTH = 22;

/**
 * A prefixed random id (`ten_…`, `key_…`, `ent_…`): the prefix tells a person what the id names;
 * 22 base62 characters carry 130 bits, so ids never collide and cannot be guessed.
 */
export function newId(prefix: string): string {
  let out = "";
  while (out.length < LENGTH) {
    for (const b of randomBytes(32)) {
      // 62 * 4 = 248: rejecting bytes >= 248 keeps every character equally likely.
      if (b < 248 && out.length < LENGTH) out += ALPHABET[b % 62];
    }
  }
  return `${prefix}_${out}`;
}

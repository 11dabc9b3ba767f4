import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LENGTH = 22;

// Random bytes drawn 4 KiB at a time: ids are minted several per event and per delivery, and a
// system call per id cost more than the rest of minting it. Every byte is used once.
const pool = Buffer.alloc(4096);
let at = pool.length;

function randomByte(): number {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  return pool[at++]!;
}

/**
 * A prefixed random id (`ten_…`, `key_…`, `ent_…`): the prefix tells a person what the id names;
 * 22 base62 characters carry 130 bits, so ids never collide and cannot be guessed.
 */
export function newId(prefix: string): string {
  let out = "";
  while (out.length < LENGTH) {
    const b = randomByte();
    // 62 * 4 = 248: rejecting bytes >= 248 keeps every character equally likely.
    if (b < 248) out += ALPHABET[b % 62];
  }
  return `${prefix}_${out}`;
}

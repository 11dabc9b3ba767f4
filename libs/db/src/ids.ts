import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LENGTH = 22;
/** Characters of an ordered id's time: milliseconds since 1970 in base 62, enough until the year 8888. */
const TIME_LENGTH = 8;

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

function randomChars(length: number): string {
  let out = "";
  while (out.length < length) {
    const b = randomByte();
    // 62 * 4 = 248: rejecting bytes >= 248 keeps every character equally likely.
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

/**
 * A prefixed random id (`ten_…`, `key_…`, `evt_…`): the prefix tells a person what the id names;
 * 22 base62 characters carry 130 bits, so ids never collide and cannot be guessed.
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomChars(LENGTH)}`;
}

/**
 * A prefixed id that sorts by the millisecond it was minted: its first 8 characters are the time
 * in base 62 (the alphabet is in byte order), the other 14 random (83 bits). Rows keyed by such
 * ids are inserted at the right end of their B-trees, which stay dense, and the few pages inserts
 * touch stay cached as the table grows; a random key touches a page anywhere in the index.
 */
export function newOrderedId(prefix: string, nowMs: number = Date.now()): string {
  let time = "";
  for (let t = Math.floor(nowMs), i = 0; i < TIME_LENGTH; i++, t = Math.floor(t / 62)) time = ALPHABET[t % 62]! + time;
  return `${prefix}_${time}${randomChars(LENGTH - TIME_LENGTH)}`;
}

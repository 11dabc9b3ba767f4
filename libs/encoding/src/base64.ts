/**
 * Strict standard base64 (RFC 4648 §4, with padding), the encoding every C2SP spec used here
 * mandates. Written by hand rather than using atob/Buffer because those are lenient: they skip
 * whitespace, accept missing padding and ignore non-zero trailing bits. A lenient decoder lets many
 * distinct strings decode to the same bytes, so a tampered signature line or root hash could still
 * "verify". Here each byte string has exactly one accepted encoding (RFC 4648 §3.5 canonical form).
 */

import { asciiString, codeScratch } from "./ascii.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Char code -> 6-bit value, or -1 for anything outside the alphabet (including '=', '-', '_', whitespace). */
const DECODE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (DECODE[c] ?? -1) : -1;
}

const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 0x3d;

export function encodeBase64(bytes: Uint8Array): string {
  const out = codeScratch(Math.ceil(bytes.length / 3) * 4);
  let i = 0;
  let o = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[n >> 18]!;
    out[o++] = CODES[(n >> 12) & 63]!;
    out[o++] = CODES[(n >> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODES[n >> 18]!;
    out[o++] = CODES[(n >> 12) & 63]!;
    out[o++] = rest === 2 ? CODES[(n >> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return asciiString(out);
}

/**
 * Decodes canonical padded base64, or returns undefined. Callers turn `undefined` into the error
 * code of their own context (a bad signature line is not a bad root hash). Rejects: length not a
 * multiple of 4, characters outside the alphabet, '=' anywhere but the last one or two positions,
 * and non-zero bits in the final partial group (RFC 4648 §3.5).
 */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0) return undefined;
  let pad = 0;
  if (s.length > 0 && s.charCodeAt(s.length - 1) === PAD) pad = s.charCodeAt(s.length - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  const fullGroups = pad === 0 ? s.length / 4 : s.length / 4 - 1;
  let o = 0;
  for (let g = 0; g < fullGroups; g++) {
    const i = g * 4;
    const a = sextet(s, i),
      b = sextet(s, i + 1),
      c = sextet(s, i + 2),
      d = sextet(s, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pad > 0) {
    const i = s.length - 4;
    const a = sextet(s, i),
      b = sextet(s, i + 1);
    if ((a | b) < 0) return undefined;
    if (pad === 2) {
      // One byte = 8 bits in 12: the low 4 bits of the second sextet must be zero.
      if ((b & 0x0f) !== 0) return undefined;
      out[o++] = (a << 2) | (b >> 4);
    } else {
      const c = sextet(s, i + 2);
      if (c < 0) return undefined;
      // Two bytes = 16 bits in 18: the low 2 bits of the third sextet must be zero.
      if ((c & 0x03) !== 0) return undefined;
      const n = (a << 12) | (b << 6) | c;
      out[o++] = n >> 10;
      out[o++] = (n >> 2) & 0xff;
    }
  }
  return out;
}

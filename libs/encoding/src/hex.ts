/**
 * Hex (RFC 4648 §8, base16): lowercase out, strict in. The one hex codec of the platform and the
 * verifier, so a hash prints and parses the same way in a header, a ledger entry, a proof and a
 * database row.
 */
import { asciiString, codeScratch } from "./ascii.js";
import { EncodingError } from "./errors.js";

// Every byte's two digit codes, precomputed: hex is on the per-delivery path (hops, roots, paths).
const PAIR_CODES = new TextEncoder().encode(Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0")).join(""));

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
}

/** Lowercase hex, the form used by the test vectors, ledger entries and headers. */
export function toHex(bytes: Uint8Array): string {
  // A string or an array would otherwise "encode" to garbage without a word.
  if (!(bytes instanceof Uint8Array)) throw new EncodingError("BAD_ARGUMENT_TYPE", `toHex input: expected Uint8Array, got ${typeName(bytes)}`);
  const codes = codeScratch(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const at = bytes[i]! * 2;
    codes[2 * i] = PAIR_CODES[at]!;
    codes[2 * i + 1] = PAIR_CODES[at + 1]!;
  }
  return asciiString(codes);
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Strict hex decoding: no 0x prefix, no whitespace, no odd length. Lenient parsers (parseInt,
 * Buffer.from(…, "hex")) silently stop at the first bad character, which would turn a malformed
 * hash into a shorter, different one. Both cases are accepted: callers that need the canonical
 * lowercase spelling check it with a regular expression first.
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string") {
    throw new EncodingError("BAD_ARGUMENT_TYPE", `fromHex: expected string, got ${hex === null ? "null" : typeof hex}`);
  }
  if (hex.length % 2 !== 0) {
    throw new EncodingError("BAD_HEX", `fromHex: expected an even number of hex digits, got length=${hex.length}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? 2 * i : 2 * i + 1;
      throw new EncodingError("BAD_HEX", `fromHex: invalid hex character ${JSON.stringify(hex[at])} at offset ${at}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

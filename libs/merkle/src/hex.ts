import { assertBytes } from "./hash.js";
import { MerkleProofError } from "./errors.js";

// Every byte's two digits, precomputed: hex is on the per-delivery path (hops, roots, paths).
const PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Lowercase hex, the form used by the test vectors and by checkpoints' debugging output. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, "toHex input");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += PAIRS[bytes[i]!]!;
  return out;
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
 * hash into a shorter, different one.
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== "string") {
    throw new MerkleProofError("BAD_ARGUMENT_TYPE", `fromHex: expected string, got ${hex === null ? "null" : typeof hex}`);
  }
  if (hex.length % 2 !== 0) {
    throw new MerkleProofError("BAD_HEX", `fromHex: expected an even number of hex digits, got length=${hex.length}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? 2 * i : 2 * i + 1;
      throw new MerkleProofError("BAD_HEX", `fromHex: invalid hex character ${JSON.stringify(hex[at])} at offset ${at}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

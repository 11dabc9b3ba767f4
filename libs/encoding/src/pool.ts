/**
 * Byte arrays that do not each get an ArrayBuffer of their own. A fresh backing store costs ~2 µs
 * on this project's machine (V8 keeps only typed arrays of up to 64 bytes on its heap), more than
 * hashing a kilobyte, and TextEncoder.encode of a 600-character record ~5 µs against ~0.9 µs here
 * (docs/benchmarks.md, "Off-heap allocation"). So short arrays are carved from a shared 8 KiB block,
 * as Node's Buffer pool does. Portable (TextEncoder.encodeInto): the browser verifier runs it too.
 *
 * A result is a view into that block. Its bytes are its own (a block is carved once, front to back,
 * and never reused), but its `.buffer` is the whole block: read it through `byteOffset` and
 * `byteLength`, or copy it with `slice`.
 */

const encoder = new TextEncoder();
const BLOCK_SIZE = 8192;
// Longer arrays get a buffer of their own: they would use a block up for one result.
const MAX_POOLED = BLOCK_SIZE >>> 1;

let block = new Uint8Array(BLOCK_SIZE);
let used = 0;

/** Whether `room` bytes may come from the block, starting a new block if this one has less left. */
function fits(room: number): boolean {
  if (room > MAX_POOLED) return false;
  if (used + room > BLOCK_SIZE) {
    block = new Uint8Array(BLOCK_SIZE);
    used = 0;
  }
  return true;
}

/** Gives out `size` bytes from the block's free end, 8-byte aligned as Node's pool. */
function take(size: number): Uint8Array {
  const out = block.subarray(used, used + size);
  used = (used + size + 7) & ~7;
  return out;
}

/** A new zero-filled byte array. */
export function allocBytes(size: number): Uint8Array {
  return fits(size) ? take(size) : new Uint8Array(size);
}

/** The UTF-8 bytes of `text` (lone surrogates become U+FFFD, as with TextEncoder). */
export function utf8Bytes(text: string): Uint8Array {
  // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair: 4 bytes for 2 units).
  if (!fits(text.length * 3)) return encoder.encode(text);
  return take(encoder.encodeInto(text, block.subarray(used)).written);
}

const decoder = new TextDecoder();

/**
 * The string of a buffer of ASCII character codes. The encoders fill such a buffer and decode it
 * once: one string, where appending piece by piece makes a chain of partial strings for the
 * collector and costs twice the time (measured on 32-byte hashes, on the per-delivery path).
 */
export function asciiString(codes: Uint8Array): string {
  return decoder.decode(codes);
}

const SCRATCH_SIZE = 65_536;
const scratch = new Uint8Array(SCRATCH_SIZE);

/**
 * A buffer of `size` bytes for character codes that are turned into a string before the encoder
 * returns: the same memory every call, because a fresh one past 64 bytes costs a backing store
 * (~2 µs, pool.ts). Valid only until the next call. Larger outputs get a buffer of their own, so a
 * rare large one does not keep its memory for the life of the process.
 */
export function codeScratch(size: number): Uint8Array {
  return size > SCRATCH_SIZE ? new Uint8Array(size) : scratch.subarray(0, size);
}

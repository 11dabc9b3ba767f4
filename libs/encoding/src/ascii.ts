const decoder = new TextDecoder();

/**
 * The string of a buffer of ASCII character codes. The encoders fill such a buffer and decode it
 * once: one string, where appending piece by piece makes a chain of partial strings for the
 * collector and costs twice the time (measured on 32-byte hashes, on the per-delivery path).
 */
export function asciiString(codes: Uint8Array): string {
  return decoder.decode(codes);
}

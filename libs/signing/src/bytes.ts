/** Byte helpers. Portable (browsers, Node), never node: modules. */

/**
 * Compares two byte strings in time that depends only on their lengths, so a receiver's response
 * time does not reveal how many leading bytes of a forged MAC were right. Lengths are public (a MAC
 * has a fixed size), so unequal lengths return early.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

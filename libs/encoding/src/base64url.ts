/**
 * Strict unpadded base64url (RFC 4648 §5, no "=" padding), the salt encoding: the standard
 * alphabet's `+` and `/` spelled `-` and `_`, padding dropped. Built on the strict base64 codec, so
 * each byte string has exactly one accepted spelling (RFC 4648 §3.5 canonical form).
 */
import { decodeBase64, encodeBase64 } from "./base64.js";

export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
}

/** The bytes, or undefined for anything but the one canonical unpadded base64url spelling. */
export function decodeBase64Url(s: string): Uint8Array | undefined {
  if (typeof s !== "string" || /[+/=]/.test(s) || s.length % 4 === 1) return undefined;
  const standard = s.replaceAll("-", "+").replaceAll("_", "/");
  return decodeBase64(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

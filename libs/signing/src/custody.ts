/**
 * The `x-custody-signature` header. Its keying is fixed by the receiver snippet in our product
 * docs, which users have copied into their code, so it must never change:
 *
 *   expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
 *
 * i.e. HMAC-SHA256 keyed with the UTF-8 bytes of the WHOLE secret string (`whsec_…`, prefix
 * included, NOT base64-decoded) over the raw body, lowercase hex. Note it covers the body only, not
 * the timestamp or id: replay protection comes from the Standard Webhooks signature.
 */
import { hmacSha256 } from "@custody/crypto";
import { fromHex, toHex } from "@custody/encoding";
import { constantTimeEqual } from "./bytes.js";
import { fail } from "./errors.js";
import { assertBody } from "./fields.js";
import { signingKeyOf } from "./secret.js";

export const CUSTODY_SIGNATURE_PREFIX = "sha256=";

/** The only `x-custody-signature` spelling we send or accept. */
export const CUSTODY_SIGNATURE_HEADER = /^sha256=[0-9a-f]{64}$/;

function custodyMac(secret: string, body: Uint8Array): Uint8Array {
  // Validated even though the key is the string itself: a secret stored without its prefix (or
  // mangled) would otherwise produce a signature no receiver can reproduce.
  const key = signingKeyOf(secret);
  assertBody(body);
  return hmacSha256(key.utf8, body);
}

/** `sha256=` + lowercase hex HMAC-SHA256(utf8(secret string), body). */
export function custodySignature(secret: string, body: Uint8Array): string {
  return CUSTODY_SIGNATURE_PREFIX + toHex(custodyMac(secret, body));
}

/**
 * Checks an `x-custody-signature` value against the body, in constant time. Throws SigningError:
 * MISSING_HEADER (undefined or empty), BAD_SIGNATURE_HEADER (not `sha256=` + 64 lowercase hex, the
 * only form we send), SIGNATURE_MISMATCH, or BAD_SECRET / BAD_BODY for bad inputs.
 */
export function verifyCustodySignature(secret: string, body: Uint8Array, header: string | undefined): void {
  const expected = custodyMac(secret, body);
  if (header === undefined || header === "") fail("MISSING_HEADER", "missing header x-custody-signature");
  if (typeof header !== "string" || !CUSTODY_SIGNATURE_HEADER.test(header)) {
    fail("BAD_SIGNATURE_HEADER", `x-custody-signature must be "${CUSTODY_SIGNATURE_PREFIX}" + 64 lowercase hex digits`);
  }
  if (!constantTimeEqual(expected, fromHex(header.slice(CUSTODY_SIGNATURE_PREFIX.length)))) {
    fail("SIGNATURE_MISMATCH", "x-custody-signature does not match the body under this secret");
  }
}

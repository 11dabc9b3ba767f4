/**
 * Check 11, `hmac` (proofs/FORMAT.md §6, §14), with the endpoint's secret: the attempt's Standard
 * Webhooks signature over the payload, and x-custody-signature when it was made with this secret.
 */
import { secretKeyId, verifyCustodySignature, verifyStandardSignature } from "@custody/signing";
import type { AttemptRef } from "./attempt.js";
import { fail, reason } from "./entries.js";

export function hmacOf(payload: Uint8Array, secret: string, { headers }: AttemptRef): string {
  try {
    // An audit asks whether the platform signed these bytes, not whether the delivery is fresh:
    // the timestamp tolerance is switched off.
    verifyStandardSignature({ headers, body: payload, secrets: [secret], nowSeconds: 0, toleranceSeconds: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    fail(`webhook-signature: ${reason(err)}`);
  }
  // x-custody-signature is made with the current secret only (FORMAT §6): during a rotation
  // overlap an auditor may hold the previous one, which webhook-signature alone covers.
  const keyId = headers["x-custody-signature-key-id"];
  const mine = secretKeyId(secret);
  if (keyId !== mine) return `webhook-signature verifies; x-custody-signature was made with ${keyId ?? "no key id"}, not this secret (${mine}), so it is not checked`;
  try {
    verifyCustodySignature(secret, payload, headers["x-custody-signature"]);
  } catch (err) {
    fail(`x-custody-signature: ${reason(err)}`);
  }
  return "webhook-signature and x-custody-signature verify";
}

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
 *
 *   signed content = utf8Bytes(`${msgId}.${timestamp}.`) || body   (body = the exact raw bytes sent)
 *   signature      = base64(HMAC-SHA256(key = base64decode(secret without "whsec_"), signed content))
 *   header         = "webhook-signature: v1,<sig>[ v1,<sig>...]"   (one per valid secret, space-separated)
 *
 * During a secret rotation both the new and the old secret sign, so receivers that still hold
 * only the old one keep verifying.
 */
import { hmacSha256 } from "@custody/crypto";
import { decodeBase64, encodeBase64, utf8Bytes } from "@custody/encoding";
import { constantTimeEqual } from "./bytes.js";
import { fail } from "./errors.js";
import { assertBody, assertMsgId, assertTimestamp, parseTimestampHeader } from "./fields.js";
import { requireHeader, type HeaderInput } from "./headers.js";
import { signingKeyOf } from "./secret.js";

/** Standard Webhooks' recommended default tolerance (and the `standardwebhooks` package's). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

// A type alias, not an interface, so it is assignable to HeaderInput (interfaces get no implicit
// index signature) and can be handed straight back to verifyStandardSignature.
export type StandardWebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

function mac(key: Uint8Array, msgId: string, timestamp: number, body: Uint8Array): Uint8Array {
  // Streamed rather than concatenated: bodies can be large and the prefix is tiny.
  return hmacSha256(key, utf8Bytes(`${msgId}.${timestamp}.`), body);
}

/** Throws unless `secrets` is a non-empty array without repeats. */
export function assertSecretList(secrets: unknown): asserts secrets is readonly string[] {
  if (!Array.isArray(secrets) || secrets.length === 0) fail("NO_SECRETS", "at least one secret is required");
  if (new Set(secrets).size !== secrets.length) fail("DUPLICATE_SECRET", "the same secret is listed twice");
}

/** One `v1,<base64>` token: the Standard Webhooks signature of (msgId, timestamp, body) under `secret`. */
export function standardSignature(secret: string, msgId: string, timestamp: number, body: Uint8Array): string {
  const { key } = signingKeyOf(secret);
  assertMsgId(msgId);
  assertTimestamp(timestamp);
  assertBody(body);
  return `v1,${encodeBase64(mac(key, msgId, timestamp, body))}`;
}

/** The three Standard Webhooks headers; `webhook-signature` carries one token per secret, in order. */
export function standardWebhookHeaders(input: { msgId: string; timestamp: number; body: Uint8Array; secrets: readonly string[] }): StandardWebhookHeaders {
  const { msgId, timestamp, body, secrets } = input;
  assertSecretList(secrets);
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => standardSignature(s, msgId, timestamp, body)).join(" "),
  };
}

export interface VerifiedStandardSignature {
  msgId: string;
  timestamp: number;
  /** Index into `secrets` of the first secret that matched (tells a receiver which key is in use). */
  secretIndex: number;
}

/**
 * Verifies Standard Webhooks headers against the raw body. Accepts if any `v1` signature matches
 * any secret; entries of other versions, and malformed entries, are ignored as the spec says.
 * Every (secret, entry) pair is compared in constant time and all pairs are tried, so timing does
 * not reveal which one matched.
 *
 * The signature is checked before the timestamp, so TIMESTAMP_OUT_OF_TOLERANCE means "authentic
 * but stale or early" (useful to an auditor), never "forged". `nowSeconds` is injected (pure; and
 * an auditor replays a delivery at its recorded time). Accepted iff |nowSeconds − timestamp| <=
 * toleranceSeconds, as in the `standardwebhooks` package.
 *
 * Throws SigningError: MISSING_HEADER, BAD_HEADER, BAD_TIMESTAMP, BAD_SECRET, NO_SECRETS,
 * DUPLICATE_SECRET, BAD_BODY, BAD_TOLERANCE, SIGNATURE_MISMATCH, TIMESTAMP_OUT_OF_TOLERANCE.
 */
export function verifyStandardSignature(input: { headers: HeaderInput; body: Uint8Array; secrets: readonly string[]; nowSeconds: number; toleranceSeconds?: number }): VerifiedStandardSignature {
  const { headers, body, secrets, nowSeconds, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = input;
  assertSecretList(secrets);
  const keys = secrets.map((s) => signingKeyOf(s).key);
  assertBody(body);
  assertTimestamp(nowSeconds, "nowSeconds");
  if (typeof toleranceSeconds !== "number" || !Number.isSafeInteger(toleranceSeconds) || toleranceSeconds < 0) {
    fail("BAD_TOLERANCE", `toleranceSeconds must be a non-negative safe integer, got ${String(toleranceSeconds)}`);
  }
  const msgId = requireHeader(headers, "webhook-id");
  const timestamp = parseTimestampHeader(requireHeader(headers, "webhook-timestamp"), "webhook-timestamp");
  const signatureHeader = requireHeader(headers, "webhook-signature");

  // Entries are space-separated; `v1,<base64 of 32 bytes>` is the only kind we can check.
  const candidates: Uint8Array[] = [];
  for (const entry of signatureHeader.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const sig = decodeBase64(entry.slice(comma + 1));
    if (sig !== undefined && sig.length === 32) candidates.push(sig);
  }

  let secretIndex = -1;
  keys.forEach((key, i) => {
    const expected = mac(key, msgId, timestamp, body);
    for (const sig of candidates) {
      if (constantTimeEqual(expected, sig) && secretIndex < 0) secretIndex = i;
    }
  });
  if (secretIndex < 0) fail("SIGNATURE_MISMATCH", "no v1 signature in webhook-signature matches any secret");

  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    fail("TIMESTAMP_OUT_OF_TOLERANCE", `webhook-timestamp ${timestamp} is more than ${toleranceSeconds}s from now (${nowSeconds})`);
  }
  return { msgId, timestamp, secretIndex };
}

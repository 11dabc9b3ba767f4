/**
 * The full header set of one webhook delivery attempt: Standard Webhooks headers (so any Standard
 * Webhooks library can verify us), the `x-custody-*` headers our product docs describe, and the
 * idempotency key. Pure: the caller supplies the clock (timestamp) and the secrets.
 */
import { custodySignature } from "./custody.js";
import { fail } from "./errors.js";
import { assertEventType, assertIdempotencyKey, assertMsgId, isHeaderName, isHeaderValue } from "./fields.js";
import { secretKeyId } from "./secret.js";
import { standardWebhookHeaders } from "./standard.js";

export interface DeliverySecret {
  /** `whsec_…` endpoint secret. */
  secret: string;
  /** Must equal `secretKeyId(secret)`; checked, so the key-id header can never name the wrong key. */
  keyId: string;
}

export interface DeliveryHeadersInput {
  /** The event id; becomes `webhook-id` and is part of the signed content. */
  msgId: string;
  /** Unix seconds (integer). */
  timestamp: number;
  /** The exact bytes that will be sent. */
  body: Uint8Array;
  eventType: string;
  /** UUID; lets the receiver deduplicate retries of the same delivery. */
  idempotencyKey: string;
  /** The delivery id (`x-custody-delivery-id`), which a counter-signed receipt names. */
  deliveryId?: string;
  /** Current secret first, then the previous one while its rotation overlap lasts. */
  secrets: readonly DeliverySecret[];
  /** Extra headers (names any case; emitted lowercase). May not override anything in RESERVED_HEADER_NAMES. */
  custodyHeaders?: Readonly<Record<string, string>>;
}

export interface DeliveryHeaders {
  readonly "content-type": "application/json";
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
  readonly "x-custody-signature": string;
  readonly "x-custody-signature-key-id": string;
  readonly "x-custody-timestamp": string;
  readonly "x-custody-event": string;
  readonly "idempotency-key": string;
  readonly "x-custody-delivery-id"?: string;
  readonly [name: string]: string | undefined;
}

/**
 * Names `custodyHeaders` may not set: every header built here, plus the HTTP framing headers the
 * HTTP client must own (a wrong Content-Length or Transfer-Encoding desynchronises the connection;
 * Content-Encoding would make the receiver decode bytes other than the ones we signed).
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  "content-type",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "x-custody-signature",
  "x-custody-signature-key-id",
  "x-custody-timestamp",
  "x-custody-event",
  "idempotency-key",
  "x-custody-delivery-id",
  "host",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
]);

function assertDeliverySecrets(secrets: unknown): asserts secrets is readonly DeliverySecret[] {
  if (!Array.isArray(secrets) || secrets.length === 0) fail("NO_SECRETS", "at least one secret is required");
  secrets.forEach((s: unknown, i) => {
    const { secret, keyId } = (typeof s === "object" && s !== null ? s : {}) as Partial<DeliverySecret>;
    // secretKeyId validates the secret itself (BAD_SECRET) before we compare ids.
    if (secretKeyId(secret as string) !== keyId) {
      fail("KEY_ID_MISMATCH", `secrets[${i}].keyId is not secretKeyId(secrets[${i}].secret)`);
    }
  });
}

function extraHeaders(custom: unknown): Array<[string, string]> {
  if (custom === undefined) return [];
  if (typeof custom !== "object" || custom === null || Array.isArray(custom)) fail("BAD_HEADER", "custodyHeaders must be an object of name -> value");
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(custom)) {
    if (!isHeaderName(name)) fail("BAD_HEADER", `custodyHeaders name ${JSON.stringify(name)} is not an HTTP token`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADER_NAMES.has(lower)) fail("RESERVED_HEADER", `custodyHeaders may not set ${lower}`);
    if (seen.has(lower)) fail("BAD_HEADER", `custodyHeaders sets ${lower} twice`);
    if (typeof value !== "string" || !isHeaderValue(value)) {
      fail("BAD_HEADER", `custodyHeaders ${lower} must be visible ASCII with no leading/trailing whitespace or line breaks`);
    }
    seen.add(lower);
    out.push([lower, value]);
  }
  return out;
}

/**
 * Builds every header of a delivery. `webhook-signature` has one `v1` entry per secret (rotation
 * overlap); `x-custody-signature` and its key id use the current (first) secret only.
 *
 * Throws SigningError: BAD_MSG_ID, BAD_TIMESTAMP, BAD_BODY, BAD_EVENT_TYPE, BAD_IDEMPOTENCY_KEY,
 * NO_SECRETS, BAD_SECRET, KEY_ID_MISMATCH, DUPLICATE_SECRET, BAD_HEADER, RESERVED_HEADER.
 */
export function buildDeliveryHeaders(input: DeliveryHeadersInput): DeliveryHeaders {
  const { msgId, timestamp, body, eventType, idempotencyKey, deliveryId, secrets, custodyHeaders } = input;
  assertEventType(eventType);
  assertIdempotencyKey(idempotencyKey);
  if (deliveryId !== undefined) assertMsgId(deliveryId);
  assertDeliverySecrets(secrets);
  const extra = extraHeaders(custodyHeaders);
  // Validates msgId, timestamp, body and duplicate secrets.
  const standard = standardWebhookHeaders({ msgId, timestamp, body, secrets: secrets.map((s) => s.secret) });
  const current = secrets[0] as DeliverySecret; // non-empty: checked above
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...standard,
    "x-custody-signature": custodySignature(current.secret, body),
    "x-custody-signature-key-id": current.keyId,
    "x-custody-timestamp": standard["webhook-timestamp"],
    "x-custody-event": eventType,
    "idempotency-key": idempotencyKey,
  };
  if (deliveryId !== undefined) headers["x-custody-delivery-id"] = deliveryId;
  for (const [name, value] of extra) headers[name] = value;
  return headers as unknown as DeliveryHeaders;
}

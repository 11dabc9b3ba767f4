import { z } from "zod";
import { RETRY_POLICY_KINDS } from "@custody/retry";
import { iso, timestamp } from "@custody/http";
import type { SecretStatus } from "./secret-store.js";
import { describeStoredPolicy, encodeReceiptPublicKey, SUBSCRIPTION_PATTERN } from "./settings.js";
import type { EndpointRow } from "./store.js";

export const subscriptionPattern = z.string().min(1).max(200).regex(SUBSCRIPTION_PATTERN).describe("An event type name, or a pattern where `*` matches any run of characters (dots included): `*.final`, `identity.*`.");

export const payloadShape = z.enum(["thin", "fat"]).describe("`thin` omits each event type's personal-data fields; `fat` delivers them, once acknowledged.");

export const receiptPublicKey = z.string().max(64).describe("Base64 of the 32-byte Ed25519 public key the endpoint signs delivery receipts with.");

export const retryPolicyInput = z
  .unknown()
  .describe(
    'Retry policy: `{"kind":"default"}` (~30 s doubling with ±30 % jitter for about 3 days), `{"kind":"exponential"}`, `{"kind":"jittered"}`, `{"kind":"callback"}`, or `{"kind":"custom","delaysSeconds":[…]}` (1–50 delays of 0–604,800 s).',
  );

export const rateLimit = z.number().int().min(1).max(10_000).describe("Most deliveries per second to this endpoint, 1–10,000; null: no limit of its own.");

const jitter = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("proportional"), ratio: z.number() }),
  z.object({ kind: z.literal("decorrelated"), baseSeconds: z.number(), capSeconds: z.number() }),
]);

export const secretStatus = z
  .object({
    currentKeyId: z.string().describe("`whk_…` of the secret deliveries are signed with."),
    createdAt: timestamp.describe("When the current secret was created."),
    previousKeyId: z.string().nullable().describe("The rotated-out secret deliveries are also signed with, during the overlap."),
    previousValidUntil: timestamp.nullable().describe("When the overlap ends."),
  })
  .describe("Which signing secrets are valid; never the secrets themselves.");

export const endpoint = z
  .object({
    id: z.string().describe("`wh_…`"),
    url: z.string().describe("The HTTPS URL deliveries are POSTed to, normalised."),
    displayName: z.string(),
    subscriptions: z.array(z.string()),
    defaultPayloadShape: payloadShape,
    fatEventsAcknowledgment: z.object({
      fieldsAcknowledged: z.array(z.string()).describe("`<eventType>.<field>` pairs acknowledged for fat payloads; empty while thin."),
    }),
    counterSignedReceipts: z.boolean(),
    receiptPublicKey: z.string().nullable(),
    retryPolicy: z
      .object({
        kind: z.enum(RETRY_POLICY_KINDS),
        maxAttempts: z.number().int().describe("Attempts in all, the first included."),
        delaysSeconds: z.array(z.number()).describe("Nominal delay before attempts 2, 3, …, jitter not applied."),
        windowSeconds: z.number().describe("How long after the first attempt retries may be scheduled."),
        jitter,
      })
      .describe("The policy and its resolved schedule."),
    rateLimit: z.number().int().nullable(),
    disabled: z.boolean(),
    disabledReason: z.string().nullable(),
    secretStatus,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .describe("A webhook endpoint.");

export const endpointWithSecret = endpoint
  .extend({
    secret: z.string().nullable().describe("The signing secret, `whsec_…`: shown in this response only. Null in an idempotent replay."),
  })
  .describe("A new webhook endpoint, with its signing secret.");

export type EndpointView = z.infer<typeof endpoint>;

export function secretStatusView(s: SecretStatus): z.infer<typeof secretStatus> {
  return { currentKeyId: s.currentKeyId, createdAt: iso(s.createdAt), previousKeyId: s.previousKeyId, previousValidUntil: iso(s.previousValidUntil) };
}

export function endpointView(row: EndpointRow, secrets: SecretStatus): EndpointView {
  const policy = describeStoredPolicy(row.retry_policy);
  return {
    id: row.id,
    url: row.url,
    displayName: row.display_name,
    subscriptions: row.subscriptions,
    defaultPayloadShape: row.payload_shape,
    fatEventsAcknowledgment: { fieldsAcknowledged: row.fat_ack_fields },
    counterSignedReceipts: row.counter_signed_receipts,
    receiptPublicKey: encodeReceiptPublicKey(row.receipt_public_key),
    retryPolicy: { kind: policy.kind, maxAttempts: policy.maxAttempts, delaysSeconds: [...policy.delaysSeconds], windowSeconds: policy.windowSeconds, jitter: policy.jitter },
    rateLimit: row.rate_limit_per_second,
    disabled: row.disabled_at !== null,
    disabledReason: row.disabled_reason,
    secretStatus: secretStatusView(secrets),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

import { z } from "zod";
import { timestamp } from "@custody/http";

/**
 * Zod schemas of an endpoint's deliveries (the product docs call them "delivery attempts"): they
 * shape the responses and are the OpenAPI document. No transforms, so responses encode.
 */

export const DELIVERY_STATUSES = ["pending", "delivering", "retrying", "delivered", "dead", "cancelled"] as const;

export const deliveryStatus = z
  .enum(DELIVERY_STATUSES)
  .describe(
    "`pending`: waiting for its first attempt; `delivering`: an attempt is sealed and in flight; `retrying`: waiting for `nextAttemptAt`; `delivered`: a 2xx was received; `dead`: dead-lettered (see `deadReason`); `cancelled`: withdrawn.",
  );

export const deliverySummary = z
  .object({
    id: z.string().describe("`dlv_…`"),
    eventId: z.string(),
    eventType: z.string(),
    status: deliveryStatus,
    attempts: z.number().int().min(0).describe("Attempts sealed so far (the one in flight included); attempt numbers start at 1."),
    nextAttemptAt: timestamp.nullable().describe("When the next attempt is due, while `retrying`."),
    lastStatusCode: z.number().int().nullable().describe("HTTP status of the last recorded attempt; null if it got none."),
    lastError: z.string().nullable().describe("Why the last recorded attempt failed, e.g. `HTTP 503` or a transport error."),
    deadReason: z.string().nullable().describe("Why the delivery was dead-lettered: `exhausted`, `gone`, `endpoint_disabled`, …"),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    idempotencyKey: z.string().describe("UUID sent as the `Idempotency-Key`/`webhook-id` of every attempt: receivers deduplicate on it."),
    replayId: z.string().nullable().describe("Set when the delivery was created by a replay."),
  })
  .describe("One delivery of one event to this endpoint.");
export type DeliverySummary = z.infer<typeof deliverySummary>;

export const deliveryAttempt = z
  .object({
    attempt: z.number().int().min(1).describe("The attempt number, from 1."),
    startedAt: timestamp,
    durationMs: z.number().int().min(0),
    statusCode: z.number().int().nullable().describe("The HTTP status received; null when no response came (see `errorClass`)."),
    responseExcerpt: z.string().nullable().describe("The first bytes of the response body, as captured."),
    errorClass: z.string().nullable().describe("Transport failure class (`timeout`, `dns`, `refused`, …); null when a response came."),
    keyIds: z.array(z.string()).describe("`whk_…` of the signing secrets the attempt was signed with, current first."),
    outcome: z.enum(["delivered", "retry", "dead"]).describe("What the attempt meant for the delivery."),
    custodyRoot: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe("Hex custody root the attempt was sealed with, before it was sent."),
  })
  .describe("One recorded attempt: its outcome and its seal.");

export const redaction = z
  .object({
    shape: z.enum(["thin", "fat"]).describe("The payload shape the body was prepared with."),
    removed: z.array(z.object({ path: z.string().describe("RFC 6901 pointer into `data`.") })).describe("The fields removed from the payload (their salted commitments are in the custody proof)."),
  })
  .describe("How the delivered body was prepared; null until it has been.");

export const deliveryDetail = deliverySummary
  .omit({ attempts: true })
  .extend({
    sealedAttempts: z.number().int().min(0).describe("Attempts sealed so far: the list's `attempts`, the one in flight included."),
    attempts: z
      .array(deliveryAttempt)
      .describe("Every recorded attempt, oldest first. An attempt sealed but not yet recorded (in flight, or never sent because the endpoint was disabled) is not listed; `sealedAttempts` counts it."),
    redaction: redaction.nullable(),
  })
  .describe("A delivery with its attempts and what redaction removed.");
export type DeliveryDetail = z.infer<typeof deliveryDetail>;

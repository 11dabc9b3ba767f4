import { z } from "zod";
import { errorBody } from "@custody/http";

/**
 * Zod schemas of the event routes: they validate requests, shape responses, and are the OpenAPI
 * document. No transforms: the request hash is taken over what the producer sent, and response
 * schemas must encode.
 */

/** A producer's event id: what receivers deduplicate on, so it must survive URLs, headers and logs. */
export const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** 9999-12-31T23:59:59.999Z: the last instant RFC 3339 can write. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;
/** Types under this prefix are the platform's own (`webhook.endpoint.disabled`, …); producers may not send them. */
export const RESERVED_TYPE_PREFIX = "webhook.";
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_CALLBACK_URL_LENGTH = 2048;

export const eventId = z.string().regex(EVENT_ID);

const jsonObject = z.record(z.string(), z.unknown());

export const newEventBody = z.strictObject({
  id: eventId
    .optional()
    .describe(
      "Your id for the event, 1–128 characters of `A-Z a-z 0-9 . _ : -`, starting with a letter or digit. Makes the call idempotent: the same id with the same body returns the original response (200, `idempotent-replayed: true`); with a different body, 409 EVENT_ID_CONFLICT. Omitted: an `evt_…` id is assigned and retries create new events.",
    ),
  type: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\u0000-\u001f\u007f]+$/)
    .describe("A registered, non-archived event type of your tenant (its latest version applies). Types under `webhook.` are the platform's (422 RESERVED_EVENT_TYPE)."),
  data: jsonObject.describe(
    "The event's payload, a JSON object. Validated against the type's `dataSchema` if it has one (422 DATA_SCHEMA_MISMATCH); nesting is limited by CUSTODY_MAX_JSON_DEPTH (422 JSON_TOO_DEEP). Stored as RFC 8785 canonical JSON; the ledger commits to its SHA-256. Numbers are kept by value in their shortest form (`1.0` is stored as `1`); one that a double cannot hold exactly (an integer beyond ±(2^53 − 1), `1e400`, `1e-400`, more digits than a double keeps) is refused with 422 NUMBER_NOT_EXACT: send such values as strings.",
  ),
  timestamp: z
    .union([z.iso.datetime({ offset: true }).describe("RFC 3339, e.g. `2026-03-21T22:25:00.000Z` or with an offset."), z.number().int().min(0).max(MAX_TIMESTAMP_MS).describe("Unix time in milliseconds.")])
    .optional()
    .describe("When the event occurred (RFC 3339 or unix milliseconds, 1970–9999); default: when it was received. Kept to the millisecond."),
  supersedes: eventId.optional().describe("The id of an earlier event of yours that this one corrects or retracts; it must exist (422 VALIDATION_FAILED)."),
  metadata: jsonObject.optional().describe("Your own annotations, a JSON object up to 16 KiB (canonical JSON); not part of the ledger commitment."),
  callbackUrl: z
    .string()
    .max(MAX_CALLBACK_URL_LENGTH)
    .optional()
    .describe(
      "A one-shot delivery target for this event only, in addition to your subscribed endpoints. Checked now against the SSRF policy (https, public addresses; 422 TARGET_REFUSED) and again when delivering. Deliveries to it are signed with your tenant's callback secret (see /api/v2/callback-secret).",
    ),
});
export type NewEventBody = z.infer<typeof newEventBody>;

/**
 * A batch item is documented as a `newEventBody` but accepted as any value, so that one bad item is
 * answered in its own result instead of failing the whole batch with 400.
 */
const { $schema: _ignored, ...newEventJsonSchema } = z.toJSONSchema(newEventBody, { io: "input", unrepresentable: "any" });
export const batchItem = z.unknown().meta({ ...newEventJsonSchema, description: "An event, exactly as the body of POST /api/v2/events; validated on its own." });

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

export const eventReceipt = z
  .object({
    id: z.string().describe("The event id: yours, or the assigned `evt_…`."),
    type: z.string(),
    timestamp: z.iso.datetime().describe("When the event occurred, RFC 3339 UTC with milliseconds."),
    entryId: z.string().describe("`ent_…`: the ledger entry that commits to the event."),
    leafHash: hex32.describe("RFC 9162 leaf hash of the ledger entry, hex."),
    ledger: z.object({
      leafHash: hex32,
      leafIndex: z.null().describe("Always null here: the sequencer assigns the index moments after commit; read it with GET /api/v2/events/{id}."),
    }),
  })
  .describe("An accepted event and its ledger entry.");
export type EventReceipt = z.infer<typeof eventReceipt>;

export const batchBody = z.strictObject({
  events: z.array(batchItem).min(1).describe("1 to CUSTODY_MAX_BATCH_EVENTS events (more: 413 BATCH_TOO_LARGE); each may have its own `callbackUrl`."),
});

export const batchResult = z.object({
  index: z.number().int().min(0).describe("Position of the item in `events`."),
  status: z
    .union([z.literal(201), z.literal(200), z.literal(409), z.literal(422)])
    .describe("What the item would have got alone: 201 created, 200 replay of an existing event with the same id and body, 409 EVENT_ID_CONFLICT, 422 invalid."),
  event: eventReceipt.optional().describe("Present for 201 and 200."),
  error: errorBody.shape.error.optional().describe("Present for 409 and 422."),
});
export type BatchResult = z.infer<typeof batchResult>;

export const batchResponse = z.object({ results: z.array(batchResult).describe("One per item, in order.") });

export const delivery = z.object({
  id: z.string().describe("`dlv_…`"),
  endpointId: z.string().nullable().describe("The endpoint, or null for the event's one-shot callback."),
  targetUrl: z.string(),
  status: z.enum(["pending", "delivering", "retrying", "delivered", "dead", "cancelled"]),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const eventView = z
  .object({
    id: z.string(),
    type: z.string(),
    timestamp: z.iso.datetime().describe("When the event occurred."),
    data: jsonObject.nullable().describe("The payload as accepted; null once erased (the ledger keeps its hash)."),
    metadata: jsonObject.nullable(),
    supersedes: z.string().nullable(),
    callbackUrl: z.string().nullable().describe("The one-shot callback target as checked and stored (normalised)."),
    createdAt: z.iso.datetime().describe("When the platform accepted the event."),
    ledger: z.object({
      entryId: z.string(),
      leafHash: hex32,
      leafIndex: z.number().int().min(0).nullable().describe("Position in the ledger; null until the sequencer has assigned it (normally well under a second)."),
    }),
    deliveries: z.array(delivery).describe("Every delivery of this event so far, oldest first."),
  })
  .describe("An event with everything a webhook of it carries, so a receiver can catch up after an outage.");
export type EventView = z.infer<typeof eventView>;

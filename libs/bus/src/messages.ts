import { z } from "zod";

/**
 * What flows between the stages on JetStream. Messages carry ids (and, for sending, the sealed
 * request) — Postgres stays the source of truth, so a redelivered message is re-checked there.
 */
export const EventMessage = z.object({ tenantId: z.string(), eventId: z.string(), entryId: z.string() });
export type EventMessage = z.infer<typeof EventMessage>;

export const RedactMessage = z.object({ deliveryId: z.string() });
export type RedactMessage = z.infer<typeof RedactMessage>;

export const SealMessage = z.object({ deliveryId: z.string(), attemptNo: z.number().int().min(1) });
export type SealMessage = z.infer<typeof SealMessage>;

/** A sealed attempt, ready to send: exactly these headers and body bytes go over the wire. */
export const SendMessage = z.object({
  deliveryId: z.string(),
  attemptNo: z.number().int().min(1),
  tenantId: z.string(),
  eventId: z.string(),
  endpointId: z.string().nullable(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  /** base64 of the exact body bytes */
  body: z.string(),
  custodyRoot: z.string(),
  /** The key ids of the secrets that signed this attempt (current first). */
  keyIds: z.array(z.string()),
});
export type SendMessage = z.infer<typeof SendMessage>;

/** Nats-Msg-Ids: the same logical message always gets the same id, so re-publishing is harmless. */
export const msgIds = {
  redact: (deliveryId: string) => `redact:${deliveryId}`,
  seal: (deliveryId: string, attemptNo: number) => `seal:${deliveryId}:${attemptNo}`,
  send: (deliveryId: string, attemptNo: number) => `send:${deliveryId}:${attemptNo}`,
};

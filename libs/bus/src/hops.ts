import { utf8Bytes } from "@custody/encoding";
import { headers, type NatsConnection } from "nats";
import { z } from "zod";

/**
 * The pipeline's JetStream hops, each defined once: who consumes it, its subject, its message
 * schema and its Nats-Msg-Id. Postgres is the source of truth, so messages carry ids; a consumer
 * re-reads and re-checks what they name, and a re-published message (same Nats-Msg-Id within the
 * stream's duplicate window) is dropped by the stream.
 *
 * One hop is left: the relay announces committed events to the dispatcher, which fans out,
 * redacts, seals and sends in one process (docs/ARCHITECTURE.md says why the other hops went).
 */
export const EventMessage = z.object({ tenantId: z.string().min(1), eventId: z.string().min(1), entryId: z.string().min(1) });
export type EventMessage = z.infer<typeof EventMessage>;

export const HOPS = {
  events: { consumer: "dispatch", subject: "events", schema: EventMessage, msgId: (m: EventMessage) => m.entryId },
} as const;
export type Hop = keyof typeof HOPS;
export type HopMessage<H extends Hop> = z.infer<(typeof HOPS)[H]["schema"]>;
export type ConsumerName = (typeof HOPS)[Hop]["consumer"];

/** Subjects are `<prefix>.pipeline.<hop subject>`. */
export function subjectOf(prefix: string, hop: Hop): string {
  return `${prefix}.pipeline.${HOPS[hop].subject}`;
}

/**
 * Publishes messages of one hop with every ack in flight at once (an awaited publish per message
 * caps throughput at a few thousand per second) and resolves when the stream has stored them all.
 */
export async function announce<H extends Hop>(nc: NatsConnection, prefix: string, hop: H, messages: ReadonlyArray<HopMessage<H>>): Promise<void> {
  if (messages.length === 0) return;
  const js = nc.jetstream();
  const subject = subjectOf(prefix, hop);
  const msgId = HOPS[hop].msgId as (m: HopMessage<H>) => string;
  await Promise.all(messages.map((m) => js.publish(subject, utf8Bytes(JSON.stringify(m)), { msgID: msgId(m) })));
}

/**
 * Publishes messages of one hop without waiting for the stream: a core NATS publish carrying the
 * same Nats-Msg-Id `announce` would set, so the stream stores it once however often it is offered
 * within its duplicate window. Nothing says whether it was stored, so it only shortens the way for
 * messages someone else guarantees: the API offers the events it has just committed, and the relay,
 * which follows the ledger, announces them all again (docs/ARCHITECTURE.md, "The delivery pipeline").
 */
export function offer<H extends Hop>(nc: NatsConnection, prefix: string, hop: H, messages: ReadonlyArray<HopMessage<H>>): void {
  const subject = subjectOf(prefix, hop);
  const msgId = HOPS[hop].msgId as (m: HopMessage<H>) => string;
  for (const m of messages) {
    const h = headers();
    h.set("Nats-Msg-Id", msgId(m));
    nc.publish(subject, utf8Bytes(JSON.stringify(m)), { headers: h });
  }
}

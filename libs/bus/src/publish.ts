import type { NatsConnection } from "nats";

export interface Outgoing {
  subject: string;
  data: unknown;
  /** Nats-Msg-Id: a second publish with the same id within the duplicate window is dropped. */
  msgId: string;
}

const encoder = new TextEncoder();

/**
 * Publishes with every ack in flight at once (an awaited publish per message caps throughput at a
 * few thousand per second) and resolves when the stream has stored them all.
 */
export async function publishAll(nc: NatsConnection, messages: readonly Outgoing[]): Promise<void> {
  if (messages.length === 0) return;
  const js = nc.jetstream();
  await Promise.all(messages.map((m) => js.publish(m.subject, encoder.encode(JSON.stringify(m.data)), { msgID: m.msgId })));
}

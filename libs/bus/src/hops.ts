import { encodeBase64, utf8Bytes, type JsonValue } from "@custody/encoding";
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from "nats";
import { z } from "zod";

/**
 * The pipeline's JetStream hops, each defined once: who consumes it, its subject, its message
 * schema and its Nats-Msg-Id. Postgres is the source of truth, so the messages that guarantee a hop
 * carry ids, and a consumer reads what they name; a re-published message (same Nats-Msg-Id within
 * the stream's duplicate window) is dropped by the stream. An offer made by the writer right after
 * its commit may carry what the consumer would read, saving it the read.
 *
 * One hop is left: the relay announces committed events to the dispatcher, which fans out,
 * redacts, seals and sends in one process (docs/ARCHITECTURE.md says why the other hops went).
 */
/**
 * What dispatch reads of an event, as the API holds it after its commit: an offer may carry it so
 * dispatch need not read the event back. Byte strings travel as base64 (the payload exactly as
 * stored and committed to), metadata as its canonical JSON text.
 */
export const EventContent = z.object({
  type: z.string().min(1),
  /** Milliseconds since the epoch: any instant Postgres stores, where an ISO string would need a six-digit year. */
  occurredAtMs: z.number().int(),
  supersedes: z.string().min(1).nullable(),
  metadata: z.string().nullable(),
  payload: z.base64(),
  callbackUrl: z.string().min(1).nullable(),
  leafHash: z.base64(),
  personalDataFields: z.array(z.string()),
});
export type EventContent = z.infer<typeof EventContent>;

/**
 * An announced event: its ids, and on an API's offer its content too (the relay's announcements
 * carry ids only). Content that does not parse is dropped, never the message: the stream drops the
 * relay's copy of an offered message as a duplicate, so a message refused for its content would be
 * an event never dispatched. Without content, dispatch reads the event back.
 */
const EventIds = z.object({
  tenantId: z.string().min(1),
  eventId: z.string().min(1),
  entryId: z.string().min(1),
});

export const EventMessage = EventIds.extend({ content: EventContent.optional().catch(undefined) });
export type EventMessage = z.infer<typeof EventMessage>;

/**
 * Most events of one commit the API offers, in one message (its commits of more wake the relay,
 * which announces them in batches). A commit of at most this many is cut into one message by both
 * (commitMessages), so the relay's copy of an offer has the offer's Nats-Msg-Id and the stream drops
 * it.
 */
export const OFFER_MOST_EVENTS = 8;

/** Most events an EventBatchMessage names. */
export const EVENT_BATCH_MOST = 128;

/**
 * Events of one commit, announced together: what a stream message costs (storing it, delivering it,
 * its ack) is paid once for them all, where a message per event made JetStream a tenth of the
 * platform's CPU on batch ingest (docs/benchmarks.md, "Events announced in batches"). An API's offer
 * carries each event's content as a single offer does; the relay's carry ids only. Dispatch acks it
 * when every event it names is done, and handles them all again (idempotently) when it is redelivered.
 */
export const EventBatchMessage = z.object({ events: z.array(EventMessage).min(1).max(EVENT_BATCH_MOST) });
export type EventBatchMessage = z.infer<typeof EventBatchMessage>;

/** A message of the events hop: one event, or a batch. */
export const EventHopMessage = z.union([EventMessage, EventBatchMessage]);
export type EventHopMessage = z.infer<typeof EventHopMessage>;

/** The events a message of the events hop names, in order. */
export function eventsOf(m: EventHopMessage): readonly EventMessage[] {
  return "events" in m ? m.events : [m];
}

/**
 * The messages that announce one commit's events, given in commit order: batches of up to
 * EVENT_BATCH_MOST, a batch of one as a single message. The API's offer and the relay's copy of a
 * commit are both cut here, so they carry the same Nats-Msg-Ids whenever the relay read the whole
 * commit in one page (a commit split across pages is announced again under other ids: a late copy,
 * which dispatch handles as any other).
 */
export function commitMessages(events: readonly EventMessage[]): EventHopMessage[] {
  const out: EventHopMessage[] = [];
  for (let i = 0; i < events.length; i += EVENT_BATCH_MOST) {
    const chunk = events.slice(i, i + EVENT_BATCH_MOST);
    out.push(chunk.length === 1 ? chunk[0]! : { events: chunk });
  }
  return out;
}

/** An event's content in plain form: what `EventContent` carries, decoded. */
export interface PlainEventContent {
  type: string;
  occurredAt: Date;
  supersedes: string | null;
  /** Canonical JSON text of the metadata, or null. */
  metadata: string | null;
  /** Canonical JSON of `data`, as stored. */
  payload: Uint8Array;
  callbackUrl: string | null;
  leafHash: Uint8Array;
  personalDataFields: readonly string[];
}

export function encodeEventContent(c: PlainEventContent): EventContent {
  return {
    type: c.type,
    occurredAtMs: c.occurredAt.getTime(),
    supersedes: c.supersedes,
    metadata: c.metadata,
    payload: encodeBase64(c.payload),
    callbackUrl: c.callbackUrl,
    leafHash: encodeBase64(c.leafHash),
    personalDataFields: [...c.personalDataFields],
  };
}

export function decodeEventContent(c: EventContent): Omit<PlainEventContent, "metadata"> & { metadata: JsonValue | null } {
  return {
    type: c.type,
    occurredAt: new Date(c.occurredAtMs),
    supersedes: c.supersedes,
    metadata: c.metadata === null ? null : (JSON.parse(c.metadata) as JsonValue),
    // The schema checked the alphabet and padding: node's decoder, native, is exact on those.
    payload: Buffer.from(c.payload, "base64"),
    callbackUrl: c.callbackUrl,
    leafHash: Buffer.from(c.leafHash, "base64"),
    personalDataFields: c.personalDataFields,
  };
}

/**
 * Each hop: its consumer, subject, schema, Nats-Msg-Id (the same for every re-publish of a message,
 * so the stream drops those inside its duplicate window) and weight (how many units of work a
 * message is: a stage's batches and its held messages are bounded in these).
 */
export const HOPS = {
  events: {
    consumer: "dispatch",
    subject: "events",
    schema: EventHopMessage,
    // A batch's id is its first and last entry: the same whenever the same events are cut together
    // (the API's offer of a commit and the relay's copy; the relay's re-read after a crash, unless
    // more entries committed meanwhile). Entry ids are unique, so no other message has it.
    msgId: (m: EventHopMessage) => ("events" in m ? `${m.events[0]!.entryId}..${m.events[m.events.length - 1]!.entryId}` : m.entryId),
    weight: (m: EventHopMessage) => ("events" in m ? m.events.length : 1),
  },
} as const;
export type Hop = keyof typeof HOPS;
export type HopMessage<H extends Hop> = z.infer<(typeof HOPS)[H]["schema"]>;
export type ConsumerName = (typeof HOPS)[Hop]["consumer"];

/** Subjects are `<prefix>.pipeline.<hop subject>`. */
export function subjectOf(prefix: string, hop: Hop): string {
  return `${prefix}.pipeline.${HOPS[hop].subject}`;
}

const decoder = new TextDecoder();

/** How long `announce` waits for the stream to acknowledge a batch (nats.js's JetStream default). */
const ANNOUNCE_TIMEOUT_MS = 5_000;

/**
 * Publishes messages of one hop with every ack in flight at once (an awaited publish per message
 * caps throughput at a few thousand per second) and resolves when the stream has stored them all.
 *
 * What `js.publish` does per message, done once per batch: each message goes out as a core publish
 * whose reply subject is its index under one inbox, and one subscription collects the stream's
 * PubAcks. nats.js builds a request, a timer and a cancellation Error (with its stack) for every
 * `js.publish` (docs/benchmarks.md, "Hot-path objects; the relay's acks").
 */
export async function announce<H extends Hop>(nc: NatsConnection, prefix: string, hop: H, messages: ReadonlyArray<HopMessage<H>>, timeoutMs = ANNOUNCE_TIMEOUT_MS): Promise<void> {
  if (messages.length === 0) return;
  const subject = subjectOf(prefix, hop);
  const msgId = HOPS[hop].msgId as (m: HopMessage<H>) => string;
  const inbox = createInbox();
  const acked = new Uint8Array(messages.length);
  let waiting = messages.length;
  let timer: NodeJS.Timeout | undefined;
  let sub: Subscription | undefined;
  const stored = new Promise<void>((resolve, reject) => {
    sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err !== null) return reject(err);
        const index = Number(msg.subject.slice(inbox.length + 1));
        if (!(index >= 0 && index < messages.length)) return;
        const refusal = pubAckRefusal(msg);
        if (refusal !== undefined) return reject(new Error(`the stream did not store ${subject} message ${msgId(messages[index]!)}: ${refusal}`));
        if (acked[index] === 1) return;
        acked[index] = 1;
        if (--waiting === 0) resolve();
      },
    });
    timer = setTimeout(() => reject(new Error(`the stream acknowledged ${messages.length - waiting} of ${messages.length} ${subject} messages in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    for (let i = 0; i < messages.length; i++) publishWithId(nc, subject, msgId(messages[i]!), messages[i], `${inbox}.${i}`);
    await stored;
  } finally {
    clearTimeout(timer);
    sub?.unsubscribe();
  }
}

/**
 * Why the stream refused a publish, or undefined for a PubAck (a duplicate included): a status
 * message (503: no stream takes the subject) or a PubAck carrying an error.
 */
function pubAckRefusal(msg: Msg): string | undefined {
  if (msg.headers?.hasError) return `${msg.headers.code} ${msg.headers.description}`.trim();
  let ack: { stream?: unknown; error?: { code?: unknown; description?: unknown } };
  try {
    ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
  } catch {
    return "an acknowledgement that is not JSON";
  }
  if (ack.error !== undefined) return `${String(ack.error.code)} ${String(ack.error.description)}`;
  if (typeof ack.stream !== "string") return "an acknowledgement without a stream";
  return undefined;
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
  for (const m of messages) publishWithId(nc, subject, msgId(m), m);
}

/** A core publish of one message under its Nats-Msg-Id, by which the stream drops a re-publish. */
function publishWithId(nc: NatsConnection, subject: string, id: string, message: unknown, reply?: string): void {
  const h = headers();
  h.set("Nats-Msg-Id", id);
  nc.publish(subject, utf8Bytes(JSON.stringify(message)), reply === undefined ? { headers: h } : { headers: h, reply });
}

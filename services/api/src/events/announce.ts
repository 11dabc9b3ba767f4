import { commitMessages, encodeEventContent, offer, OFFER_MOST_EVENTS, type EventHopMessage, type EventMessage, type OptionalBus } from "@custody/bus";
import type { Db } from "@custody/db";
import { notifyEventsAppended } from "@custody/events";
import type { Logger } from "@custody/log";
import type { AcceptedEvent, InsertedEvent } from "./ingest-store.js";

/** An event the API has just committed: what it accepted, and what the ledger made of it. */
export interface CommittedEvent {
  accepted: AcceptedEvent;
  stored: InsertedEvent;
}

/** Tells the pipeline that events have committed; never fails its caller. */
export type AnnounceEvents = (events: readonly CommittedEvent[]) => void;

/**
 * Largest payload an offer carries. Dispatch reads a larger one back from Postgres, where one read
 * costs little beside its size, rather than the stream storing it once more.
 */
export const OFFER_CONTENT_MOST_BYTES = 64 * 1024;

/**
 * Most payload bytes one offer message carries in all: an event whose payload would take it past
 * this is offered by its ids alone. So a message of at most OFFER_MOST_EVENTS events, each with
 * up to 16 KiB of metadata besides, stays inside NATS's 1 MB default max_payload; one that did not
 * would be refused at publish, and the announcer would wake the relay instead.
 */
export const OFFER_MESSAGE_CONTENT_MOST_BYTES = 256 * 1024;

/** The offer of a committed event: its ids and, when `withContent`, what dispatch would read of it. */
function offerOf({ accepted: a, stored: s }: CommittedEvent, withContent: boolean): EventMessage {
  if (!withContent) return { tenantId: s.tenantId, eventId: s.id, entryId: s.entryId };
  const content = encodeEventContent({
    type: a.type,
    occurredAt: a.occurredAt,
    supersedes: a.supersedes,
    metadata: a.metadata,
    payload: a.payload,
    callbackUrl: a.callbackTarget,
    leafHash: s.leafHash,
    personalDataFields: a.personalDataFields,
  });
  return { tenantId: s.tenantId, eventId: s.id, entryId: s.entryId, content };
}

/**
 * The offer of one commit's events (at most OFFER_MOST_EVENTS): one message, cut as the relay cuts
 * its copy (commitMessages). Each event carries its content while its payload is at most
 * OFFER_CONTENT_MOST_BYTES and the message's payloads stay within OFFER_MESSAGE_CONTENT_MOST_BYTES.
 */
export function offerMessages(events: readonly CommittedEvent[]): EventHopMessage[] {
  let room = OFFER_MESSAGE_CONTENT_MOST_BYTES;
  return commitMessages(
    events.map((e) => {
      const size = e.accepted.payload.length;
      const withContent = size <= OFFER_CONTENT_MOST_BYTES && size <= room;
      if (withContent) room -= size;
      return offerOf(e, withContent);
    }),
  );
}

/**
 * Announces committed events the short way when NATS is up and the commit was small: offered
 * straight to the dispatcher's stream (@custody/bus `offer`), in one message with what dispatch
 * needs of them, one hop instead of waking the relay to read them back and publish them, and no
 * read for dispatch.
 * The relay still follows the ledger and announces every commit again, under the same Nats-Msg-Id,
 * so an offer lost in a crash or an outage only costs latency.
 * A commit of more than OFFER_MOST_EVENTS, or NATS down (or never configured, as in-process tests
 * run the API), wakes the relay instead. A relay round (its read, its publish and its cursor write)
 * costs about the same for one event as for hundreds, while an offer doubles each commit's JetStream
 * publishes (the relay publishes it again, for the stream to drop): offers pay where commits are
 * small — at moderate rates, where the round is a hop on every event's way — and cost where they
 * are large (docs/benchmarks.md, "Events offered by the API"); the relay announces a larger
 * commit's events in batches.
 */
export function eventAnnouncer(db: Db, bus: OptionalBus | undefined, prefix: string, logger: Logger): AnnounceEvents {
  const wakeRelay = () => {
    notifyEventsAppended(db).catch((err: unknown) => logger.warn({ err }, "could not wake the relay"));
  };
  return (events) => {
    const nc = bus?.connection;
    if (nc === undefined || events.length > OFFER_MOST_EVENTS) return wakeRelay();
    try {
      offer(nc, prefix, "events", offerMessages(events));
    } catch (err) {
      logger.warn({ err }, "could not offer events to NATS; waking the relay");
      wakeRelay();
    }
  };
}

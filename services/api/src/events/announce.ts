import { encodeEventContent, offer, OFFER_MOST_EVENTS, type EventMessage, type OptionalBus } from "@custody/bus";
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

/** The offer of a committed event: its ids and, when small enough, what dispatch would read of it. */
export function offerOf({ accepted: a, stored: s }: CommittedEvent): EventMessage {
  if (a.payload.length > OFFER_CONTENT_MOST_BYTES) return { tenantId: s.tenantId, eventId: s.id, entryId: s.entryId };
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
 * Announces committed events the short way when NATS is up and the commit was small: offered
 * straight to the dispatcher's stream (@custody/bus `offer`) with what dispatch needs of them, one
 * hop instead of waking the relay to read them back and publish them, and no read for dispatch.
 * The relay still follows the ledger and announces every event again, under the same Nats-Msg-Id,
 * so an offer lost in a crash or an outage only costs latency.
 * A commit of more than OFFER_MOST_EVENTS, or NATS down (or never configured, as in-process tests
 * run the API), wakes the relay instead. A relay round (its read, its publish and its cursor write)
 * costs about the same for one event as for hundreds, while an offer doubles each event's JetStream
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
      offer(nc, prefix, "events", events.map(offerOf));
    } catch (err) {
      logger.warn({ err }, "could not offer events to NATS; waking the relay");
      wakeRelay();
    }
  };
}

import { offer, type OptionalBus } from "@custody/bus";
import type { Db } from "@custody/db";
import { notifyEventsAppended, type AppendedEvent } from "@custody/events";
import type { Logger } from "@custody/log";

/** Tells the pipeline that events have committed; never fails its caller. */
export type AnnounceEvents = (events: readonly AppendedEvent[]) => void;

/**
 * Most events a commit may hold for its events to be offered. A relay round (its read, its publish
 * and its cursor write) costs about the same for one event as for hundreds, while an offer doubles
 * each event's JetStream publishes (the relay publishes it again, for the stream to drop): offers
 * pay where commits are small — at moderate rates, where the round is a hop on every event's way —
 * and cost where they are large (docs/benchmarks.md, "Events offered by the API").
 */
export const OFFER_MOST_EVENTS = 8;

/**
 * Announces committed events the short way when NATS is up and the commit was small: offered
 * straight to the dispatcher's stream (@custody/bus `offer`), one hop instead of waking the relay
 * to read them back and publish them. The relay still follows the ledger and announces every event
 * again, under the same Nats-Msg-Id, so an offer lost in a crash or an outage only costs latency.
 * A larger commit, or NATS down (or never configured, as in-process tests run the API), wakes the
 * relay instead.
 */
export function eventAnnouncer(db: Db, bus: OptionalBus | undefined, prefix: string, logger: Logger): AnnounceEvents {
  const wakeRelay = () => {
    notifyEventsAppended(db).catch((err: unknown) => logger.warn({ err }, "could not wake the relay"));
  };
  return (events) => {
    const nc = bus?.connection;
    if (nc === undefined || events.length > OFFER_MOST_EVENTS) return wakeRelay();
    try {
      offer(
        nc,
        prefix,
        "events",
        events.map((e) => ({ tenantId: e.tenantId, eventId: e.id, entryId: e.entryId })),
      );
    } catch (err) {
      logger.warn({ err }, "could not offer events to NATS; waking the relay");
      wakeRelay();
    }
  };
}

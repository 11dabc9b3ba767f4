import { offer, type OptionalBus } from "@custody/bus";
import type { Db } from "@custody/db";
import { notifyEventsAppended, type AppendedEvent } from "@custody/events";
import type { Logger } from "@custody/log";

/** Tells the pipeline that events have committed; never fails its caller. */
export type AnnounceEvents = (events: readonly AppendedEvent[]) => void;

/**
 * Announces committed events the short way when NATS is up: offered straight to the dispatcher's
 * stream (@custody/bus `offer`), one hop instead of waking the relay to read them back and publish
 * them. The relay still follows the ledger and announces every event again, under the same
 * Nats-Msg-Id, so an offer lost in a crash or an outage only costs latency. With NATS down (or
 * never configured, as in-process tests run the API) it wakes the relay, as before.
 */
export function eventAnnouncer(db: Db, bus: OptionalBus | undefined, prefix: string, logger: Logger): AnnounceEvents {
  const wakeRelay = () => {
    notifyEventsAppended(db).catch((err: unknown) => logger.warn({ err }, "could not wake the relay"));
  };
  return (events) => {
    const nc = bus?.connection;
    if (nc === undefined) return wakeRelay();
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

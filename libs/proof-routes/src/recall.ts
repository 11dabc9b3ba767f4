import { createHash } from "node:crypto";
import { newId, sql, type Db } from "@custody/db";
import { cancelUnsealed, newDeliveryId, notifyDeliveriesQueued, queueDeliveries } from "@custody/deliveries";
import { AppError } from "@custody/errors";
import { appendEvents } from "@custody/events";
import { recallEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { matchesSubscription } from "@custody/redact";

export interface RecallResult {
  eventId: string;
  reason: string;
  recalledAt: Date;
  entryId: string;
  noticeEventId: string | null;
  /** Deliveries cancelled by this call (0 when repeating a recall). */
  cancelledDeliveries: number;
  alreadyRecalled: boolean;
}

/**
 * `identity.registration.final` → `identity.registration.recalled`: the event's name without its
 * lifecycle segment, then `recalled` — what endpoints subscribe to with `*.recalled`.
 */
export function recalledType(type: string): string {
  const parts = type.split(".");
  return parts.length > 1 ? [...parts.slice(0, -1), "recalled"].join(".") : `${type}.recalled`;
}

/**
 * Recalls an event (FORMAT.md §12): appends a `recall` ledger entry pointing at it, cancels its (and
 * its retractions') deliveries still pending or waiting to retry, and sends a notice of type
 * recalledType(type) — the last dot-separated segment replaced by `recalled` — with `supersedes` to
 * every enabled endpoint that had a delivery of it and subscribes to that type. A recall wins over
 * a retraction: retractions of a recalled event stop too. Recalling twice returns the first recall.
 * What this transaction cannot see is stopped later by the `recalls` row (libs/deliveries
 * `recalledSql`): dispatch makes no delivery of an event not yet fanned out, and the scheduler
 * cancels, rather than seals, the retry of an attempt that was in flight.
 */
export async function recallEvent(db: Db, tenantId: string, eventId: string, reason: string): Promise<RecallResult> {
  const { recall, queued } = await db.transaction().execute(async (trx) => {
    const event = await trx.selectFrom("events").select(["id", "type"]).where("tenant_id", "=", tenantId).where("id", "=", eventId).forNoKeyUpdate().executeTakeFirst();
    if (!event) throw new AppError("NOT_FOUND", `no event ${eventId}`, { field: "params.evtId" });
    const previous = await trx.selectFrom("recalls").selectAll().where("tenant_id", "=", tenantId).where("event_id", "=", eventId).executeTakeFirst();
    if (previous) {
      const repeat: RecallResult = {
        eventId,
        reason: previous.reason,
        recalledAt: previous.created_at,
        entryId: previous.entry_id,
        noticeEventId: previous.notice_event_id,
        cancelledDeliveries: 0,
        alreadyRecalled: true,
      };
      return { recall: repeat, queued: false };
    }
    const recalledAt = new Date();
    const [entry] = await appendEntries(trx, [{ tenantId, document: recallEntry({ tenantId, eventId, reason, recalledAt }) }]);
    const retractions = await trx.selectFrom("events").select("id").where("tenant_id", "=", tenantId).where("supersedes", "=", eventId).execute();
    const cancelled = await cancelUnsealed(trx, tenantId, [eventId, ...retractions.map((r) => r.id)]);

    const noticeType = recalledType(event.type);
    const endpoints = await sql<{ id: string; url: string; subscriptions: string[] }>`
      SELECT DISTINCT ep.id, ep.url, ep.subscriptions FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id
      WHERE d.tenant_id = ${tenantId} AND d.event_id = ${eventId} AND ep.disabled_at IS NULL`.execute(trx);
    const targets = endpoints.rows.filter((e) => e.subscriptions.some((p) => matchesSubscription(noticeType, p)));
    let noticeEventId: string | null = null;
    if (targets.length > 0) {
      noticeEventId = newId("evt");
      const data = { recalledEvent: eventId, recalledType: event.type, reason, recalledAt: recalledAt.toISOString() };
      await appendEvents(trx, tenantId, [
        {
          id: noticeEventId,
          type: noticeType,
          eventTypeId: null,
          data,
          occurredAt: recalledAt,
          supersedes: eventId,
          metadata: null,
          callbackUrl: null,
          requestHash: createHash("sha256").update(JSON.stringify(data)).digest(),
          fanOut: false,
        },
      ]);
      await queueDeliveries(
        trx,
        targets.map((t) => ({ id: newDeliveryId(), tenantId, eventId: noticeEventId!, endpointId: t.id, targetUrl: t.url })),
        recalledAt,
      );
    }
    await trx.insertInto("recalls").values({ tenant_id: tenantId, event_id: eventId, reason, entry_id: entry!.id, notice_event_id: noticeEventId }).execute();
    return { recall: { eventId, reason, recalledAt, entryId: entry!.id, noticeEventId, cancelledDeliveries: cancelled, alreadyRecalled: false }, queued: noticeEventId !== null };
  });
  if (queued) await notifyDeliveriesQueued(db).catch(() => undefined);
  return recall;
}

import { newId, sql, type Db } from "@custody/db";
import { newDeliveryId, notifyDeliveriesQueued, queueDeliveries, recalledSql } from "@custody/deliveries";
import { AppError } from "@custody/errors";
import { matchesSubscription } from "@custody/redact";

/** Most events one replay may re-enqueue; a larger range is split by the caller. */
export const MAX_REPLAY_EVENTS = 10_000;
/** Longest time range one replay may cover. */
export const MAX_REPLAY_RANGE_MS = 31 * 24 * 3600 * 1000;

export interface ReplayRequest {
  tenantId: string;
  endpointId: string;
  from: Date;
  to: Date;
  eventTypes: string[] | null;
  onlyFailed: boolean;
}

export interface ReplayView {
  id: string;
  endpointId: string;
  from: Date;
  to: Date;
  eventTypes: string[] | null;
  onlyFailed: boolean;
  eventCount: number;
  createdAt: Date;
  progress: Record<"pending" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled", number>;
}

/**
 * Re-enqueues an endpoint's events of a time range as new deliveries marked with the replay's id:
 * the same `webhook-id` (the event id), a new Idempotency-Key, and a custody record of their own.
 * Only events the endpoint subscribes to (optionally narrowed to `eventTypes`), never recalled
 * ones nor their retractions (`recalledSql`, what dispatch and the scheduler ask too), and with `onlyFailed` only those whose delivery to this endpoint was dead-lettered.
 */
export async function createReplay(db: Db, request: ReplayRequest): Promise<ReplayView> {
  if (request.from >= request.to) throw new AppError("VALIDATION_FAILED", "`from` must be before `to`", { field: "body.from" });
  if (request.to.getTime() - request.from.getTime() > MAX_REPLAY_RANGE_MS) {
    throw new AppError("UNPROCESSABLE", "a replay covers at most 31 days; split the range", { field: "body.to" });
  }
  const replayId = await db.transaction().execute(async (trx) => {
    const endpoint = await trx.selectFrom("endpoints").select(["id", "url", "subscriptions", "disabled_at"]).where("tenant_id", "=", request.tenantId).where("id", "=", request.endpointId).executeTakeFirst();
    if (!endpoint) throw new AppError("NOT_FOUND", `no webhook ${request.endpointId}`, { field: "params.id" });
    if (endpoint.disabled_at !== null) throw new AppError("CONFLICT", "the webhook is disabled; enable it before replaying to it");
    const candidates = await sql<{ id: string; type: string; original: string | null }>`
      SELECT e.id, e.type,
             (SELECT d.id FROM deliveries d WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id AND d.endpoint_id = ${request.endpointId} AND d.replay_id IS NULL) AS original
      FROM events e
      WHERE e.tenant_id = ${request.tenantId} AND e.created_at >= ${request.from} AND e.created_at < ${request.to}
        AND e.fan_out AND e.payload IS NOT NULL
        AND NOT ${recalledSql("e")}
        ${request.eventTypes === null ? sql`` : sql`AND e.type = ANY(${sql.val(request.eventTypes)}::text[])`}
        ${
          request.onlyFailed
            ? sql`AND EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id AND d.endpoint_id = ${request.endpointId} AND d.replay_id IS NULL AND d.status = 'dead')`
            : sql``
        }
      ORDER BY e.created_at, e.id
      LIMIT ${MAX_REPLAY_EVENTS + 1}`.execute(trx);
    const events = candidates.rows.filter((e) => endpoint.subscriptions.some((p) => matchesSubscription(e.type, p)));
    if (candidates.rows.length > MAX_REPLAY_EVENTS) {
      throw new AppError("UNPROCESSABLE", `the range holds more than ${MAX_REPLAY_EVENTS} events; narrow it`, { field: "body.to", details: { maxEvents: MAX_REPLAY_EVENTS } });
    }
    const id = newId("rpl");
    await trx
      .insertInto("replays")
      .values({
        id,
        tenant_id: request.tenantId,
        endpoint_id: request.endpointId,
        from_time: request.from,
        to_time: request.to,
        event_types: request.eventTypes,
        only_failed: request.onlyFailed,
        event_count: events.length,
      })
      .execute();
    await queueDeliveries(
      trx,
      events.map((e) => ({ id: newDeliveryId(), tenantId: request.tenantId, eventId: e.id, endpointId: request.endpointId, targetUrl: endpoint.url, replayId: id, replayOf: e.original })),
      new Date(),
    );
    return id;
  });
  await notifyDeliveriesQueued(db).catch(() => undefined);
  return readReplay(db, request.tenantId, request.endpointId, replayId);
}

export async function readReplay(db: Db, tenantId: string, endpointId: string, replayId: string): Promise<ReplayView> {
  const replay = await db.selectFrom("replays").selectAll().where("tenant_id", "=", tenantId).where("endpoint_id", "=", endpointId).where("id", "=", replayId).executeTakeFirst();
  if (!replay) throw new AppError("NOT_FOUND", `no replay ${replayId}`, { field: "params.replayId" });
  const counts = await db
    .selectFrom("deliveries")
    .select(["status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("replay_id", "=", replayId)
    .groupBy("status")
    .execute();
  const progress: ReplayView["progress"] = { pending: 0, delivering: 0, retrying: 0, delivered: 0, dead: 0, cancelled: 0 };
  for (const c of counts) progress[c.status] = Number(c.n);
  return {
    id: replay.id,
    endpointId: replay.endpoint_id,
    from: replay.from_time,
    to: replay.to_time,
    eventTypes: replay.event_types,
    onlyFailed: replay.only_failed,
    eventCount: replay.event_count,
    createdAt: replay.created_at,
    progress,
  };
}

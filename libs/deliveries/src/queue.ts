import { randomUUID } from "node:crypto";
import { sql, type Database, type Kysely, type RawBuilder } from "@custody/db";
import { createDeliveries } from "./create.js";

/** The channel the retry scheduler listens on for deliveries queued outside the pipeline. */
export const DELIVERIES_CHANNEL = "custody_deliveries";

export interface QueuedDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  endpointId: string | null;
  targetUrl: string;
  replayId?: string;
  replayOf?: string | null;
}

/**
 * Queues deliveries made outside fan-out (a replay, a recall notice, a test event): pending and due
 * now, with a fresh Idempotency-Key; the scheduler redacts, seals and sends them. Call
 * notifyDeliveriesQueued after COMMIT so it does not wait for its next look.
 */
export function queueDeliveries(trx: Kysely<Database>, rows: readonly QueuedDelivery[], now: Date): Promise<Set<string>> {
  return createDeliveries(
    trx,
    rows.map((r) => Object.assign({}, r, { idempotencyKey: randomUUID(), status: "pending" as const, attempts: 0 as const, nextAttemptAt: now, firstAttemptAt: null, redaction: null })),
  );
}

/** Wakes the scheduler (after COMMIT; losing it costs only latency). */
export async function notifyDeliveriesQueued(db: Kysely<Database>): Promise<void> {
  await sql`SELECT pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(db);
}

/**
 * Cancels the not-yet-sealed deliveries (pending, or waiting to retry) of these events: a recall
 * stops what has not gone out; an attempt in flight finishes and is recorded.
 */
export async function cancelUnsealed(trx: Kysely<Database>, tenantId: string, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const result = await sql`
    UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
    WHERE tenant_id = ${tenantId} AND event_id = ANY(${sql.val([...eventIds])}::text[]) AND status IN ('pending', 'retrying')`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Whether the event row `e` (an alias in the caller's query) was recalled, or retracts an event that
 * was (FORMAT.md §12: a recall stops its retractions too), the recall's own notice aside: what
 * dispatch, the scheduler and a replay ask before sending anything of an event.
 */
export function recalledSql(e: string): RawBuilder<boolean> {
  const a = sql.ref(e);
  return sql<boolean>`EXISTS (
    SELECT 1 FROM recalls r
    WHERE r.tenant_id = ${a}.tenant_id AND r.event_id = ANY(ARRAY[${a}.id, ${a}.supersedes]) AND r.notice_event_id IS DISTINCT FROM ${a}.id)`;
}

/** Deliveries that will still be attempted: the ones a URL change affects. */
const ACTIVE_DELIVERY = ["pending", "delivering", "retrying"] as const;

/** How many of the endpoint's deliveries will still be attempted (PATCH refuses a URL change while any are, unless asked to retarget them). */
export async function countActiveDeliveries(trx: Kysely<Database>, tenantId: string, endpointId: string): Promise<number> {
  const row = await trx
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "=", endpointId)
    .where("status", "in", ACTIVE_DELIVERY)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Points the endpoint's deliveries that will still be attempted at its new URL; returns how many. */
export async function retargetActiveDeliveries(trx: Kysely<Database>, tenantId: string, endpointId: string, url: string): Promise<number> {
  const result = await trx
    .updateTable("deliveries")
    .set({ target_url: url, updated_at: sql<Date>`now()` })
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "=", endpointId)
    .where("status", "in", ACTIVE_DELIVERY)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Retry now, also from the dead letter: the delivery goes back to `retrying`, due now, and the
 * scheduler seals its next attempt (chained to the last one's outcome). The caller holds the row
 * lock and has checked the delivery may be retried.
 */
export async function retryNow(trx: Kysely<Database>, tenantId: string, deliveryId: string): Promise<void> {
  await sql`
    UPDATE deliveries SET status = 'retrying', next_attempt_at = now(), dead_reason = NULL, updated_at = now()
    WHERE id = ${deliveryId} AND tenant_id = ${tenantId} AND status IN ('retrying', 'dead')`.execute(trx);
}

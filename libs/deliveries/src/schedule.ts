import { arrayParam, columnsOf, sql, type Database, type DeliveryStatus, type Kysely, type PayloadShape } from "@custody/db";
import { attemptKeysTable } from "./attempt-keys.js";
import { outcomeKey } from "./outcomes.js";
import type { RemovedField } from "./types.js";

/** A delivery whose timer ran out, leased to this process until `leaseUntil`. */
export interface DueDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  endpointId: string | null;
  targetUrl: string;
  idempotencyKey: string;
  /** pending or retrying: seal attempt `attempts + 1`; delivering: attempt `attempts` was sealed and lost its sender — resend it. */
  status: Extract<DeliveryStatus, "pending" | "retrying" | "delivering">;
  attempts: number;
  firstAttemptAt: Date | null;
  lastDelayMs: number | null;
  redaction: { shape: PayloadShape; removed: RemovedField[] } | null;
}

/**
 * Leases the deliveries whose timer ran out: moves each timer `leaseMs` ahead and returns them.
 * FOR UPDATE SKIP LOCKED lets any number of schedulers share the work; a scheduler that dies
 * leaves its leases to run out, and another takes them.
 */
export async function leaseDue(db: Kysely<Database>, limit: number, leaseMs: number): Promise<DueDelivery[]> {
  const { rows } = await sql<{
    id: string;
    tenant_id: string;
    event_id: string;
    endpoint_id: string | null;
    target_url: string;
    idempotency_key: string;
    status: DueDelivery["status"];
    attempts: number;
    first_attempt_at: Date | null;
    last_delay_ms: string | null;
    shape: PayloadShape | null;
    removed: RemovedField[] | null;
  }>`
    UPDATE deliveries d SET next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
    FROM (
      SELECT id FROM deliveries
      WHERE next_attempt_at <= now() AND status IN ('pending', 'retrying', 'delivering')
      ORDER BY next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED) due
    WHERE d.id = due.id
    RETURNING d.id, d.tenant_id, d.event_id, d.endpoint_id, d.target_url, d.idempotency_key, d.status, d.attempts,
              d.first_attempt_at, d.last_delay_ms, d.shape, d.removed`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    targetUrl: r.target_url,
    idempotencyKey: r.idempotency_key,
    status: r.status,
    attempts: r.attempts,
    firstAttemptAt: r.first_attempt_at,
    lastDelayMs: r.last_delay_ms === null ? null : Number(r.last_delay_ms),
    redaction: r.shape === null ? null : { shape: r.shape, removed: r.removed ?? [] },
  }));
}

export interface BeginAttempt {
  id: string;
  /** The attempt being sealed: the delivery's attempts + 1. */
  attemptNo: number;
  /** When the scheduler may take it back if no outcome is recorded. */
  leaseUntil: Date;
  /** The redaction made at this first seal, for a delivery created without one. */
  redaction: { shape: PayloadShape; removed: readonly RemovedField[] } | null;
}

/** Another process began one of these attempts meanwhile. */
export class AttemptRace extends Error {
  override readonly name = "AttemptRace";
}

/**
 * Moves leased deliveries to `delivering` attempt n, in the caller's transaction (which also stores
 * the seal): only from pending/retrying at attempts n − 1, so an attempt is sealed at most once. The
 * redaction record is set only if it was never set (the first one wins, so salts never change).
 */
export async function beginAttempts(trx: Kysely<Database>, begins: readonly BeginAttempt[]): Promise<void> {
  if (begins.length === 0) return;
  const col = columnsOf(begins);
  const moved = await sql`
    UPDATE deliveries d SET status = 'delivering', attempts = u.attempt_no, next_attempt_at = u.lease_until,
           first_attempt_at = coalesce(d.first_attempt_at, now()), updated_at = now(),
           shape = coalesce(d.shape, u.shape), removed = CASE WHEN d.shape IS NULL THEN u.removed ELSE d.removed END
    FROM unnest(${col("text", (b) => b.id)}, ${col("int4", (b) => b.attemptNo)}, ${col("timestamptz", (b) => b.leaseUntil)},
                ${col("text", (b) => b.redaction?.shape ?? null)},
                ${col("jsonb", (b) => (b.redaction === null || b.redaction.removed.length === 0 ? null : JSON.stringify(b.redaction.removed)))})
      AS u(id, attempt_no, lease_until, shape, removed)
    WHERE d.id = u.id AND d.attempts = u.attempt_no - 1 AND d.status IN ('pending', 'retrying')`.execute(trx);
  if (Number(moved.numAffectedRows ?? 0) !== begins.length) {
    throw new AttemptRace(`${begins.length - Number(moved.numAffectedRows ?? 0)} of ${begins.length} attempts were begun elsewhere`);
  }
}

/** Ends deliveries that can never be sent (no signing secret, payload erased) without an attempt. */
export async function deadLetterUnsent(trx: Kysely<Database>, ids: readonly string[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    UPDATE deliveries SET status = 'dead', dead_reason = ${reason}, last_error = ${reason}, next_attempt_at = NULL, updated_at = now()
    WHERE id = ANY(${arrayParam("text", ids)}) AND status IN ('pending', 'retrying')`.execute(trx);
}

/** The leaf hash of attempt `attemptNo`'s outcome record, read from its batch (the next attempt's `previous`), by outcomeKey. */
export async function outcomeLeafHashes(db: Kysely<Database>, keys: ReadonlyArray<{ deliveryId: string; attemptNo: number }>): Promise<Map<string, Buffer>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ delivery_id: string; attempt_no: number; leaf: Buffer }>`
    SELECT o.delivery_id, o.attempt_no, substring(b.leaves FROM o.batch_index * 32 + 1 FOR 32) AS leaf
    FROM ${attemptKeysTable(keys)}
    JOIN attempt_outcomes o ON o.delivery_id = k.delivery_id AND o.attempt_no = k.attempt_no
    JOIN outcome_batches b ON b.id = o.batch_id`.execute(db);
  return new Map(rows.map((r) => [outcomeKey(r.delivery_id, r.attempt_no), r.leaf]));
}

/** Gives leased deliveries back to the queue, due at `until` (their target was too busy to take them now). */
export async function postpone(db: Kysely<Database>, ids: readonly string[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    UPDATE deliveries SET next_attempt_at = ${until}
    WHERE id = ANY(${arrayParam("text", ids)}) AND status IN ('pending', 'retrying')`.execute(db);
}

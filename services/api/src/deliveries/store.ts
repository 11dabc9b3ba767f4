import { custodyRoot, hopsFromBytes } from "@custody/custody";
import { sql, type Database, type DeliveryStatus, type Kysely, type PayloadShape } from "@custody/db";
import { toHex } from "@custody/encoding";
import { AppError } from "@custody/errors";
import type { DeliveryDetail, DeliverySummary } from "./schemas.js";
import { iso } from "@custody/http";
import { pageOf } from "../shared/pagination.js";

/** Reading an endpoint's deliveries: a page of them newest first, or one with its attempts. */

type Raw<T> = ReturnType<typeof sql<T>>;

export interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: string | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
  idempotency_key: string;
  replay_id: string | null;
}

/** `d.created_at` to the microsecond, as text (see `exactCreatedAt`; qualified, as events also has created_at). */
const exactDeliveryCreatedAt: Raw<string> = sql<string>`to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly before a `(created_at, id)` cursor, in `ORDER BY created_at DESC, id DESC`. */
function beforeCreatedCursor(cursor: readonly string[]): Raw<boolean> {
  const [at, id] = cursor;
  if (Number.isNaN(Date.parse(at ?? ""))) throw new AppError("VALIDATION_FAILED", "cursor is not one this API issued", { field: "query.cursor" });
  return sql<boolean>`(d.created_at, d.id) < (${at}::timestamptz, ${id})`;
}

/** The tenant's deliveries joined with their event's type; every query starts here. */
function deliveries(db: Kysely<Database>, tenantId: string, endpointId: string) {
  return db
    .selectFrom("deliveries as d")
    .innerJoin("events as e", (join) => join.onRef("e.tenant_id", "=", "d.tenant_id").onRef("e.id", "=", "d.event_id"))
    .select([
      "d.id",
      "d.event_id",
      "e.type as event_type",
      "d.status",
      "d.attempts",
      "d.next_attempt_at",
      "d.last_status_code",
      "d.last_error",
      "d.dead_reason",
      "d.delivered_at",
      "d.created_at",
      "d.updated_at",
      "d.idempotency_key",
      "d.replay_id",
    ])
    .where("d.tenant_id", "=", tenantId)
    .where("d.endpoint_id", "=", endpointId);
}

export function deliverySummaryView(r: DeliveryRow): DeliverySummary {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: iso(r.next_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deadReason: r.dead_reason,
    deliveredAt: iso(r.delivered_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    idempotencyKey: r.idempotency_key,
    replayId: r.replay_id,
  };
}

export interface DeliveryListQuery {
  limit: number;
  /** Decoded cursor: `[createdAt to the microsecond, id]` of the previous page's last delivery. */
  before: readonly string[] | undefined;
  status: DeliveryStatus | undefined;
  eventType: string | undefined;
  /** Inclusive lower and exclusive upper bound on `created_at`. */
  from: string | undefined;
  to: string | undefined;
}

/** A page of an endpoint's deliveries, newest first (`created_at DESC, id DESC`). The caller has checked the endpoint is the tenant's. */
export async function listDeliveries(db: Kysely<Database>, tenantId: string, endpointId: string, query: DeliveryListQuery): Promise<{ data: DeliverySummary[]; nextCursor: string | null }> {
  let q = deliveries(db, tenantId, endpointId).select(exactDeliveryCreatedAt.as("created_exact"));
  if (query.status !== undefined) q = q.where("d.status", "=", query.status);
  if (query.eventType !== undefined) q = q.where("e.type", "=", query.eventType);
  if (query.from !== undefined) q = q.where("d.created_at", ">=", sql<Date>`${query.from}::timestamptz`);
  if (query.to !== undefined) q = q.where("d.created_at", "<", sql<Date>`${query.to}::timestamptz`);
  if (query.before !== undefined) q = q.where(beforeCreatedCursor(query.before));
  const rows = await q
    .orderBy("d.created_at", "desc")
    .orderBy("d.id", "desc")
    .limit(query.limit + 1)
    .execute();
  const { page, nextCursor } = pageOf(rows, query.limit, (r) => [r.created_exact, r.id]);
  return { data: page.map(deliverySummaryView), nextCursor };
}

/** The endpoint's delivery row, locked for the rest of the transaction when `forUpdate`; undefined when not the tenant's or not this endpoint's. */
export async function findDelivery(db: Kysely<Database>, tenantId: string, endpointId: string, deliveryId: string, options: { forUpdate?: boolean } = {}): Promise<DeliveryRow | undefined> {
  let q = deliveries(db, tenantId, endpointId).where("d.id", "=", deliveryId);
  // Lock the delivery only: the event row is never written here.
  if (options.forUpdate) q = q.forNoKeyUpdate(["d"]);
  return q.executeTakeFirst();
}

interface RemovedField {
  path?: unknown;
}

/** One delivery with its recorded attempts (each with the custody root it was sealed with) and its redaction: three queries. */
export async function readDelivery(db: Kysely<Database>, tenantId: string, endpointId: string, deliveryId: string): Promise<DeliveryDetail | undefined> {
  const row = await findDelivery(db, tenantId, endpointId, deliveryId);
  if (!row) return undefined;
  const [attempts, body] = await Promise.all([
    db
      .selectFrom("attempt_history")
      .select(["attempt_no", "started_at", "duration_ms", "status_code", "response_excerpt", "error_class", "key_ids", "outcome", "custody_root", "hops"])
      .where("tenant_id", "=", tenantId)
      .where("delivery_id", "=", deliveryId)
      .orderBy("attempt_no")
      .execute(),
    // The redaction record: on the delivery (format 2), or beside its body (format 1).
    sql<{ shape: PayloadShape | null; removed: unknown }>`
      SELECT coalesce(d.shape, b.shape) AS shape, CASE WHEN d.shape IS NOT NULL THEN coalesce(d.removed, '[]'::jsonb) ELSE b.removed END AS removed
      FROM deliveries d LEFT JOIN delivery_bodies b ON b.delivery_id = d.id WHERE d.id = ${deliveryId}`
      .execute(db)
      .then((r) => r.rows[0]),
  ]);
  const { attempts: sealedAttempts, ...summary } = deliverySummaryView(row);
  return {
    ...summary,
    sealedAttempts,
    attempts: attempts.map((a) => ({
      attempt: a.attempt_no,
      startedAt: iso(a.started_at),
      durationMs: a.duration_ms,
      statusCode: a.status_code,
      responseExcerpt: a.response_excerpt,
      errorClass: a.error_class,
      keyIds: a.key_ids,
      outcome: a.outcome,
      custodyRoot: a.custody_root !== null ? a.custody_root.toString("hex") : toHex(custodyRoot(hopsFromBytes(a.hops!))),
    })),
    // Paths only: the salts and commitments belong in a custody proof, not in a listing.
    redaction: body === undefined || body.shape === null ? null : { shape: body.shape, removed: (Array.isArray(body.removed) ? (body.removed as RemovedField[]) : []).map((f) => ({ path: String(f.path) })) },
  };
}

/** Whether a delivery's event payload was erased, and whether it has evidence format 1 seals. */
export async function payloadAndFormatOf(db: Kysely<Database>, tenantId: string, delivery: { id: string; event_id: string }): Promise<{ erased: boolean; format1: boolean } | undefined> {
  const { rows } = await sql<{ erased: boolean; format1: boolean }>`
    SELECT e.payload IS NULL AS erased, EXISTS (SELECT 1 FROM delivery_seals s WHERE s.delivery_id = ${delivery.id}) AS format1
    FROM events e WHERE e.tenant_id = ${tenantId} AND e.id = ${delivery.event_id}`.execute(db);
  return rows[0];
}

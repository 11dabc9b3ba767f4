import { columnParams, newOrderedId, sql, type ArrayElementType, type Database, type DeliveryStatus, type Kysely, type PayloadShape, type RawBuilder } from "@custody/db";
import type { RemovedField } from "./types.js";

/**
 * A new delivery's id: in time order (`newOrderedId`), so each delivery's rows — its own, its seal
 * and outcome rows — are inserted at the right end of their keys' B-trees (docs/benchmarks.md,
 * "Delivery and entry ids in time order").
 */
export const newDeliveryId = (): string => newOrderedId("dlv");

/** A delivery as it is made: by fan-out (sealed at once, or parked), or by a replay, a recall notice or a test event. */
export interface NewDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  /** null for a one-shot callback delivery */
  endpointId: string | null;
  targetUrl: string;
  idempotencyKey: string;
  /**
   * `delivering` when its first attempt is sealed in the same write; `pending` otherwise;
   * `dead` when it can never be sent (no valid signing secret, the payload erased), with `deadReason`.
   */
  status: Extract<DeliveryStatus, "pending" | "delivering" | "dead">;
  deadReason?: string | null;
  /** Attempts sealed: 1 with `delivering`, 0 with `pending`. */
  attempts: 0 | 1;
  /** When the scheduler should pick it up (pending), or null while a JetStream message holds it. */
  nextAttemptAt: Date | null;
  firstAttemptAt: Date | null;
  /** The redaction record, when it was made with the delivery; null to make it at the first seal. */
  redaction: { shape: PayloadShape; removed: readonly RemovedField[] } | null;
  replayId?: string | null;
  replayOf?: string | null;
}

/**
 * Inserts deliveries, one per (event, target, replay): a row that exists already (a redelivered
 * event, a concurrent fan-out) is left alone, and the ids actually inserted are returned, so the
 * caller knows which of its deliveries are its own to seal.
 */
export async function createDeliveries(db: Kysely<Database>, rows: readonly NewDelivery[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const { rows: inserted } = await deliveriesInsert(rows).execute(db);
  return new Set((inserted as Array<{ id: string }>).map((r) => r.id));
}

/** The columns of delivery rows, each with its array parameter's type. */
const DELIVERY_COLUMNS = {
  id: "text",
  tenantId: "text",
  eventId: "text",
  endpointId: "text",
  kind: "text",
  targetUrl: "text",
  idempotencyKey: "uuid",
  status: "text",
  attempts: "int4",
  nextAttemptAt: "timestamptz",
  firstAttemptAt: "timestamptz",
  shape: "text",
  removed: "jsonb",
  replayId: "text",
  replayOf: "text",
  deadReason: "text",
  lastError: "text",
} as const satisfies Record<string, ArrayElementType>;
export type DeliveryColumn = keyof typeof DELIVERY_COLUMNS;

/** The rows' values by column, as `deliveriesInsertSql`'s parameters take them. */
export function deliveryColumns(rows: readonly NewDelivery[]): Record<DeliveryColumn, unknown[]> {
  // In key order: two transactions inserting the same deliveries wait on each other's unique-index
  // entries in the same order, never in a cycle.
  const ordered = [...rows].sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  return {
    id: ordered.map((r) => r.id),
    tenantId: ordered.map((r) => r.tenantId),
    eventId: ordered.map((r) => r.eventId),
    endpointId: ordered.map((r) => r.endpointId),
    kind: ordered.map((r) => (r.endpointId === null ? "callback" : "endpoint")),
    targetUrl: ordered.map((r) => r.targetUrl),
    idempotencyKey: ordered.map((r) => r.idempotencyKey),
    status: ordered.map((r) => r.status),
    attempts: ordered.map((r) => r.attempts),
    nextAttemptAt: ordered.map((r) => r.nextAttemptAt),
    firstAttemptAt: ordered.map((r) => r.firstAttemptAt),
    shape: ordered.map((r) => r.redaction?.shape ?? null),
    removed: ordered.map((r) => (r.redaction === null || r.redaction.removed.length === 0 ? null : JSON.stringify(r.redaction.removed))),
    replayId: ordered.map((r) => r.replayId ?? null),
    replayOf: ordered.map((r) => r.replayOf ?? null),
    deadReason: ordered.map((r) => r.deadReason ?? null),
    lastError: ordered.map((r) => r.deadReason ?? null),
  };
}

/** The INSERT of deliveries whose columns are array parameters, each made by `param` for its column and type; returns the ids inserted. */
export function deliveriesInsertSql(param: (column: DeliveryColumn, type: ArrayElementType) => RawBuilder<unknown>): RawBuilder<{ id: string }> {
  const p = (c: DeliveryColumn) => param(c, DELIVERY_COLUMNS[c]);
  return sql<{ id: string }>`
    INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, kind, target_url, idempotency_key, status, attempts,
                            next_attempt_at, first_attempt_at, shape, removed, replay_id, replay_of, dead_reason, last_error)
    SELECT * FROM unnest(
      ${p("id")}, ${p("tenantId")}, ${p("eventId")}, ${p("endpointId")}, ${p("kind")}, ${p("targetUrl")}, ${p("idempotencyKey")},
      ${p("status")}, ${p("attempts")}, ${p("nextAttemptAt")}, ${p("firstAttemptAt")}, ${p("shape")}, ${p("removed")},
      ${p("replayId")}, ${p("replayOf")}, ${p("deadReason")}, ${p("lastError")})
    ON CONFLICT (tenant_id, event_id, (coalesce(endpoint_id, '')), (coalesce(replay_id, ''))) DO NOTHING
    RETURNING id`;
}

/** The INSERT of createDeliveries, returning the ids inserted (also a part of a larger statement). */
export function deliveriesInsert(rows: readonly NewDelivery[]): RawBuilder<{ id: string }> {
  return deliveriesInsertSql(columnParams(deliveryColumns(rows)));
}

const keyOf = (r: NewDelivery) => [r.tenantId, r.eventId, r.endpointId ?? "", r.replayId ?? ""];
function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

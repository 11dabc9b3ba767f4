import { sql, type Database, type DeliveryStatus, type Kysely } from "@custody/db";
import { AppError } from "@custody/errors";
import { canonicalJson, removePaths, type JsonValue } from "@custody/redact";
import { deliverySummaryView, type DeliveryRow } from "./store.js";
import type { DeliverySummary } from "./schemas.js";
import { encodeCursor } from "../shared/pagination.js";

/**
 * A tenant's deliveries across its endpoints, newest first, for the console's table: keyset pages
 * on `(created_at, id)` over the index `deliveries_tenant_created_id` (or, for one endpoint,
 * `deliveries_endpoint_created`), so page N costs what page 1 does at any table size.
 *
 * Status and event type are not indexed (an index on a column an outcome changes would end the
 * delivered update's HOT update, and the event type lives on the event). A filter on them therefore
 * looks at no more than SCAN_BUDGET deliveries per page, newest first: when they hold fewer matches
 * than the page, the page is short and its cursor continues the search where it stopped
 * (`searchedTo`), so a rare status never turns one request into a scan of millions of rows.
 */

export const SCAN_BUDGET = 5_000;

export interface TenantDeliveryQuery {
  limit: number;
  /** `[createdAt to the microsecond, id]`: the page starts strictly before it. */
  before: readonly string[] | undefined;
  /** Only these endpoints (a filter, or a portal session's endpoints). */
  endpointIds: readonly string[] | undefined;
  status: DeliveryStatus | undefined;
  eventType: string | undefined;
  from: string | undefined;
  to: string | undefined;
}

export type TenantDelivery = DeliverySummary & { endpointId: string | null };

interface Row extends DeliveryRow {
  endpoint_id: string | null;
  created_exact: string;
}

type Raw = ReturnType<typeof sql>;

function beforeCursor(cursor: readonly string[]): Raw {
  const [at, id] = cursor;
  if (Number.isNaN(Date.parse(at ?? ""))) throw new AppError("VALIDATION_FAILED", "cursor is not one this API issued", { field: "query.cursor" });
  return sql`AND (d.created_at, d.id) < (${at}::timestamptz, ${id})`;
}

/** The scan in index order, every filter that an index serves applied. */
function scan(tenantId: string, q: TenantDeliveryQuery, limit: number): Raw {
  const endpoints = q.endpointIds === undefined ? sql`` : q.endpointIds.length === 1 ? sql`AND d.endpoint_id = ${q.endpointIds[0]}` : sql`AND d.endpoint_id = ANY(${sql.val([...q.endpointIds])}::text[])`;
  return sql`
    SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.dead_reason,
           d.delivered_at, d.created_at, d.updated_at, d.idempotency_key, d.replay_id,
           to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_exact
    FROM deliveries d
    WHERE d.tenant_id = ${tenantId} ${endpoints}
      ${q.from === undefined ? sql`` : sql`AND d.created_at >= ${q.from}::timestamptz`}
      ${q.to === undefined ? sql`` : sql`AND d.created_at < ${q.to}::timestamptz`}
      ${q.before === undefined ? sql`` : beforeCursor(q.before)}
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT ${limit}`;
}

export interface TenantDeliveryPage {
  data: TenantDelivery[];
  nextCursor: string | null;
  /** Set when a filtered search stopped at its budget before filling the page: how far back it looked. */
  searchedTo: string | null;
}

export async function listTenantDeliveries(db: Kysely<Database>, tenantId: string, q: TenantDeliveryQuery): Promise<TenantDeliveryPage> {
  const filtered = q.status !== undefined || q.eventType !== undefined;
  const { rows } = await sql<Row>`
    SELECT s.*, e.type AS event_type
    FROM (${scan(tenantId, q, filtered ? SCAN_BUDGET : q.limit + 1)}) s
    JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
    WHERE true
      ${q.status === undefined ? sql`` : sql`AND s.status = ${q.status}`}
      ${q.eventType === undefined ? sql`` : sql`AND e.type = ${q.eventType}`}
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT ${q.limit + 1}`.execute(db);
  const view = (r: Row): TenantDelivery => ({ ...deliverySummaryView(r), endpointId: r.endpoint_id });
  if (rows.length > q.limit) {
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1]!;
    return { data: page.map(view), nextCursor: encodeCursor([last.created_exact, last.id]), searchedTo: null };
  }
  if (!filtered) return { data: rows.map(view), nextCursor: null, searchedTo: null };
  // A short filtered page: did the search stop at its budget, or reach the end?
  const { rows: edge } = await sql<{ n: string; created_exact: string; id: string }>`
    SELECT count(*) OVER () AS n, s.created_exact, s.id
    FROM (${scan(tenantId, q, SCAN_BUDGET)}) s
    ORDER BY s.created_at ASC, s.id ASC
    LIMIT 1`.execute(db);
  const boundary = edge[0];
  if (boundary === undefined || Number(boundary.n) < SCAN_BUDGET) return { data: rows.map(view), nextCursor: null, searchedTo: null };
  return { data: rows.map(view), nextCursor: encodeCursor([boundary.created_exact, boundary.id]), searchedTo: new Date(boundary.created_exact).toISOString() };
}

/**
 * The exact bytes a delivery sends on every attempt (proofs/FORMAT.md §4): format 1 deliveries kept
 * theirs; format 2 ones are rebuilt from the event and the delivery's redaction record, as the
 * pipeline rebuilds them for a retry. The chain-of-custody check `prepared` proves them right.
 */
export async function deliveredBody(db: Kysely<Database>, tenantId: string, endpointId: string, deliveryId: string): Promise<Buffer | undefined> {
  const { rows } = await sql<{
    shape: "thin" | "fat" | null;
    removed: Array<{ path: string }> | null;
    stored: Buffer | null;
    payload: Buffer | null;
    event_id: string;
    type: string;
    occurred_at: Date;
    supersedes: string | null;
    metadata: JsonValue | null;
  }>`
    SELECT d.shape, d.removed, b.body AS stored, e.payload, e.id AS event_id, e.type, e.occurred_at, e.supersedes, e.metadata
    FROM deliveries d
    JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    LEFT JOIN delivery_bodies b ON b.delivery_id = d.id
    WHERE d.tenant_id = ${tenantId} AND d.endpoint_id = ${endpointId} AND d.id = ${deliveryId}`.execute(db);
  const r = rows[0];
  if (r === undefined) return undefined;
  if (r.stored !== null) return r.stored;
  if (r.shape === null) throw new AppError("CONFLICT", "this delivery's body has not been prepared yet", { field: "params.deliveryId" });
  if (r.payload === null) throw new AppError("CONFLICT", "the event's payload was erased; the body can no longer be rebuilt", { field: "params.deliveryId", details: { reason: "payload_erased" } });
  const paths = (r.removed ?? []).map((f) => f.path);
  const original = JSON.parse(r.payload.toString("utf8")) as JsonValue;
  const body: Record<string, JsonValue> = {
    data: paths.length === 0 ? original : removePaths(original, paths),
    id: r.event_id,
    payloadShape: r.shape,
    redacted: paths,
    timestamp: r.occurred_at.toISOString(),
    type: r.type,
  };
  if (r.metadata !== null) body.metadata = r.metadata;
  if (r.supersedes !== null) body.supersedes = r.supersedes;
  return Buffer.from(canonicalJson(body, "body"), "utf8");
}

import { sql, type Database, type Kysely } from "@custody/db";
import { AppError } from "@custody/errors";
import { leafIndexesOf } from "@custody/ledger-store";
import type { EventView } from "./schemas.js";
import { afterCreatedCursor, exactCreatedAt, pageOf } from "../shared/pagination.js";

/** Reading events back: one event, or a page of them, with ledger position and deliveries. */

const anyOf = (values: readonly string[]) => sql<string>`ANY(${sql.val([...values])}::text[])`;

const eventColumns = ["id", "type", "occurred_at", "payload", "metadata", "supersedes", "callback_url", "entry_id", "created_at"] as const;

interface EventRow {
  id: string;
  type: string;
  occurred_at: Date;
  payload: Buffer | null;
  metadata: unknown;
  supersedes: string | null;
  callback_url: string | null;
  entry_id: string;
  created_at: Date;
}

/** Ledger hashes and indexes, and deliveries, of a set of events: three queries whatever their number. */
async function views(db: Kysely<Database>, tenantId: string, rows: readonly EventRow[]): Promise<EventView[]> {
  if (rows.length === 0) return [];
  const entryIds = rows.map((r) => r.entry_id);
  const [leaves, indexes, deliveries] = await Promise.all([
    db.selectFrom("ledger_entries").select(["id", "leaf_hash"]).where("id", "=", anyOf(entryIds)).execute(),
    leafIndexesOf(db, entryIds),
    db
      .selectFrom("deliveries")
      .select(["id", "event_id", "endpoint_id", "target_url", "status", "created_at", "updated_at"])
      .where("tenant_id", "=", tenantId)
      .where("event_id", "=", anyOf(rows.map((r) => r.id)))
      .orderBy("created_at")
      .orderBy("id")
      .execute(),
  ]);
  const leafHashes = new Map(leaves.map((l) => [l.id, l.leaf_hash.toString("hex")]));
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    timestamp: r.occurred_at.toISOString(),
    // The stored bytes are the canonical JSON the ledger committed to; null once erased.
    data: r.payload === null ? null : (JSON.parse(r.payload.toString("utf8")) as Record<string, unknown>),
    metadata: (r.metadata ?? null) as Record<string, unknown> | null,
    supersedes: r.supersedes,
    callbackUrl: r.callback_url,
    createdAt: r.created_at.toISOString(),
    ledger: { entryId: r.entry_id, leafHash: leafHashes.get(r.entry_id) ?? "", leafIndex: indexes.get(r.entry_id) ?? null },
    deliveries: deliveries
      .filter((d) => d.event_id === r.id)
      .map((d) => ({
        id: d.id,
        endpointId: d.endpoint_id,
        targetUrl: d.target_url,
        status: d.status,
        createdAt: d.created_at.toISOString(),
        updatedAt: d.updated_at.toISOString(),
      })),
  }));
}

/** The tenant's event, or 404: another tenant's event is indistinguishable from none. */
export async function readEvent(db: Kysely<Database>, tenantId: string, id: string): Promise<EventView> {
  const row = await db.selectFrom("events").select(eventColumns).where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", `no event ${id}`, { field: "params.id" });
  return (await views(db, tenantId, [row]))[0]!;
}

export interface EventListQuery {
  limit: number;
  /** Decoded cursor: `[createdAt to the microsecond, id]` of the previous page's last event. */
  after: readonly string[] | undefined;
  type: string | undefined;
  /** Inclusive lower and exclusive upper bound on `created_at`. */
  from: string | undefined;
  to: string | undefined;
}

/** A page of the tenant's events in the order they were accepted (`created_at`, then id). */
export async function listEvents(db: Kysely<Database>, tenantId: string, query: EventListQuery): Promise<{ data: EventView[]; nextCursor: string | null }> {
  let q = db
    .selectFrom("events")
    .select([...eventColumns, exactCreatedAt.as("created_exact")])
    .where("tenant_id", "=", tenantId);
  if (query.type !== undefined) q = q.where("type", "=", query.type);
  if (query.from !== undefined) q = q.where("created_at", ">=", sql<Date>`${query.from}::timestamptz`);
  if (query.to !== undefined) q = q.where("created_at", "<", sql<Date>`${query.to}::timestamptz`);
  if (query.after !== undefined) q = q.where(afterCreatedCursor(query.after));
  const rows = await q
    .orderBy("created_at")
    .orderBy("id")
    .limit(query.limit + 1)
    .execute();
  const { page, nextCursor } = pageOf(rows, query.limit, (r) => [r.created_exact, r.id]);
  return { data: await views(db, tenantId, page), nextCursor };
}

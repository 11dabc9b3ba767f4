import { sql, type Database, type Kysely } from "@custody/db";
import { insertPreparedEvents, type AppendedEvent } from "@custody/events";
import type { PreparedEvent } from "./validate.js";

const anyOf = (values: readonly string[]) => sql<string>`ANY(${sql.val([...values])}::text[])`;

/** An event already stored under a producer's id: enough to recognise a retry and answer it as the first time. */
export interface StoredEvent {
  id: string;
  type: string;
  requestHash: Buffer;
  occurredAt: Date;
  entryId: string;
  leafHash: Buffer;
}

export async function findStoredEvents(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<Map<string, StoredEvent>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom("events as e")
    .innerJoin("ledger_entries as le", "le.id", "e.entry_id")
    .select(["e.id", "e.type", "e.request_hash", "e.occurred_at", "e.entry_id", "le.leaf_hash"])
    .where("e.tenant_id", "=", tenantId)
    .where("e.id", "=", anyOf(ids))
    .execute();
  return new Map(rows.map((r) => [r.id, { id: r.id, type: r.type, requestHash: r.request_hash, occurredAt: r.occurred_at, entryId: r.entry_id, leafHash: r.leaf_hash }]));
}

/** Which of `ids` are events of the tenant (for `supersedes`). */
export async function existingEventIds(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom("events").select("id").where("tenant_id", "=", tenantId).where("id", "=", anyOf(ids)).execute();
  return new Set(rows.map((r) => r.id));
}

export interface AcceptedEvent extends PreparedEvent {
  eventTypeId: string;
  /** Its type version's personal-data pointers (offered to dispatch with the event). */
  personalDataFields: readonly string[];
  /** The callback URL as checked and normalised. */
  callbackTarget: string | null;
}

export type InsertedEvent = AppendedEvent;

/** Appends accepted events (ledger entries and events rows) in one statement, alone or in the caller's transaction; see `insertPreparedEvents`. */
export function insertEvents(trx: Kysely<Database>, events: ReadonlyArray<{ tenantId: string; event: AcceptedEvent }>): Promise<InsertedEvent[]> {
  return insertPreparedEvents(
    trx,
    events.map(({ tenantId, event: e }) => ({
      tenantId,
      id: e.id,
      type: e.type,
      eventTypeId: e.eventTypeId,
      payload: e.payload,
      payloadSha256: e.payloadSha256,
      occurredAt: e.occurredAt,
      supersedes: e.supersedes,
      metadata: e.metadata,
      callbackUrl: e.callbackTarget,
      requestHash: e.requestHash,
    })),
  );
}

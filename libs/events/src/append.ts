import { createHash } from "node:crypto";
import { fixedAtomicWrite, sql, WriteConflict, type ArrayElementType, type Database, type Kysely } from "@custody/db";
import { eventEntry } from "@custody/ledger";
import { entriesInsertSql, entryColumns, entryRows, type EntryColumn } from "@custody/ledger-store";
import { canonicalJson, type JsonValue } from "@custody/redact";

/** An event ready to store: payload and metadata already in canonical form. */
export interface PreparedEventRow {
  tenantId: string;
  id: string;
  type: string;
  eventTypeId: string | null;
  /** RFC 8785 canonical JSON of `data`: the stored payload and what the ledger entry commits to. */
  payload: Uint8Array;
  payloadSha256: Uint8Array;
  occurredAt: Date;
  supersedes: string | null;
  /** Canonical JSON text of `metadata`, or null. */
  metadata: string | null;
  callbackUrl: string | null;
  /** SHA-256 of the canonical request that produced the event (producer-id idempotency). */
  requestHash: Uint8Array;
  /** False for platform events created together with their deliveries (test events, recall notices). */
  fanOut?: boolean;
}

/** An event in plain form, as the platform's own events (e.g. `webhook.endpoint.disabled`) are built. */
export interface NewEvent extends Omit<PreparedEventRow, "tenantId" | "payload" | "payloadSha256" | "metadata"> {
  data: JsonValue;
  metadata: JsonValue | null;
}

export interface AppendedEvent {
  tenantId: string;
  id: string;
  entryId: string;
  leafHash: Uint8Array;
}

/** The channel the relay listens on for appended events. */
export const EVENTS_CHANNEL = "custody_events";

/**
 * Wakes the relay after events committed. Sent after COMMIT, as a statement of its own, never from
 * inside the appending transaction: a NOTIFY holds a cluster-wide lock through its transaction's
 * commit, which would serialise every ingest commit behind it. Losing it costs only latency — the
 * relay also polls.
 */
export async function notifyEventsAppended(db: Kysely<Database>): Promise<void> {
  await sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(db);
}

/** Another transaction stored one of these ids between the caller's check and this insert; start over. */
export class EventIdRace extends Error {
  override readonly name = "EventIdRace";
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();

/** The columns of events rows, each with its array parameter's type. */
const EVENT_COLUMNS = {
  tenantId: "text",
  id: "text",
  type: "text",
  eventTypeId: "text",
  payload: "bytea",
  payloadSha256: "bytea",
  occurredAt: "timestamptz",
  supersedes: "text",
  metadata: "jsonb",
  callbackUrl: "text",
  requestHash: "bytea",
  entryId: "text",
  fanOut: "bool",
} as const satisfies Record<string, ArrayElementType>;
type EventColumn = keyof typeof EVENT_COLUMNS;

/** The one statement every append of events runs: its text never changes (fixedAtomicWrite). */
const writeEvents = fixedAtomicWrite<{ entry: Record<EntryColumn, unknown[]>; event: Record<EventColumn, unknown[]>; count: number }>((slot) => {
  const e = (c: EventColumn) => slot.array("event", c, EVENT_COLUMNS[c]);
  return [
    { name: "event_entries", sql: entriesInsertSql((c, type) => slot.array("entry", c, type)) },
    {
      name: "stored_events",
      sql: sql`
        INSERT INTO events (tenant_id, id, type, event_type_id, payload, payload_sha256, occurred_at, supersedes, metadata, callback_url,
                            request_hash, entry_id, fan_out)
        SELECT * FROM unnest(
          ${e("tenantId")}, ${e("id")}, ${e("type")}, ${e("eventTypeId")}, ${e("payload")}, ${e("payloadSha256")}, ${e("occurredAt")},
          ${e("supersedes")}, ${e("metadata")}, ${e("callbackUrl")}, ${e("requestHash")}, ${e("entryId")}, ${e("fanOut")})
        ON CONFLICT (tenant_id, id) DO NOTHING
        RETURNING 1`,
      expect: { rows: slot.value("count"), what: "events" },
    },
  ];
});

/**
 * Appends events (of any tenants) in one statement: their ledger entries and the events rows
 * (payload beside the ledger, committed to by hash) — all of it is stored or none is, with or
 * without a transaction around it. The relay finds them in the ledger's commit order (no outbox);
 * call notifyEventsAppended after COMMIT to wake it. An id taken concurrently makes the events insert
 * skip that row (ON CONFLICT DO NOTHING waits for the other transaction, so this is exact); the
 * statement then undoes itself, entries included, and this throws EventIdRace: the ledger never
 * holds an entry for an event that was not stored.
 */
export async function insertPreparedEvents(db: Kysely<Database>, events: readonly PreparedEventRow[]): Promise<AppendedEvent[]> {
  if (events.length === 0) return [];
  const entries = events.map((e) => ({
    tenantId: e.tenantId,
    document: eventEntry({ tenantId: e.tenantId, eventId: e.id, type: e.type, payloadSha256: e.payloadSha256, occurredAt: e.occurredAt, supersedes: e.supersedes }),
  }));
  const appended = entryRows(entries);
  // Rows in id order: two batches that share ids then wait on each other in the same order, never in a cycle.
  const keyOf = (e: PreparedEventRow) => `${e.tenantId}\u0000${e.id}`;
  const ordered = events.map((e, i) => ({ e, entryId: appended[i]!.id })).sort((a, b) => (keyOf(a.e) < keyOf(b.e) ? -1 : keyOf(a.e) > keyOf(b.e) ? 1 : 0));
  try {
    await writeEvents(db, {
      entry: entryColumns(entries, appended),
      event: {
        tenantId: ordered.map((r) => r.e.tenantId),
        id: ordered.map((r) => r.e.id),
        type: ordered.map((r) => r.e.type),
        eventTypeId: ordered.map((r) => r.e.eventTypeId),
        payload: ordered.map((r) => r.e.payload),
        payloadSha256: ordered.map((r) => r.e.payloadSha256),
        occurredAt: ordered.map((r) => r.e.occurredAt),
        supersedes: ordered.map((r) => r.e.supersedes),
        metadata: ordered.map((r) => r.e.metadata),
        callbackUrl: ordered.map((r) => r.e.callbackUrl),
        requestHash: ordered.map((r) => r.e.requestHash),
        entryId: ordered.map((r) => r.entryId),
        fanOut: ordered.map((r) => r.e.fanOut ?? true),
      },
      count: events.length,
    });
  } catch (err) {
    if (err instanceof WriteConflict) throw new EventIdRace(`event id(s) were taken concurrently (${err.message})`);
    throw err;
  }
  return events.map((e, i) => ({ tenantId: e.tenantId, id: e.id, entryId: appended[i]!.id, leafHash: appended[i]!.leafHash }));
}

/** `insertPreparedEvents` for events in plain form: canonicalises payload and metadata first. */
export async function appendEvents(trx: Kysely<Database>, tenantId: string, events: readonly NewEvent[]): Promise<AppendedEvent[]> {
  return insertPreparedEvents(
    trx,
    events.map((e) => {
      const payload = Buffer.from(canonicalJson(e.data), "utf8");
      return {
        tenantId,
        id: e.id,
        type: e.type,
        eventTypeId: e.eventTypeId,
        payload,
        payloadSha256: sha256(payload),
        occurredAt: e.occurredAt,
        supersedes: e.supersedes,
        metadata: e.metadata === null ? null : canonicalJson(e.metadata),
        callbackUrl: e.callbackUrl,
        requestHash: e.requestHash,
        fanOut: e.fanOut ?? true,
      };
    }),
  );
}

import { createHash } from "node:crypto";
import { sql, type Database, type Kysely } from "@custody/db";
import { eventEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
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

/**
 * Appends events (of any tenants) inside the caller's transaction: their ledger entries and the events
 * rows (payload beside the ledger, committed to by hash), each as one multi-row insert — all of it
 * commits or none does. The relay finds them in the ledger's commit order (no outbox); call
 * notifyEventsAppended after COMMIT to wake it. An id taken concurrently
 * makes the events insert skip that row (ON CONFLICT DO NOTHING waits for the other transaction, so
 * this is exact); then this throws EventIdRace and the transaction, entries included, must roll
 * back: the ledger never holds an entry for an event that was not stored.
 */
export async function insertPreparedEvents(trx: Kysely<Database>, events: readonly PreparedEventRow[]): Promise<AppendedEvent[]> {
  if (events.length === 0) return [];
  const entries = await appendEntries(
    trx,
    events.map((e) => ({
      tenantId: e.tenantId,
      document: eventEntry({ tenantId: e.tenantId, eventId: e.id, type: e.type, payloadSha256: e.payloadSha256, occurredAt: e.occurredAt, supersedes: e.supersedes }),
    })),
  );
  // Rows in id order: two batches that share ids then wait on each other in the same order, never in a cycle.
  const keyOf = (e: PreparedEventRow) => `${e.tenantId}\u0000${e.id}`;
  const ordered = events.map((e, i) => ({ e, entryId: entries[i]!.id })).sort((a, b) => (keyOf(a.e) < keyOf(b.e) ? -1 : keyOf(a.e) > keyOf(b.e) ? 1 : 0));
  const inserted = await trx
    .insertInto("events")
    .values(
      ordered.map(({ e, entryId }) => ({
        tenant_id: e.tenantId,
        id: e.id,
        type: e.type,
        event_type_id: e.eventTypeId,
        payload: Buffer.from(e.payload),
        payload_sha256: Buffer.from(e.payloadSha256),
        occurred_at: e.occurredAt,
        supersedes: e.supersedes,
        metadata: e.metadata,
        callback_url: e.callbackUrl,
        request_hash: Buffer.from(e.requestHash),
        entry_id: entryId,
        erased_at: null,
        fan_out: e.fanOut ?? true,
      })),
    )
    .onConflict((oc) => oc.columns(["tenant_id", "id"]).doNothing())
    .returning("id")
    .execute();
  if (inserted.length !== events.length) throw new EventIdRace(`${events.length - inserted.length} event id(s) were taken concurrently`);
  return events.map((e, i) => ({ tenantId: e.tenantId, id: e.id, entryId: entries[i]!.id, leafHash: entries[i]!.leafHash }));
}

/** `insertPreparedEvents` for events in plain form: canonicalises payload and metadata first. */
export async function appendEvents(trx: Kysely<Database>, tenantId: string, events: readonly NewEvent[]): Promise<AppendedEvent[]> {
  return insertPreparedEvents(
    trx,
    events.map(({ data, metadata, ...rest }) => {
      const payload = Buffer.from(canonicalJson(data), "utf8");
      return { ...rest, tenantId, payload, payloadSha256: sha256(payload), metadata: metadata === null ? null : canonicalJson(metadata) };
    }),
  );
}

import { createHash } from "node:crypto";
import type { Database, Kysely } from "@custody/db";
import { eventEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { canonicalJson, type JsonValue } from "@custody/redact";

export interface NewEvent {
  id: string;
  type: string;
  eventTypeId: string | null;
  data: JsonValue;
  occurredAt: Date;
  supersedes: string | null;
  metadata: JsonValue | null;
  callbackUrl: string | null;
  /** SHA-256 of the canonical request that produced the event (producer-id idempotency). */
  requestHash: Uint8Array;
}

export interface AppendedEvent {
  id: string;
  entryId: string;
  leafHash: Uint8Array;
}

/** The subject outbox rows of events carry; the relay publishes them to the fan-out stage. */
export const EVENT_OUTBOX_SUBJECT = "events";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();

/**
 * Appends events of one tenant: their ledger entries, the events rows (payload beside the ledger,
 * committed to by hash) and the outbox rows that hand them to the pipeline — all inside the
 * caller's transaction, so either all of it commits or none does. Multi-row inserts throughout.
 */
export async function appendEvents(trx: Kysely<Database>, tenantId: string, events: readonly NewEvent[]): Promise<AppendedEvent[]> {
  if (events.length === 0) return [];
  const payloads = events.map((e) => Buffer.from(canonicalJson(e.data), "utf8"));
  const entries = await appendEntries(
    trx,
    events.map((e, i) => ({
      tenantId,
      document: eventEntry({ tenantId, eventId: e.id, type: e.type, payloadSha256: sha256(payloads[i]!), occurredAt: e.occurredAt, supersedes: e.supersedes }),
    })),
  );
  await trx
    .insertInto("events")
    .values(
      events.map((e, i) => ({
        tenant_id: tenantId,
        id: e.id,
        type: e.type,
        event_type_id: e.eventTypeId,
        payload: payloads[i]!,
        payload_sha256: sha256(payloads[i]!),
        occurred_at: e.occurredAt,
        supersedes: e.supersedes,
        metadata: e.metadata === null ? null : canonicalJson(e.metadata),
        callback_url: e.callbackUrl,
        request_hash: Buffer.from(e.requestHash),
        entry_id: entries[i]!.id,
        erased_at: null,
      })),
    )
    .execute();
  await trx
    .insertInto("outbox")
    .values(
      events.map((e, i) => ({
        entry_id: entries[i]!.id,
        subject: EVENT_OUTBOX_SUBJECT,
        payload: Buffer.from(JSON.stringify({ tenantId, eventId: e.id, entryId: entries[i]!.id })),
        relayed_at: null,
      })),
    )
    .execute();
  return events.map((e, i) => ({ id: e.id, entryId: entries[i]!.id, leafHash: entries[i]!.leafHash }));
}

import { sql, type Db } from "@custody/db";
import type { JsonValue } from "@custody/redact";
import type { DispatchEvent } from "../dispatch/plan.js";

export interface LoadedEvent extends DispatchEvent {
  entryId: string;
  /** False for platform events made together with their deliveries (test events, recall notices). */
  fanOut: boolean;
}

export const eventKey = (tenantId: string, eventId: string) => `${tenantId}/${eventId}`;

/** The events a batch needs, with their ledger leaf hash and their type's personal-data fields, in one query. */
export async function loadEvents(db: Db, keys: ReadonlyArray<{ tenantId: string; eventId: string }>): Promise<Map<string, LoadedEvent>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{
    tenant_id: string;
    id: string;
    entry_id: string;
    type: string;
    occurred_at: Date;
    supersedes: string | null;
    metadata: JsonValue | null;
    payload: Buffer | null;
    callback_url: string | null;
    fan_out: boolean;
    leaf_hash: Buffer;
    personal_data_fields: string[] | null;
  }>`
    SELECT e.tenant_id, e.id, e.entry_id, e.type, e.occurred_at, e.supersedes, e.metadata, e.payload, e.callback_url, e.fan_out,
           le.leaf_hash, t.personal_data_fields
    FROM unnest(${sql.val(keys.map((k) => k.tenantId))}::text[], ${sql.val(keys.map((k) => k.eventId))}::text[]) AS k(tenant_id, id)
    JOIN events e ON e.tenant_id = k.tenant_id AND e.id = k.id
    JOIN ledger_entries le ON le.id = e.entry_id
    LEFT JOIN event_types t ON t.id = e.event_type_id`.execute(db);
  return new Map(
    rows.map((r) => [
      eventKey(r.tenant_id, r.id),
      {
        tenantId: r.tenant_id,
        eventId: r.id,
        entryId: r.entry_id,
        type: r.type,
        occurredAt: r.occurred_at,
        supersedes: r.supersedes,
        metadata: r.metadata,
        payload: r.payload,
        callbackUrl: r.callback_url,
        fanOut: r.fan_out,
        ingested: new Uint8Array(r.leaf_hash),
        personalDataFields: r.personal_data_fields ?? [],
      },
    ]),
  );
}

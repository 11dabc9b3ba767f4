import { decodeEventContent, type EventMessage, type Received } from "@custody/bus";
import { columnsOf, sql, type Db } from "@custody/db";
import { recalledSql } from "@custody/deliveries";
import type { JsonValue } from "@custody/redact";
import type { DispatchEvent } from "../dispatch/plan.js";

export interface LoadedEvent extends DispatchEvent {
  entryId: string;
  /** False for platform events made together with their deliveries (test events, recall notices). */
  fanOut: boolean;
  /**
   * The event, or the event it retracts, was recalled (FORMAT.md §12), its notice aside. Read with the
   * event; an event offered with its content (fresh, OFFERED_CONTENT_FRESH_MS) is taken as not
   * recalled: a recall that soon after the commit is one of an event in flight.
   */
  recalled: boolean;
}

export const eventKey = (tenantId: string, eventId: string) => `${tenantId}/${eventId}`;

/** The events a batch needs, with their ledger leaf hash and their type's personal-data fields, in one query. */
export async function loadEvents(db: Db, keys: ReadonlyArray<{ tenantId: string; eventId: string }>): Promise<Map<string, LoadedEvent>> {
  if (keys.length === 0) return new Map();
  const key = columnsOf(keys);
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
    recalled: boolean;
  }>`
    SELECT e.tenant_id, e.id, e.entry_id, e.type, e.occurred_at, e.supersedes, e.metadata, e.payload, e.callback_url, e.fan_out,
           le.leaf_hash, t.personal_data_fields, ${recalledSql("e")} AS recalled
    FROM unnest(${key("text", (k) => k.tenantId)}, ${key("text", (k) => k.eventId)}) AS k(tenant_id, id)
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
        recalled: r.recalled,
        ingested: new Uint8Array(r.leaf_hash),
        personalDataFields: r.personal_data_fields ?? [],
      },
    ]),
  );
}

/**
 * How old an offered event's content may be for dispatch to take it as offered. An older message
 * (a backlog after an outage) is read back, so that what changed since the commit — an erased
 * payload — is seen as when messages carried ids alone; a fresh one is as fresh as a read would be
 * by the time its deliveries are sent.
 */
export const OFFERED_CONTENT_FRESH_MS = 5_000;

/**
 * The events of a batch of messages: those offered with their content (by the API, right after its
 * commit) and stored in the stream less than OFFERED_CONTENT_FRESH_MS ago, as offered; the others
 * read in one query. Both give the same event: the content is what the API stored and committed to,
 * byte for byte (shared/events.test.ts). An offered retraction or correction (`supersedes` set) is
 * read too, as few events are: the event it supersedes may have been recalled before it was made.
 */
export async function eventsOfMessages(db: Db, messages: ReadonlyArray<Received<EventMessage>>, nowMs: number): Promise<Map<string, LoadedEvent>> {
  const offered: LoadedEvent[] = [];
  const unread: EventMessage[] = [];
  for (const { data: m, storedAtMs } of messages) {
    const c = m.content !== undefined && nowMs - storedAtMs < OFFERED_CONTENT_FRESH_MS ? decodeEventContent(m.content) : undefined;
    if (c === undefined || c.supersedes !== null) {
      unread.push(m);
      continue;
    }
    offered.push({
      tenantId: m.tenantId,
      eventId: m.eventId,
      entryId: m.entryId,
      type: c.type,
      occurredAt: c.occurredAt,
      supersedes: c.supersedes,
      metadata: c.metadata,
      payload: c.payload,
      callbackUrl: c.callbackUrl,
      fanOut: true,
      recalled: false,
      ingested: c.leafHash,
      personalDataFields: c.personalDataFields,
    });
  }
  const events = await loadEvents(db, unread);
  for (const e of offered) events.set(eventKey(e.tenantId, e.eventId), e);
  return events;
}

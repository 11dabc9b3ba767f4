import { DOCUMENT_BOUNDS, type ChainOfCustody, type ChainOfCustodyV2 } from "@custody/custody";
import { sql, type Db } from "@custody/db";
import { AppError } from "@custody/errors";
import { chainOfCustodyV1 } from "./chain-v1.js";
import { chainOfCustodyV2 } from "./chain-v2.js";

export interface EventHead {
  id: string;
  type: string;
  entryId: string;
}

export type EvidenceFormat = 1 | 2;

/**
 * An event's chain-of-custody document (proofs/FORMAT.md §13). Deliveries sealed before evidence
 * format 2 keep their format 1 evidence and are shown in a format 1 document (Appendix A); all others
 * in a format 2 one. Without `format`, an event with format 1 evidence gets its format 1 document
 * (its later deliveries, such as a replay, are in the format 2 one), any other event format 2.
 */
export async function chainOfCustody(db: Db, tenantId: string, eventId: string, origin: string, format?: EvidenceFormat, endpointIds?: readonly string[]): Promise<ChainOfCustody | ChainOfCustodyV2> {
  const row = await db.selectFrom("events").select(["id", "type", "entry_id"]).where("tenant_id", "=", tenantId).where("id", "=", eventId).executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", `no event ${eventId}`, { field: "params.evtId" });
  // Narrowed to some endpoints (a portal session's, or asked for): an event none of them was sent is not found.
  if (endpointIds !== undefined && !(await sentToAny(db, tenantId, eventId, endpointIds))) throw new AppError("NOT_FOUND", `no event ${eventId}`, { field: "params.evtId" });
  const event: EventHead = { id: row.id, type: row.type, entryId: row.entry_id };
  const chosen = format ?? ((await hasFormat1Evidence(db, tenantId, eventId, endpointIds)) ? 1 : 2);
  return withinBounds(chosen === 1 ? await chainOfCustodyV1(db, tenantId, event, origin, endpointIds) : await chainOfCustodyV2(db, tenantId, event, origin, endpointIds));
}

/**
 * A document over DOCUMENT_BOUNDS would fail the response schema (a bare 500) and every verifier;
 * refused instead with a code and what to ask for: an endpoint gets one delivery of an event, and
 * one more per replay.
 */
export function withinBounds<D extends { deliveries: ReadonlyArray<{ id: string; attempts: readonly unknown[] }> }>(doc: D): D {
  if (doc.deliveries.length > DOCUMENT_BOUNDS.deliveries) {
    throw new AppError("PROOF_TOO_LARGE", `the event has ${doc.deliveries.length} deliveries, more than the ${DOCUMENT_BOUNDS.deliveries} one document holds: ask for one endpoint's (endpointId)`, {
      field: "query.endpointId",
    });
  }
  const long = doc.deliveries.find((d) => d.attempts.length > DOCUMENT_BOUNDS.attempts);
  if (long !== undefined) throw new AppError("PROOF_TOO_LARGE", `delivery ${long.id} has ${long.attempts.length} attempts, more than the ${DOCUMENT_BOUNDS.attempts} one document holds`);
  return doc;
}

/** `AND d.endpoint_id = ANY(…)` when the document is narrowed to some endpoints. */
export function onlyEndpoints(endpointIds: readonly string[] | undefined) {
  return endpointIds === undefined ? sql`` : sql`AND d.endpoint_id = ANY(${sql.val([...endpointIds])}::text[])`;
}

async function sentToAny(db: Db, tenantId: string, eventId: string, endpointIds: readonly string[]): Promise<boolean> {
  const { rows } = await sql<{ yes: boolean }>`
    SELECT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = ${tenantId} AND d.event_id = ${eventId} ${onlyEndpoints(endpointIds)}) AS yes`.execute(db);
  return rows[0]?.yes === true;
}

async function hasFormat1Evidence(db: Db, tenantId: string, eventId: string, endpointIds: readonly string[] | undefined): Promise<boolean> {
  const { rows } = await sql<{ yes: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM deliveries d JOIN delivery_seals s ON s.delivery_id = d.id
      WHERE d.tenant_id = ${tenantId} AND d.event_id = ${eventId} ${onlyEndpoints(endpointIds)}) AS yes`.execute(db);
  return rows[0]?.yes === true;
}

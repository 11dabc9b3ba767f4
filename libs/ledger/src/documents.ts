import type { EntryDocument } from "./entry.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export interface EventEntryFields {
  tenantId: string;
  eventId: string;
  type: string;
  /** SHA-256 of the RFC 8785 canonical JSON of the event's `data`. */
  payloadSha256: Uint8Array;
  occurredAt: Date;
  supersedes: string | null;
}

/**
 * The ledger entry of an appended event. It names the tenant and commits to the payload by hash,
 * never by value: a proof built from it reveals nothing of the data, and the payload can be erased.
 */
export function eventEntry(fields: EventEntryFields): EntryDocument {
  const document: EntryDocument = {
    v: 1,
    kind: "event",
    tenant: fields.tenantId,
    event: fields.eventId,
    type: fields.type,
    payloadSha256: hex(fields.payloadSha256),
    occurredAt: fields.occurredAt.toISOString(),
  };
  if (fields.supersedes !== null) document.supersedes = fields.supersedes;
  return document;
}

import { toHex } from "@custody/encoding";
import type { EntryDocument } from "./entry.js";

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
    payloadSha256: toHex(fields.payloadSha256),
    occurredAt: fields.occurredAt.toISOString(),
  };
  if (fields.supersedes !== null) document.supersedes = fields.supersedes;
  return document;
}

export interface CustodyEntryFields {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  attemptNo: number;
  /** The endpoint id, or null for a one-shot callback delivery. */
  endpointId: string | null;
  hops: Record<"ingested" | "redacted" | "prepared" | "signed", string>;
  custodyRoot: string;
  seal: { batchRoot: string; size: number; index: number; keyId: string };
}

/** A delivery attempt's sealed custody root, appended before the attempt is sent. */
export function custodyEntry(fields: CustodyEntryFields): EntryDocument {
  return {
    v: 1,
    kind: "custody",
    tenant: fields.tenantId,
    delivery: fields.deliveryId,
    event: fields.eventId,
    attempt: fields.attemptNo,
    target: fields.endpointId === null ? { callback: true } : { endpoint: fields.endpointId },
    hops: fields.hops,
    root: fields.custodyRoot,
    seal: fields.seal,
  };
}

export interface AttemptEntryFields {
  tenantId: string;
  deliveryId: string;
  attemptNo: number;
  custodyRoot: string;
  outcome: "delivered" | "retry" | "dead";
  statusCode: number | null;
  errorClass: string | null;
  startedAt: Date;
  durationMs: number;
  /** SHA-256 of the captured response body (at most 4 KiB), hex; null when there was no response. */
  responseSha256: string | null;
}

/** A delivery attempt's outcome. The accepted attempt's entry is the `delivered` hop. */
export function attemptEntry(fields: AttemptEntryFields): EntryDocument {
  return {
    v: 1,
    kind: "attempt",
    tenant: fields.tenantId,
    delivery: fields.deliveryId,
    attempt: fields.attemptNo,
    root: fields.custodyRoot,
    outcome: fields.outcome,
    status: fields.statusCode,
    error: fields.errorClass,
    startedAt: fields.startedAt.toISOString(),
    durationMs: fields.durationMs,
    responseSha256: fields.responseSha256,
  };
}

export interface RecallEntryFields {
  tenantId: string;
  eventId: string;
  reason: string;
  recalledAt: Date;
}

/** A recall: the correction is a new entry pointing at the event it recalls; history is never edited. */
export function recallEntry(fields: RecallEntryFields): EntryDocument {
  return { v: 1, kind: "recall", tenant: fields.tenantId, event: fields.eventId, reason: fields.reason, recalledAt: fields.recalledAt.toISOString() };
}

export interface ReceiptEntryFields {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  /** base64 of the exact statement bytes the endpoint signed */
  statement: string;
  /** base64 of the 64-byte Ed25519 signature */
  signature: string;
  /** hex of the endpoint's 32-byte receipt public key */
  publicKey: string;
}

/** An endpoint's counter-signed receipt of a delivery: the `receipt` hop (proofs/FORMAT.md §10). */
export function receiptEntry(fields: ReceiptEntryFields): EntryDocument {
  return {
    v: 1,
    kind: "receipt",
    tenant: fields.tenantId,
    delivery: fields.deliveryId,
    event: fields.eventId,
    statement: fields.statement,
    signature: fields.signature,
    publicKey: fields.publicKey,
  };
}

export interface BatchEntryFields {
  /** MTH of the batch's records (hex). */
  batchRoot: string;
  size: number;
}

/**
 * A seal batch (proofs/FORMAT.md §8): the root of the tree whose leaves are the batch's custody
 * records, the root the seal note signs. One entry per batch puts every sealed attempt in the ledger.
 */
export function sealEntry(fields: BatchEntryFields & { keyId: string }): EntryDocument {
  return { v: 2, kind: "seal", batchRoot: fields.batchRoot, size: fields.size, keyId: fields.keyId };
}

/** A batch of attempt outcomes (proofs/FORMAT.md §9): the root of the tree whose leaves are outcome records. */
export function outcomesEntry(fields: BatchEntryFields): EntryDocument {
  return { v: 2, kind: "outcomes", batchRoot: fields.batchRoot, size: fields.size };
}

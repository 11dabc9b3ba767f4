import { decodeBase64, toHex } from "@custody/encoding";
import { isCertainlyCanonicalEntry } from "./audit-canonical.js";
import { decodeEntry, type EntryDocument, type EntryKind, MAX_BATCH_SIZE } from "./entry.js";
import { bad, exactMembers, hex32Member, idMember, intMember, keyIdMember, type Members, own, stringMember, timeMember } from "./members.js";
import { type AttemptEntry, type CustodyEntry, parseAttemptMembers, parseCustodyMembers } from "./documents-v1.js";

/*
 * The ledger entries Custody appends (proofs/FORMAT.md §3), each kind as its JSON shape, its builder
 * and its strict parser side by side. A parser accepts exactly the members FORMAT §3 lists for the
 * kind, each of its stated type, so the verifier, the audit and the services read an entry one way.
 */

const MAX_EVENT_TYPE_LENGTH = 128;
const MAX_RECALL_REASON_LENGTH = 1000;
const SIGNATURE_BYTES = 64;

export type EventEntry = {
  v: 1;
  kind: "event";
  tenant: string;
  event: string;
  type: string;
  /** hex SHA-256 of the RFC 8785 canonical JSON of the event's `data` */
  payloadSha256: string;
  occurredAt: string;
  /** Absent when the event supersedes nothing. */
  supersedes?: string;
};

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
export function eventEntry(fields: EventEntryFields): EventEntry {
  const entry: EventEntry = {
    v: 1,
    kind: "event",
    tenant: fields.tenantId,
    event: fields.eventId,
    type: fields.type,
    payloadSha256: toHex(fields.payloadSha256),
    occurredAt: fields.occurredAt.toISOString(),
  };
  if (fields.supersedes !== null) entry.supersedes = fields.supersedes;
  return entry;
}

function parseEventMembers(m: Members): EventEntry {
  exactMembers(m, ["v", "kind", "tenant", "event", "type", "payloadSha256", "occurredAt"], ["supersedes"]);
  const type = stringMember(m, "type");
  if (type.length === 0 || type.length > MAX_EVENT_TYPE_LENGTH) bad(`member type is not 1 to ${MAX_EVENT_TYPE_LENGTH} characters`);
  const entry: EventEntry = { v: 1, kind: "event", tenant: idMember(m, "tenant"), event: idMember(m, "event"), type, payloadSha256: hex32Member(m, "payloadSha256"), occurredAt: timeMember(m, "occurredAt") };
  if (own(m, "supersedes") !== undefined) entry.supersedes = idMember(m, "supersedes");
  return entry;
}

export type RecallEntry = { v: 1; kind: "recall"; tenant: string; event: string; reason: string; recalledAt: string };

export interface RecallEntryFields {
  tenantId: string;
  eventId: string;
  reason: string;
  recalledAt: Date;
}

/** A recall: the correction is a new entry pointing at the event it recalls; history is never edited. */
export function recallEntry(fields: RecallEntryFields): RecallEntry {
  return { v: 1, kind: "recall", tenant: fields.tenantId, event: fields.eventId, reason: fields.reason, recalledAt: fields.recalledAt.toISOString() };
}

function parseRecallMembers(m: Members): RecallEntry {
  exactMembers(m, ["v", "kind", "tenant", "event", "reason", "recalledAt"]);
  const reason = stringMember(m, "reason");
  if (reason.length === 0 || reason.length > MAX_RECALL_REASON_LENGTH) bad(`member reason is not 1 to ${MAX_RECALL_REASON_LENGTH} characters`);
  return { v: 1, kind: "recall", tenant: idMember(m, "tenant"), event: idMember(m, "event"), reason, recalledAt: timeMember(m, "recalledAt") };
}

export type ReceiptEntry = {
  v: 1;
  kind: "receipt";
  tenant: string;
  delivery: string;
  event: string;
  /** base64 of the exact statement bytes the endpoint signed */
  statement: string;
  /** base64 of the 64-byte Ed25519 signature */
  signature: string;
  /** hex of the endpoint's 32-byte receipt public key */
  publicKey: string;
};

export interface ReceiptEntryFields {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  statement: string;
  signature: string;
  publicKey: string;
}

/** An endpoint's counter-signed receipt of a delivery: the `receipt` hop (proofs/FORMAT.md §11). */
export function receiptEntry(fields: ReceiptEntryFields): ReceiptEntry {
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

function parseReceiptMembers(m: Members): ReceiptEntry {
  exactMembers(m, ["v", "kind", "tenant", "delivery", "event", "statement", "signature", "publicKey"]);
  const statement = stringMember(m, "statement");
  if (decodeBase64(statement) === undefined) bad("member statement is not canonical base64");
  const signature = stringMember(m, "signature");
  if (decodeBase64(signature)?.length !== SIGNATURE_BYTES) bad(`member signature is not the canonical base64 of ${SIGNATURE_BYTES} bytes`);
  return { v: 1, kind: "receipt", tenant: idMember(m, "tenant"), delivery: idMember(m, "delivery"), event: idMember(m, "event"), statement, signature, publicKey: hex32Member(m, "publicKey") };
}

export interface BatchEntryFields {
  /** MTH of the batch's records (hex). */
  batchRoot: string;
  size: number;
}

export type SealEntry = { v: 2; kind: "seal"; batchRoot: string; size: number; keyId: string };

/**
 * A seal batch (proofs/FORMAT.md §8): the root of the tree whose leaves are the batch's custody
 * records, the root the seal note signs. One entry per batch puts every sealed attempt in the ledger.
 */
export function sealEntry(fields: BatchEntryFields & { keyId: string }): SealEntry {
  return { v: 2, kind: "seal", batchRoot: fields.batchRoot, size: fields.size, keyId: fields.keyId };
}

function parseSealMembers(m: Members): SealEntry {
  exactMembers(m, ["v", "kind", "batchRoot", "size", "keyId"]);
  return { v: 2, kind: "seal", batchRoot: hex32Member(m, "batchRoot"), size: intMember(m, "size", 1, MAX_BATCH_SIZE), keyId: keyIdMember(m, "keyId") };
}

export type OutcomesEntry = { v: 2; kind: "outcomes"; batchRoot: string; size: number };

/** A batch of attempt outcomes (proofs/FORMAT.md §9): the root of the tree whose leaves are outcome records. */
export function outcomesEntry(fields: BatchEntryFields): OutcomesEntry {
  return { v: 2, kind: "outcomes", batchRoot: fields.batchRoot, size: fields.size };
}

function parseOutcomesMembers(m: Members): OutcomesEntry {
  exactMembers(m, ["v", "kind", "batchRoot", "size"]);
  return { v: 2, kind: "outcomes", batchRoot: hex32Member(m, "batchRoot"), size: intMember(m, "size", 1, MAX_BATCH_SIZE) };
}

/** Every kind of ledger entry, current and format 1, by its `kind`. */
export type LedgerEntry = EventEntry | RecallEntry | ReceiptEntry | SealEntry | OutcomesEntry | CustodyEntry | AttemptEntry;
export type LedgerEntryOf<K extends EntryKind> = Extract<LedgerEntry, { kind: K }>;

const PARSE_MEMBERS: { readonly [K in EntryKind]: (m: Members) => LedgerEntryOf<K> } = {
  event: parseEventMembers,
  recall: parseRecallMembers,
  receipt: parseReceiptMembers,
  seal: parseSealMembers,
  outcomes: parseOutcomesMembers,
  custody: parseCustodyMembers,
  attempt: parseAttemptMembers,
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * decodeEntry's verdict, without its re-encoding for the entries the platform writes: those the
 * one-pass recogniser is certain are canonical need only JSON.parse (a tenth of the cost, which
 * matters to the audit's hundred thousand entries a second).
 */
function decodeCanonical(bytes: Uint8Array): EntryDocument {
  return isCertainlyCanonicalEntry(bytes) ? (JSON.parse(utf8.decode(bytes)) as EntryDocument) : decodeEntry(bytes);
}

/**
 * Parses entry bytes strictly: canonical JCS (decodeEntry), a kind that exists in its version, and
 * exactly that kind's members, each of its type. Throws EntryFormatError naming what is wrong.
 */
export function parseEntry(bytes: Uint8Array): LedgerEntry {
  const document = decodeCanonical(bytes);
  return PARSE_MEMBERS[document.kind](document);
}

/** parseEntry, for an entry that must be of one kind. */
export function parseEntryOf<K extends EntryKind>(bytes: Uint8Array, kind: K): LedgerEntryOf<K> {
  const document = decodeCanonical(bytes);
  if (document.kind !== kind) bad(`kind is ${JSON.stringify(document.kind)}, expected "${kind}"`);
  return PARSE_MEMBERS[kind](document);
}

/** What is wrong with entry bytes as parseEntry sees it, or null when they are a well-formed entry. */
export function entryFault(bytes: Uint8Array): string | null {
  try {
    parseEntry(bytes);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

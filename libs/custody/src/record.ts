import { HEX32, isId, isIntIn, isTimeMs, utf8Bytes } from "@custody/encoding";
import { SEALED_HOPS, CustodyFormatError, type SealedHop } from "./hops.js";

/*
 * The per-attempt records of evidence format 2 (proofs/FORMAT.md §7, §9): the leaves of the batch
 * trees whose roots the `seal` and `outcomes` ledger entries hold. Each is RFC 8785 canonical JSON;
 * every member is an id, a lowercase hex hash, a small integer, null or a fixed word, so the
 * canonical form is written directly in sorted member order with JSON string escapes.
 * Parsing is strict: the bytes must be exactly the canonical form of a well-formed record.
 */

export type DeliveryTarget = { endpoint: string } | { callback: true };

export interface CustodyRecord {
  tenant: string;
  delivery: string;
  event: string;
  /** 1-based */
  attempt: number;
  target: DeliveryTarget;
  /** Unix seconds of the seal: the attempt's `webhook-timestamp`. */
  sealedAt: number;
  /** Hex leaf hash of the previous attempt's outcome record; null for attempt 1. */
  previous: string | null;
  hops: Record<SealedHop, string>;
  /** Hex custody root: the MTH of the four hop leaves (§7). */
  root: string;
}

export const OUTCOMES = ["delivered", "retry", "dead"] as const;
export type AttemptOutcome = (typeof OUTCOMES)[number];

export interface OutcomeRecord {
  tenant: string;
  delivery: string;
  attempt: number;
  /** Hex custody root of the attempt this is the outcome of. */
  root: string;
  outcome: AttemptOutcome;
  /** HTTP status, or null when no response was received. */
  status: number | null;
  /** Error class (FORMAT.md §9), or null. */
  error: string | null;
  /** RFC 3339 UTC with milliseconds. */
  startedAt: string;
  durationMs: number;
  /** Hex SHA-256 of the captured response body, or null when there was no response. */
  responseSha256: string | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const str = JSON.stringify;
const MAX_RECORD_BYTES = 4096;

function targetJson(t: DeliveryTarget): string {
  return "callback" in t ? '{"callback":true}' : `{"endpoint":${str(t.endpoint)}}`;
}

export function encodeCustodyRecord(r: CustodyRecord): Uint8Array {
  assertCustodyRecord(r);
  const hops = `{"ingested":${str(r.hops.ingested)},"prepared":${str(r.hops.prepared)},"redacted":${str(r.hops.redacted)},"signed":${str(r.hops.signed)}}`;
  return utf8Bytes(
    `{"attempt":${r.attempt},"delivery":${str(r.delivery)},"event":${str(r.event)},"hops":${hops},"kind":"custody","previous":${r.previous === null ? "null" : str(r.previous)},"root":${str(r.root)},"sealedAt":${r.sealedAt},"target":${targetJson(r.target)},"tenant":${str(r.tenant)},"v":2}`,
  );
}

export function encodeOutcomeRecord(r: OutcomeRecord): Uint8Array {
  assertOutcomeRecord(r);
  return utf8Bytes(
    `{"attempt":${r.attempt},"delivery":${str(r.delivery)},"durationMs":${r.durationMs},"error":${r.error === null ? "null" : str(r.error)},"kind":"attempt","outcome":${str(r.outcome)},"responseSha256":${r.responseSha256 === null ? "null" : str(r.responseSha256)},"root":${str(r.root)},"startedAt":${str(r.startedAt)},"status":${r.status === null ? "null" : r.status},"tenant":${str(r.tenant)},"v":2}`,
  );
}

const bad = (what: string): never => {
  throw new CustodyFormatError("BAD_RECORD", what);
};

function assertCustodyRecord(r: CustodyRecord): void {
  if (!isId(r.tenant) || !isId(r.delivery) || !isId(r.event)) bad("custody record: tenant, delivery and event must be ids");
  if (!isIntIn(r.attempt, 1, 1_000_000)) bad("custody record: attempt must be an integer >= 1");
  if (!isIntIn(r.sealedAt, 0, 99_999_999_999)) bad("custody record: sealedAt must be unix seconds");
  if (r.previous !== null && !HEX32.test(r.previous)) bad("custody record: previous must be 64 lowercase hex characters or null");
  if ((r.attempt === 1) !== (r.previous === null)) bad("custody record: previous is null exactly for attempt 1");
  const t = r.target as Record<string, unknown>;
  const keys = typeof t === "object" && t !== null ? Object.keys(t) : [];
  if (!(keys.length === 1 && ((keys[0] === "callback" && t.callback === true) || (keys[0] === "endpoint" && isId(t.endpoint))))) {
    bad('custody record: target must be {"endpoint": id} or {"callback": true}');
  }
  const hops = r.hops as Record<string, unknown>;
  if (typeof hops !== "object" || hops === null || Object.keys(hops).length !== 4 || !SEALED_HOPS.every((h) => typeof hops[h] === "string" && HEX32.test(hops[h] as string))) {
    bad(`custody record: hops must be exactly ${SEALED_HOPS.join(", ")}, each 64 lowercase hex characters`);
  }
  if (!HEX32.test(r.root)) bad("custody record: root must be 64 lowercase hex characters");
}

function assertOutcomeRecord(r: OutcomeRecord): void {
  if (!isId(r.tenant) || !isId(r.delivery)) bad("outcome record: tenant and delivery must be ids");
  if (!isIntIn(r.attempt, 1, 1_000_000)) bad("outcome record: attempt must be an integer >= 1");
  if (!HEX32.test(r.root)) bad("outcome record: root must be 64 lowercase hex characters");
  if (!(OUTCOMES as readonly string[]).includes(r.outcome)) bad(`outcome record: outcome must be one of ${OUTCOMES.join(", ")}`);
  if (r.status !== null && !isIntIn(r.status, 100, 599)) bad("outcome record: status must be an HTTP status or null");
  if (r.error !== null && !/^[a-z_]{1,32}$/.test(r.error)) bad("outcome record: error must be an error class or null");
  if (!isTimeMs(r.startedAt)) bad("outcome record: startedAt must be RFC 3339 UTC with milliseconds");
  if (!isIntIn(r.durationMs, 0, 86_400_000)) bad("outcome record: durationMs must be a non-negative integer");
  if (r.responseSha256 !== null && !HEX32.test(r.responseSha256)) bad("outcome record: responseSha256 must be 64 lowercase hex characters or null");
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_RECORD_BYTES) bad(`${what} must be 1 to ${MAX_RECORD_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    bad(`${what} is not UTF-8 JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses custody record bytes; they must be exactly the canonical form of a well-formed v2 record. */
export function parseCustodyRecord(bytes: Uint8Array): CustodyRecord {
  const v = parseJson(bytes, "custody record");
  if (v.v !== 2 || v.kind !== "custody") bad('custody record must have "v": 2 and "kind": "custody"');
  const record = { tenant: v.tenant, delivery: v.delivery, event: v.event, attempt: v.attempt, target: v.target, sealedAt: v.sealedAt, previous: v.previous, hops: v.hops, root: v.root } as CustodyRecord;
  if (!sameBytes(encodeCustodyRecord(record), bytes)) bad("custody record is not in canonical form (RFC 8785) or has extra members");
  return record;
}

/** Parses outcome record bytes; they must be exactly the canonical form of a well-formed v2 record. */
export function parseOutcomeRecord(bytes: Uint8Array): OutcomeRecord {
  const v = parseJson(bytes, "outcome record");
  if (v.v !== 2 || v.kind !== "attempt") bad('outcome record must have "v": 2 and "kind": "attempt"');
  const record = {
    tenant: v.tenant,
    delivery: v.delivery,
    attempt: v.attempt,
    root: v.root,
    outcome: v.outcome,
    status: v.status,
    error: v.error,
    startedAt: v.startedAt,
    durationMs: v.durationMs,
    responseSha256: v.responseSha256,
  } as OutcomeRecord;
  if (!sameBytes(encodeOutcomeRecord(record), bytes)) bad("outcome record is not in canonical form (RFC 8785) or has extra members");
  return record;
}

import { isIntIn } from "@custody/encoding";
import { MAX_BATCH_SIZE } from "./entry.js";
import { bad, exactMembers, hex32Member, idMember, intMember, keyIdMember, type Members, nullable, objectMember, own, timeMember } from "./members.js";

/*
 * The per-attempt entries of format 1 (proofs/FORMAT.md Appendix A), no longer appended: format 2
 * puts these facts in batch records. Built here for fixtures and parsed for documents made before.
 */

const HOPS = ["ingested", "prepared", "redacted", "signed"] as const;
const OUTCOMES = ["delivered", "retry", "dead"] as const;
const ERROR_CLASS = /^[a-z_]{1,32}$/;
const MAX_ATTEMPT = 1_000_000;
const MAX_DURATION_MS = 86_400_000;

export type CustodyEntry = {
  v: 1;
  kind: "custody";
  tenant: string;
  delivery: string;
  event: string;
  attempt: number;
  target: { endpoint: string } | { callback: true };
  hops: Record<(typeof HOPS)[number], string>;
  root: string;
  seal: { batchRoot: string; size: number; index: number; keyId: string };
};

export interface CustodyEntryFields {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  attemptNo: number;
  /** The endpoint id, or null for a one-shot callback delivery. */
  endpointId: string | null;
  hops: CustodyEntry["hops"];
  custodyRoot: string;
  seal: CustodyEntry["seal"];
}

/** A format 1 delivery attempt's sealed custody root, appended before the attempt was sent. */
export function custodyEntry(fields: CustodyEntryFields): CustodyEntry {
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

function parseTarget(m: Members): CustodyEntry["target"] {
  const target = objectMember(m, "target");
  const keys = Object.keys(target);
  if (keys.length === 1 && keys[0] === "callback" && target.callback === true) return { callback: true };
  if (keys.length === 1 && keys[0] === "endpoint") return { endpoint: idMember(target, "endpoint") };
  return bad('member target is not {"endpoint": id} or {"callback": true}');
}

export function parseCustodyMembers(m: Members): CustodyEntry {
  exactMembers(m, ["v", "kind", "tenant", "delivery", "event", "attempt", "target", "hops", "root", "seal"]);
  const hopsMembers = objectMember(m, "hops");
  exactMembers(hopsMembers, HOPS);
  const hops = { ingested: hex32Member(hopsMembers, "ingested"), prepared: hex32Member(hopsMembers, "prepared"), redacted: hex32Member(hopsMembers, "redacted"), signed: hex32Member(hopsMembers, "signed") };
  const sealMembers = objectMember(m, "seal");
  exactMembers(sealMembers, ["batchRoot", "size", "index", "keyId"]);
  const size = intMember(sealMembers, "size", 1, MAX_BATCH_SIZE);
  const seal = { batchRoot: hex32Member(sealMembers, "batchRoot"), size, index: intMember(sealMembers, "index", 0, size - 1), keyId: keyIdMember(sealMembers, "keyId") };
  return {
    v: 1,
    kind: "custody",
    tenant: idMember(m, "tenant"),
    delivery: idMember(m, "delivery"),
    event: idMember(m, "event"),
    attempt: intMember(m, "attempt", 1, MAX_ATTEMPT),
    target: parseTarget(m),
    hops,
    root: hex32Member(m, "root"),
    seal,
  };
}

export type AttemptEntry = {
  v: 1;
  kind: "attempt";
  tenant: string;
  delivery: string;
  attempt: number;
  root: string;
  outcome: (typeof OUTCOMES)[number];
  status: number | null;
  error: string | null;
  startedAt: string;
  durationMs: number;
  /** hex SHA-256 of the captured response body (at most 4 KiB); null when there was no response */
  responseSha256: string | null;
};

export interface AttemptEntryFields {
  tenantId: string;
  deliveryId: string;
  attemptNo: number;
  custodyRoot: string;
  outcome: AttemptEntry["outcome"];
  statusCode: number | null;
  errorClass: string | null;
  startedAt: Date;
  durationMs: number;
  responseSha256: string | null;
}

/** A format 1 delivery attempt's outcome. The accepted attempt's entry was the `delivered` hop. */
export function attemptEntry(fields: AttemptEntryFields): AttemptEntry {
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

export function parseAttemptMembers(m: Members): AttemptEntry {
  exactMembers(m, ["v", "kind", "tenant", "delivery", "attempt", "root", "outcome", "status", "error", "startedAt", "durationMs", "responseSha256"]);
  const outcome = own(m, "outcome");
  if (!OUTCOMES.includes(outcome as AttemptEntry["outcome"])) bad(`member outcome is not one of ${OUTCOMES.join(", ")}`);
  const error = own(m, "error");
  if (error !== null && (typeof error !== "string" || !ERROR_CLASS.test(error))) bad("member error is not an error class or null");
  const status = own(m, "status");
  if (status !== null && !isIntIn(status, 100, 599)) bad("member status is not an HTTP status or null");
  return {
    v: 1,
    kind: "attempt",
    tenant: idMember(m, "tenant"),
    delivery: idMember(m, "delivery"),
    attempt: intMember(m, "attempt", 1, MAX_ATTEMPT),
    root: hex32Member(m, "root"),
    outcome: outcome as AttemptEntry["outcome"],
    status: status as number | null,
    error: error as string | null,
    startedAt: timeMember(m, "startedAt"),
    durationMs: intMember(m, "durationMs", 0, MAX_DURATION_MS),
    responseSha256: nullable(m, "responseSha256", hex32Member),
  };
}

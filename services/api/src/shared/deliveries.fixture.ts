import { createHash, randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import { newId, type Database, type DeliveryStatus, type Kysely } from "@custody/db";
import { attemptEntry, custodyEntry, eventEntry } from "@custody/ledger";
import { newDeliveryId } from "@custody/deliveries";
import { appendEntries } from "@custody/ledger-store";
import { auth, type TestApi, type TestTenant } from "./test-app.fixture.js";

/**
 * Hand-inserted pipeline rows for the delivery, test-event and stats route tests: events with their
 * ledger entries, deliveries, bodies, and sealed + recorded attempts (seal batch, custody entry,
 * seal, attempt entry, attempt). Hashes are arbitrary 32-byte values.
 */

export const HOOK_URL = "https://127.0.0.1:8443/hook";

const hex32 = () => randomBytes(32).toString("hex");

export async function createEndpoint(api: TestApi, tenant: TestTenant, body: Record<string, unknown> = {}): Promise<{ id: string; url: string }> {
  const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url: HOOK_URL, ...body } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** An event (and its ledger entry); `erased` leaves it without payload, as erasure does. */
export async function insertEvent(db: Kysely<Database>, tenantId: string, options: { type?: string; erased?: boolean } = {}): Promise<string> {
  const type = options.type ?? "identity.registration.final";
  const eventId = `evt-${randomUUID()}`;
  const payload = Buffer.from('{"name":"Ada"}');
  const sha = createHash("sha256").update(payload).digest();
  const occurredAt = new Date();
  const [entry] = await appendEntries(db, [{ tenantId, document: eventEntry({ tenantId, eventId, type, payloadSha256: sha, occurredAt, supersedes: null }) }]);
  await db
    .insertInto("events")
    .values({
      tenant_id: tenantId,
      id: eventId,
      type,
      event_type_id: null,
      payload: options.erased ? null : payload,
      payload_sha256: sha,
      occurred_at: occurredAt,
      supersedes: null,
      metadata: null,
      callback_url: null,
      request_hash: sha,
      entry_id: entry!.id,
      erased_at: options.erased ? new Date() : null,
    })
    .execute();
  return eventId;
}

export interface DeliveryFields {
  tenantId: string;
  /** Null: a one-shot callback delivery. */
  endpointId: string | null;
  status: DeliveryStatus;
  eventId?: string;
  eventType?: string;
  createdAt?: Date;
  deliveredAt?: Date | null;
  attempts?: number;
  nextAttemptAt?: Date | null;
  deadReason?: string | null;
  lastError?: string | null;
  lastStatusCode?: number | null;
  /** The redaction record of a format-2 delivery: its shape and the paths redaction removed. */
  redaction?: { shape: "thin" | "fat"; removed: Array<{ path: string; salt: string; commitment: string }> };
}

export async function insertDelivery(db: Kysely<Database>, f: DeliveryFields): Promise<{ id: string; eventId: string }> {
  const eventId = f.eventId ?? (await insertEvent(db, f.tenantId, { type: f.eventType }));
  const id = newDeliveryId();
  const at = f.createdAt ?? new Date();
  await db
    .insertInto("deliveries")
    .values({
      id,
      tenant_id: f.tenantId,
      event_id: eventId,
      endpoint_id: f.endpointId,
      kind: f.endpointId === null ? "callback" : "endpoint",
      target_url: HOOK_URL,
      idempotency_key: randomUUID(),
      status: f.status,
      created_at: at,
      updated_at: at,
      attempts: f.attempts ?? 0,
      delivered_at: f.deliveredAt ?? null,
      next_attempt_at: f.nextAttemptAt ?? null,
      dead_reason: f.deadReason ?? null,
      last_error: f.lastError ?? null,
      last_status_code: f.lastStatusCode ?? null,
      shape: f.redaction?.shape ?? null,
      removed: f.redaction ? JSON.stringify(f.redaction.removed) : null,
    })
    .execute();
  return { id, eventId };
}

/** The prepared body of a delivery, with what redaction removed. */
export async function insertBody(db: Kysely<Database>, deliveryId: string, shape: "thin" | "fat", removedPaths: string[]): Promise<void> {
  await db
    .insertInto("delivery_bodies")
    .values({
      delivery_id: deliveryId,
      body: Buffer.from("{}"),
      shape,
      removed: JSON.stringify(removedPaths.map((path) => ({ path, salt: hex32(), commitment: hex32() }))),
      redacted_hop: randomBytes(32),
    })
    .execute();
}

export interface AttemptFields {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  endpointId: string | null;
  attemptNo: number;
  startedAt?: Date;
  durationMs: number;
  statusCode?: number | null;
  errorClass?: string | null;
  responseExcerpt?: string | null;
  outcome: "delivered" | "retry" | "dead";
  keyIds?: string[];
}

/**
 * A format 2 attempt as the pipeline stores it: its attempt_seals row and, unless `recorded` is
 * false, its attempt_outcomes row (batch rows are not needed by the API's reads).
 */
export async function insertSealedAttempt(db: Kysely<Database>, a: AttemptFields, options: { recorded?: boolean } = {}): Promise<void> {
  const keyIds = a.keyIds ?? ["whk_0123456789abcdef"];
  await db
    .insertInto("attempt_seals")
    .values({
      delivery_id: a.deliveryId,
      attempt_no: a.attemptNo,
      batch_id: "1",
      batch_index: 0,
      hops: randomBytes(128),
      sealed_at: String(Math.floor(Date.now() / 1000)),
      previous: a.attemptNo === 1 ? null : randomBytes(32),
      signatures: randomBytes(32 * (1 + keyIds.length)),
      key_ids: keyIds.join(" "),
      target_url: HOOK_URL,
    })
    .execute();
  if (options.recorded === false) return;
  await db
    .insertInto("attempt_outcomes")
    .values({
      delivery_id: a.deliveryId,
      attempt_no: a.attemptNo,
      tenant_id: a.tenantId,
      batch_id: "1",
      batch_index: 0,
      started_at: a.startedAt ?? new Date(),
      duration_ms: a.durationMs,
      status_code: a.statusCode === undefined ? 200 : a.statusCode,
      error_class: a.errorClass ?? null,
      response_sha256: null,
      response_excerpt: a.responseExcerpt ?? null,
      outcome: a.outcome,
    })
    .execute();
}

/** Seals an attempt in format 1 (seal batch, custody entry, seal) and, unless `recorded` is false, records its outcome (attempt entry, attempt). Returns the custody root, hex. */
export async function insertAttempt(db: Kysely<Database>, a: AttemptFields, options: { recorded?: boolean } = {}): Promise<string> {
  const root = hex32();
  const batchId = newId("seal");
  await db
    .insertInto("seal_batches")
    .values({ id: batchId, size: 1, root: Buffer.from(root, "hex"), note: "test seal", key_id: "0000abcd" })
    .execute();
  const [custody] = await appendEntries(db, [
    {
      tenantId: a.tenantId,
      document: custodyEntry({
        tenantId: a.tenantId,
        deliveryId: a.deliveryId,
        eventId: a.eventId,
        attemptNo: a.attemptNo,
        endpointId: a.endpointId,
        hops: { ingested: hex32(), redacted: hex32(), prepared: hex32(), signed: hex32() },
        custodyRoot: root,
        seal: { batchRoot: root, size: 1, index: 0, keyId: "0000abcd" },
      }),
    },
  ]);
  await db
    .insertInto("delivery_seals")
    .values({
      delivery_id: a.deliveryId,
      attempt_no: a.attemptNo,
      tenant_id: a.tenantId,
      seal_batch_id: batchId,
      batch_index: 0,
      custody_root: Buffer.from(root, "hex"),
      hops: "{}",
      headers: "{}",
      target_url: HOOK_URL,
      custody_entry_id: custody!.id,
    })
    .execute();
  if (options.recorded === false) return root;
  const startedAt = a.startedAt ?? new Date();
  const statusCode = a.statusCode === undefined ? 200 : a.statusCode;
  const errorClass = a.errorClass ?? null;
  const [entry] = await appendEntries(db, [
    {
      tenantId: a.tenantId,
      document: attemptEntry({
        tenantId: a.tenantId,
        deliveryId: a.deliveryId,
        attemptNo: a.attemptNo,
        custodyRoot: root,
        outcome: a.outcome,
        statusCode,
        errorClass,
        startedAt,
        durationMs: a.durationMs,
        responseSha256: null,
      }),
    },
  ]);
  await db
    .insertInto("delivery_attempts")
    .values({
      delivery_id: a.deliveryId,
      attempt_no: a.attemptNo,
      tenant_id: a.tenantId,
      started_at: startedAt,
      duration_ms: a.durationMs,
      status_code: statusCode,
      response_excerpt: a.responseExcerpt ?? null,
      response_sha256: null,
      error_class: errorClass,
      key_ids: a.keyIds ?? ["whk_0123456789abcdef"],
      outcome: a.outcome,
      attempt_entry_id: entry!.id,
    })
    .execute();
  return root;
}

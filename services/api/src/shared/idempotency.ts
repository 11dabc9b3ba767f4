import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { sql, type Database, type Db, type Kysely, type Transaction } from "@custody/db";
import { AppError } from "@custody/errors";
import { principalOf } from "@custody/http";

/**
 * `Idempotency-Key` for mutations. The record of a key is written in the same transaction as the
 * mutation it answers, so "done" and "remembered as done" cannot diverge: a crash loses both or
 * neither. Only successes are recorded; a request that failed changed nothing, so retrying it under
 * the same key simply runs it again.
 */

export const IDEMPOTENCY_HEADER = "idempotency-key";
const KEY_FORMAT = /^[\x20-\x7e]{1,255}$/;

/** Headers schema for a mutation. Loose, so the other headers (Authorization) stay on the request. */
export const idempotencyHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .regex(KEY_FORMAT)
    .optional()
    .describe(
      "1–255 printable ASCII characters. Sending the same key with the same request replays the first response (header `idempotent-replayed: true`; a secret or key shown once is null in the replay); the same key with a different request is 409 IDEMPOTENCY_KEY_CONFLICT.",
    ),
});

/** Bodies nest no deeper than this before they are hashed; the hash walks them recursively. */
const MAX_HASH_DEPTH = 64;

export interface IdempotentMutation<T, P> {
  /** Status of a first, not replayed, success. */
  status: number;
  /** Checks that need no transaction (validation, DNS). Skipped when the request is a replay. */
  prepare?: () => P | Promise<P>;
  /** The mutation; everything it writes commits together with the idempotency record. */
  run: (trx: Transaction<Database>, prepared: P) => Promise<T>;
  /** The response as kept for replays: whatever is shown only once (a secret, an API key) must be nulled here. */
  forReplay?: (response: T) => T;
}

interface StoredRecord {
  request_hash: Buffer;
  status_code: number;
  response: unknown;
}

/**
 * Runs a mutation in one transaction, honouring an `Idempotency-Key` header. The key is scoped to the
 * tenant, the method, the route pattern and the path parameters; the request is identified by the
 * SHA-256 of its canonical body and query.
 */
export async function idempotentMutation<T, P = undefined>(db: Db, request: FastifyRequest, reply: FastifyReply, mutation: IdempotentMutation<T, P>): Promise<T> {
  const key = idempotencyKeyOf(request);
  if (key === undefined) {
    const prepared = (await mutation.prepare?.()) as P;
    const result = await db.transaction().execute((trx) => mutation.run(trx, prepared));
    void reply.status(mutation.status);
    return result;
  }

  const id = { tenantId: principalOf(request).tenantId, scope: scopeOf(request), key };
  const hash = requestHashOf(request);
  // Cheap path for a retry of a finished request: no preparation, no transaction.
  const earlier = await findRecord(db, id);
  if (earlier) return replay<T>(reply, earlier, hash);

  const prepared = (await mutation.prepare?.()) as P;
  const outcome = await db.transaction().execute(async (trx) => {
    // Concurrent requests with one key queue here; the second then finds the first one's record.
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`idempotency:${id.tenantId}:${id.scope}:${id.key}`}, 0))`.execute(trx);
    const raced = await findRecord(trx, id);
    if (raced) return { replayOf: raced, result: undefined };
    const result = await mutation.run(trx, prepared);
    const kept = mutation.forReplay ? mutation.forReplay(result) : result;
    await trx
      .insertInto("idempotency_records")
      .values({ tenant_id: id.tenantId, scope: id.scope, key: id.key, request_hash: hash, status_code: mutation.status, response: JSON.stringify(kept) })
      .execute();
    return { replayOf: undefined, result };
  });
  if (outcome.replayOf) return replay<T>(reply, outcome.replayOf, hash);
  void reply.status(mutation.status);
  return outcome.result as T;
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  // Routes validate the header with `idempotencyHeaders`; this guards a route that forgot to.
  if (typeof raw !== "string" || !KEY_FORMAT.test(raw)) {
    throw new AppError("VALIDATION_FAILED", "Idempotency-Key must be 1–255 printable ASCII characters", { field: `headers.${IDEMPOTENCY_HEADER}` });
  }
  return raw;
}

/** `PATCH /api/v2/webhooks/:id {"id":"wh_…"}`: one key may be reused on another route or object. */
function scopeOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]} ${canonicalJson(request.params ?? {})}`;
}

function requestHashOf(request: FastifyRequest): Buffer {
  // The validated body: defaults are filled in, so `{}` and the explicit defaults are one request.
  const text = canonicalJson({ body: request.body ?? null, query: request.query ?? {} });
  return createHash("sha256").update(text, "utf8").digest();
}

async function findRecord(db: Kysely<Database>, id: { tenantId: string; scope: string; key: string }): Promise<StoredRecord | undefined> {
  return db.selectFrom("idempotency_records").select(["request_hash", "status_code", "response"]).where("tenant_id", "=", id.tenantId).where("scope", "=", id.scope).where("key", "=", id.key).executeTakeFirst();
}

function replay<T>(reply: FastifyReply, record: StoredRecord, hash: Buffer): T {
  if (record.request_hash.length !== hash.length || !timingSafeEqual(record.request_hash, hash)) {
    throw new AppError("IDEMPOTENCY_KEY_CONFLICT", "this Idempotency-Key was already used with a different request", { field: `headers.${IDEMPOTENCY_HEADER}` });
  }
  void reply.status(record.status_code).header("idempotent-replayed", "true");
  return record.response as T;
}

/** Sorted keys, no whitespace, `undefined` members dropped: equal requests give equal text. */
function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_HASH_DEPTH) throw new AppError("JSON_TOO_DEEP", `request nests deeper than ${MAX_HASH_DEPTH} levels`, { field: "body" });
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(",")}}`;
}

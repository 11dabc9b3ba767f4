import { batchOf, encodeOutcomeRecord, packLeafHashes, type AttemptOutcome } from "@custody/custody";
import { columnsOf, sql, writeAtomically, type Database, type Kysely } from "@custody/db";
import { attemptKeysTable } from "./attempt-keys.js";
import { outcomesEntry } from "@custody/ledger";
import { entryInsert } from "@custody/ledger-store";
import { toHex } from "@custody/encoding";
import type { DeliveryUpdate } from "./types.js";

export interface OutcomeToRecord {
  tenantId: string;
  deliveryId: string;
  attemptNo: number;
  /** Hex custody root of the attempt. */
  root: string;
  outcome: AttemptOutcome;
  statusCode: number | null;
  errorClass: string | null;
  startedAt: Date;
  durationMs: number;
  responseSha256: string | null;
  responseExcerpt: string | null;
  /** The delivery's next state; applied only while the delivery still waits on this very attempt. */
  update: DeliveryUpdate;
}

export const outcomeKey = (deliveryId: string, attemptNo: number) => `${deliveryId}#${attemptNo}`;

/**
 * Records a batch of attempt outcomes in one statement (FORMAT.md §9): the outcome records' batch
 * tree as one `outcomes` ledger entry, the batch row, one attempt_outcomes row per attempt, and each
 * delivery's next state — moved only if it is still `delivering` this attempt (a recall or a
 * retarget meanwhile keeps its own state; the attempt is recorded regardless).
 * An attempt recorded already (by another process that sent it too) throws WriteConflict with
 * nothing written — the ledger must never log two outcomes of one attempt; `recordedAmong` then
 * says which.
 */
export async function recordOutcomes(db: Kysely<Database>, outcomes: readonly OutcomeToRecord[]): Promise<void> {
  if (outcomes.length === 0) return;
  const records = outcomes.map((o) =>
    encodeOutcomeRecord({
      tenant: o.tenantId,
      delivery: o.deliveryId,
      attempt: o.attemptNo,
      root: o.root,
      outcome: o.outcome,
      status: o.statusCode,
      error: o.errorClass,
      startedAt: o.startedAt.toISOString(),
      durationMs: o.durationMs,
      responseSha256: o.responseSha256,
    }),
  );
  const batch = batchOf(records);
  const { appended, insert } = entryInsert([{ tenantId: null, document: outcomesEntry({ batchRoot: toHex(batch.root), size: records.length }) }]);
  const col = columnsOf(outcomes);
  const ucol = columnsOf(outcomes.map((o) => o.update));
  await writeAtomically(db, [
    { name: "outcome_entry", sql: insert },
    {
      name: "outcome_batch",
      sql: sql`
        INSERT INTO outcome_batches (size, root, leaves, entry_id)
        VALUES (${records.length}, ${Buffer.from(batch.root)}, ${Buffer.from(packLeafHashes(batch.leafHashes))}, ${appended[0]!.id})
        RETURNING id`,
    },
    {
      name: "outcomes",
      sql: sql`
        INSERT INTO attempt_outcomes (delivery_id, attempt_no, tenant_id, batch_id, batch_index, started_at, duration_ms, status_code,
                                      error_class, response_sha256, response_excerpt, outcome)
        SELECT u.delivery_id, u.attempt_no, u.tenant_id, (SELECT id FROM outcome_batch), u.batch_index, u.started_at, u.duration_ms, u.status_code,
               u.error_class, decode(u.response_sha256, 'hex'), u.response_excerpt, u.outcome
        FROM unnest(
          ${col("text", (o) => o.deliveryId)}, ${col("int4", (o) => o.attemptNo)}, ${col("text", (o) => o.tenantId)}, ${col("int4", (_, i) => i)},
          ${col("timestamptz", (o) => o.startedAt)}, ${col("int4", (o) => o.durationMs)}, ${col("int4", (o) => o.statusCode)},
          ${col("text", (o) => o.errorClass)}, ${col("text", (o) => o.responseSha256)}, ${col("text", (o) => o.responseExcerpt)}, ${col("text", (o) => o.outcome)}
        ) AS u(delivery_id, attempt_no, tenant_id, batch_index, started_at, duration_ms, status_code, error_class, response_sha256, response_excerpt, outcome)
        ON CONFLICT (delivery_id, attempt_no) DO NOTHING
        RETURNING 1`,
      expect: { rows: outcomes.length, what: "attempt outcomes" },
    },
    {
      name: "moved",
      sql: sql`
        UPDATE deliveries d SET
          status = u.status, next_attempt_at = u.next_attempt_at, last_delay_ms = u.last_delay_ms,
          last_status_code = u.last_status_code, last_error = u.last_error, dead_reason = u.dead_reason,
          delivered_at = u.delivered_at, updated_at = now()
        FROM unnest(
          ${col("text", (o) => o.deliveryId)}, ${col("int4", (o) => o.attemptNo)}, ${ucol("text", (x) => x.status)},
          ${ucol("timestamptz", (x) => x.next_attempt_at)}, ${ucol("int8", (x) => x.last_delay_ms)},
          ${ucol("int4", (x) => x.last_status_code)}, ${ucol("text", (x) => x.last_error)},
          ${ucol("text", (x) => x.dead_reason)}, ${ucol("timestamptz", (x) => x.delivered_at)}
        ) AS u(id, attempt_no, status, next_attempt_at, last_delay_ms, last_status_code, last_error, dead_reason, delivered_at)
        WHERE d.id = u.id AND d.status = 'delivering' AND d.attempts = u.attempt_no`,
    },
  ]);
}

/** Which of these attempts have an outcome recorded, by outcomeKey. */
export async function recordedAmong(db: Kysely<Database>, attempts: ReadonlyArray<{ deliveryId: string; attemptNo: number }>): Promise<Set<string>> {
  if (attempts.length === 0) return new Set();
  const { rows } = await sql<{ delivery_id: string; attempt_no: number }>`
    SELECT o.delivery_id, o.attempt_no
    FROM ${attemptKeysTable(attempts)}
    JOIN attempt_outcomes o USING (delivery_id, attempt_no)`.execute(db);
  return new Set(rows.map((r) => outcomeKey(r.delivery_id, r.attempt_no)));
}

import { batchOf, encodeOutcomeRecord, packLeafHashes, type AttemptOutcome } from "@custody/custody";
import { fixedAtomicWrite, sql, type ArrayElementType, type Database, type Kysely } from "@custody/db";
import { attemptKeysTable } from "./attempt-keys.js";
import { outcomesEntry } from "@custody/ledger";
import { entriesInsertSql, entryColumns, entryRows, type EntryColumn } from "@custody/ledger-store";
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
  const entries = [{ tenantId: null, document: outcomesEntry({ batchRoot: toHex(batch.root), size: records.length }) }];
  const appended = entryRows(entries);
  const updates = outcomes.map((o) => o.update);
  await writeOutcomes(db, {
    entry: entryColumns(entries, appended),
    batch: { size: records.length, root: Buffer.from(batch.root), leaves: Buffer.from(packLeafHashes(batch.leafHashes)), entryId: appended[0]!.id },
    outcome: {
      deliveryId: outcomes.map((o) => o.deliveryId),
      attemptNo: outcomes.map((o) => o.attemptNo),
      tenantId: outcomes.map((o) => o.tenantId),
      batchIndex: outcomes.map((_, i) => i),
      startedAt: outcomes.map((o) => o.startedAt),
      durationMs: outcomes.map((o) => o.durationMs),
      statusCode: outcomes.map((o) => o.statusCode),
      errorClass: outcomes.map((o) => o.errorClass),
      responseSha256: outcomes.map((o) => o.responseSha256),
      responseExcerpt: outcomes.map((o) => o.responseExcerpt),
      outcome: outcomes.map((o) => o.outcome),
    },
    next: {
      status: updates.map((x) => x.status),
      nextAttemptAt: updates.map((x) => x.next_attempt_at),
      lastDelayMs: updates.map((x) => x.last_delay_ms),
      lastStatusCode: updates.map((x) => x.last_status_code),
      lastError: updates.map((x) => x.last_error),
      deadReason: updates.map((x) => x.dead_reason),
      deliveredAt: updates.map((x) => x.delivered_at),
    },
    count: outcomes.length,
  });
}

/** The columns of attempt_outcomes rows, and of each delivery's next state, each with its array parameter's type. */
const OUTCOME_COLUMNS = {
  deliveryId: "text",
  attemptNo: "int4",
  tenantId: "text",
  batchIndex: "int4",
  startedAt: "timestamptz",
  durationMs: "int4",
  statusCode: "int4",
  errorClass: "text",
  responseSha256: "text",
  responseExcerpt: "text",
  outcome: "text",
} as const satisfies Record<string, ArrayElementType>;
const NEXT_COLUMNS = {
  status: "text",
  nextAttemptAt: "timestamptz",
  lastDelayMs: "int8",
  lastStatusCode: "int4",
  lastError: "text",
  deadReason: "text",
  deliveredAt: "timestamptz",
} as const satisfies Record<string, ArrayElementType>;
type OutcomeColumn = keyof typeof OUTCOME_COLUMNS;
type NextColumn = keyof typeof NEXT_COLUMNS;

/** recordOutcomes' one statement: its text never changes (fixedAtomicWrite). */
const writeOutcomes = fixedAtomicWrite<{
  entry: Record<EntryColumn, unknown[]>;
  batch: Record<"size" | "root" | "leaves" | "entryId", unknown>;
  outcome: Record<OutcomeColumn, unknown[]>;
  next: Record<NextColumn, unknown[]>;
  count: number;
}>((slot) => {
  const o = (c: OutcomeColumn) => slot.array("outcome", c, OUTCOME_COLUMNS[c]);
  const n = (c: NextColumn) => slot.array("next", c, NEXT_COLUMNS[c]);
  const b = (v: "size" | "root" | "leaves" | "entryId") => slot.value("batch", v);
  return [
    { name: "outcome_entry", sql: entriesInsertSql((c, type) => slot.array("entry", c, type)) },
    {
      name: "outcome_batch",
      sql: sql`
        INSERT INTO outcome_batches (size, root, leaves, entry_id)
        VALUES (${b("size")}, ${b("root")}, ${b("leaves")}, ${b("entryId")})
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
          ${o("deliveryId")}, ${o("attemptNo")}, ${o("tenantId")}, ${o("batchIndex")}, ${o("startedAt")}, ${o("durationMs")},
          ${o("statusCode")}, ${o("errorClass")}, ${o("responseSha256")}, ${o("responseExcerpt")}, ${o("outcome")}
        ) AS u(delivery_id, attempt_no, tenant_id, batch_index, started_at, duration_ms, status_code, error_class, response_sha256, response_excerpt, outcome)
        ON CONFLICT (delivery_id, attempt_no) DO NOTHING
        RETURNING 1`,
      expect: { rows: slot.value("count"), what: "attempt outcomes" },
    },
    {
      name: "moved",
      sql: sql`
        UPDATE deliveries d SET
          status = u.status, next_attempt_at = u.next_attempt_at, last_delay_ms = u.last_delay_ms,
          last_status_code = u.last_status_code, last_error = u.last_error, dead_reason = u.dead_reason,
          delivered_at = u.delivered_at, updated_at = now()
        FROM unnest(
          ${o("deliveryId")}, ${o("attemptNo")}, ${n("status")}, ${n("nextAttemptAt")}, ${n("lastDelayMs")},
          ${n("lastStatusCode")}, ${n("lastError")}, ${n("deadReason")}, ${n("deliveredAt")}
        ) AS u(id, attempt_no, status, next_attempt_at, last_delay_ms, last_status_code, last_error, dead_reason, delivered_at)
        WHERE d.id = u.id AND d.status = 'delivering' AND d.attempts = u.attempt_no`,
    },
  ];
});

/** Which of these attempts have an outcome recorded, by outcomeKey. */
export async function recordedAmong(db: Kysely<Database>, attempts: ReadonlyArray<{ deliveryId: string; attemptNo: number }>): Promise<Set<string>> {
  if (attempts.length === 0) return new Set();
  const { rows } = await sql<{ delivery_id: string; attempt_no: number }>`
    SELECT o.delivery_id, o.attempt_no
    FROM ${attemptKeysTable(attempts)}
    JOIN attempt_outcomes o USING (delivery_id, attempt_no)`.execute(db);
  return new Set(rows.map((r) => outcomeKey(r.delivery_id, r.attempt_no)));
}

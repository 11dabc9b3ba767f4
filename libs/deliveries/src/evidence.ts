import { batchFromLeafHashes, encodeOutcomeRecord, unpackLeafHashes, type AttemptOutcome } from "@custody/custody";
import { sql, type Database, type Kysely } from "@custody/db";
import { leafHash } from "@custody/merkle";
import { toHex } from "@custody/encoding";
import { attemptKeysTable } from "./attempt-keys.js";
import { outcomeKey } from "./outcomes.js";
import { loadSeals, type LoadedSeal } from "./sealed.js";

/** Every sealed attempt (format 2) of these deliveries, attempt 1 first. */
export async function sealsOf(db: Kysely<Database>, deliveryIds: readonly string[]): Promise<LoadedSeal[]> {
  if (deliveryIds.length === 0) return [];
  const keys = await db
    .selectFrom("attempt_seals")
    .select(["delivery_id", "attempt_no"])
    .where("delivery_id", "=", sql<string>`ANY(${sql.val([...deliveryIds])}::text[])`)
    .execute();
  return loadSeals(
    db,
    keys.map((k) => ({ deliveryId: k.delivery_id, attemptNo: k.attempt_no })),
  );
}

/** An attempt's outcome record as logged, with its place in its batch. */
export interface LoadedOutcome {
  record: Uint8Array;
  outcome: AttemptOutcome;
  index: number;
  path: string[];
  /** The batch's `outcomes` ledger entry. */
  entryId: string;
}

/**
 * The outcome records of these sealed attempts, rebuilt from their rows and checked against the leaf
 * hashes their batch logged (a mismatch is corruption, not a missing outcome: it throws). By outcomeKey.
 */
export async function outcomesOf(db: Kysely<Database>, seals: readonly LoadedSeal[]): Promise<Map<string, LoadedOutcome>> {
  if (seals.length === 0) return new Map();
  const { rows } = await sql<{
    delivery_id: string;
    attempt_no: number;
    tenant_id: string;
    batch_index: number;
    started_at: Date;
    duration_ms: number;
    status_code: number | null;
    error_class: string | null;
    response_sha256: Buffer | null;
    outcome: AttemptOutcome;
    leaves: Buffer;
    entry_id: string;
  }>`
    SELECT o.delivery_id, o.attempt_no, o.tenant_id, o.batch_index, o.started_at, o.duration_ms, o.status_code, o.error_class,
           o.response_sha256, o.outcome, b.leaves, b.entry_id
    FROM ${attemptKeysTable(seals)}
    JOIN attempt_outcomes o ON o.delivery_id = k.delivery_id AND o.attempt_no = k.attempt_no
    JOIN outcome_batches b ON b.id = o.batch_id`.execute(db);
  const rootOf = new Map(seals.map((s) => [outcomeKey(s.deliveryId, s.attemptNo), s.root]));
  const out = new Map<string, LoadedOutcome>();
  for (const r of rows) {
    const key = outcomeKey(r.delivery_id, r.attempt_no);
    const record = encodeOutcomeRecord({
      tenant: r.tenant_id,
      delivery: r.delivery_id,
      attempt: r.attempt_no,
      root: rootOf.get(key)!,
      outcome: r.outcome,
      status: r.status_code,
      error: r.error_class,
      startedAt: r.started_at.toISOString(),
      durationMs: r.duration_ms,
      responseSha256: r.response_sha256 === null ? null : toHex(r.response_sha256),
    });
    const batch = batchFromLeafHashes(unpackLeafHashes(r.leaves));
    if (toHex(leafHash(record)) !== toHex(batch.leafHashes[r.batch_index]!)) {
      throw new Error(`the outcome of ${r.delivery_id} attempt ${r.attempt_no} does not match the leaf its batch logged`);
    }
    out.set(key, { record, outcome: r.outcome, index: r.batch_index, path: batch.pathOf(r.batch_index).map(toHex), entryId: r.entry_id });
  }
  return out;
}

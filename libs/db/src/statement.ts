import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "./tables.js";

/** One data-modifying part of a statement, named so later parts can read what it returned. */
export interface WritePart {
  name: string;
  sql: RawBuilder<unknown>;
  /** The rows its RETURNING must yield; any other count undoes the whole statement. */
  expect?: { rows: number; what: string };
}

/**
 * A part of the statement produced other rows than the caller expected — a row another process made
 * meanwhile (ON CONFLICT DO NOTHING skipped it). Nothing of the statement was written.
 */
export class WriteConflict extends Error {
  override readonly name = "WriteConflict";
}

/**
 * Runs the parts as one statement (`WITH a AS (…), b AS (…) SELECT …`), in one round trip, atomic
 * even outside a transaction: each expected count is checked by custody_expect (migration 0006),
 * which raises — undoing every part — when a count differs. A batch and its ledger entry are thus
 * stored together or not at all without a BEGIN/COMMIT of their own.
 */
export async function writeAtomically(db: Kysely<Database>, parts: readonly WritePart[]): Promise<void> {
  if (parts.length === 0) return;
  const ctes = sql.join(parts.map((p) => sql`${sql.ref(p.name)} AS (${p.sql})`));
  const checks = parts.filter((p) => p.expect !== undefined);
  const select = checks.length === 0 ? sql`1` : sql.join(checks.map((p) => sql`custody_expect((SELECT count(*) FROM ${sql.ref(p.name)}), ${p.expect!.rows}, ${p.expect!.what})`));
  try {
    await sql`WITH ${ctes} SELECT ${select}`.execute(db);
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "40001" && err.message.startsWith("CUSTODY_CONFLICT")) {
      throw new WriteConflict(err.message.slice("CUSTODY_CONFLICT: ".length), { cause: err });
    }
    throw err;
  }
}

import { sql, type Db } from "@custody/db";
import { AppError } from "@custody/errors";

export interface CheckpointRow {
  treeSize: number;
  note: string;
}

/** The newest checkpoint: every proof this service hands out is under one the client can fetch. */
export async function latestCheckpoint(db: Db): Promise<CheckpointRow> {
  const row = await db.selectFrom("ledger_head as h").innerJoin("ledger_checkpoints as c", "c.tree_size", "h.checkpoint_size").select(["c.tree_size", "c.note"]).executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", "no checkpoint has been signed yet; the sequencer signs the first one shortly after the first entry");
  return { treeSize: Number(row.tree_size), note: row.note };
}

export interface EntryRow {
  id: string;
  kind: string;
  tenantId: string | null;
  body: Uint8Array;
  leafHash: Uint8Array;
}

/** The entry at a leaf index; with `tenantId`, another tenant's entry is as absent as a missing one. */
export async function entryAt(db: Db, leafIndex: number, tenantId?: string): Promise<EntryRow> {
  const row = await db
    .selectFrom("ledger_leaves as l")
    .innerJoin("ledger_entries as e", "e.id", "l.entry_id")
    .select(["e.id", "e.kind", "e.tenant_id", "e.body", "e.leaf_hash"])
    .where("l.leaf_index", "=", String(leafIndex))
    .executeTakeFirst();
  if (!row || (tenantId !== undefined && row.tenant_id !== tenantId)) throw new AppError("NOT_FOUND", `no ledger entry at leaf index ${leafIndex}`);
  return { id: row.id, kind: row.kind, tenantId: row.tenant_id, body: new Uint8Array(row.body), leafHash: new Uint8Array(row.leaf_hash) };
}

export async function leafIndexOfHash(db: Db, leafHash: Uint8Array): Promise<number> {
  const row = await sql<{ leaf_index: string }>`
    SELECT l.leaf_index FROM ledger_entries e JOIN ledger_leaves l ON l.entry_id = e.id
    WHERE e.leaf_hash = ${Buffer.from(leafHash)} ORDER BY l.leaf_index LIMIT 1`.execute(db);
  if (!row.rows[0]) throw new AppError("NOT_FOUND", "no sequenced ledger entry has that leaf hash");
  return Number(row.rows[0].leaf_index);
}

import { columnsOf, sql, writeAtomically, WriteConflict, type Database, type Kysely } from "@custody/db";
import { appendLeaves, type StoredNode } from "@custody/merkle";
import type { CommitPosition } from "./commit-order.js";

/**
 * Every write to the ledger's tree tables (ledger_leaves, ledger_tree_nodes, ledger_head,
 * ledger_checkpoints, and the pre-0006 ledger_pending queue): the sequencer calls these on the
 * connection that holds its leader lock. Each write is one statement, with the head's move a
 * compare-and-swap inside it, so a writer that no longer leads commits nothing — and a batch costs
 * its read and this one round trip, not a transaction's six.
 */

/** Thrown when ledger_head is not where the writer last saw it: another sequencer moved it. */
export class LedgerHeadMoved extends Error {
  override readonly name = "LedgerHeadMoved";
}

/** The tree as its writer holds it between batches. */
export interface TreeTip {
  size: number;
  frontier: readonly StoredNode[];
}

export interface ExtendedTree {
  size: number;
  root: Uint8Array;
  frontier: readonly StoredNode[];
}

/** Appends `leafHashes` (of `entryIds`) at `tip.size`: their leaves, every perfect node they complete, and the head, in one statement. */
export async function extendTree(db: Kysely<Database>, tip: TreeTip, entryIds: readonly string[], leafHashes: readonly Uint8Array[]): Promise<ExtendedTree> {
  const appended = appendLeaves(tip.frontier, tip.size, leafHashes);
  const leaf = columnsOf(entryIds);
  const node = columnsOf(appended.newNodes);
  await movingHead(db, `ledger_head moved away from size ${tip.size}`, [
    {
      name: "head",
      sql: sql`UPDATE ledger_head SET tree_size = ${appended.size}, root_hash = ${Buffer.from(appended.root)}, updated_at = now()
               WHERE tree_size = ${String(tip.size)} RETURNING 1`,
      expect: { rows: 1, what: "ledger_head at the size the sequencer last wrote" },
    },
    {
      name: "leaves",
      sql: sql`INSERT INTO ledger_leaves (leaf_index, entry_id)
               SELECT * FROM unnest(${leaf("int8", (_, i) => tip.size + i)}, ${leaf("text", (id) => id)})`,
    },
    {
      name: "nodes",
      sql: sql`INSERT INTO ledger_tree_nodes (level, idx, hash)
               SELECT * FROM unnest(${node("int2", (n) => n.level)}, ${node("int8", (n) => n.index)}, ${node("bytea", (n) => n.hash)})`,
    },
  ]);
  return { size: appended.size, root: appended.root, frontier: appended.frontier };
}

/** writeAtomically, with a head that moved (its compare-and-swap found no row) as LedgerHeadMoved. */
async function movingHead(db: Kysely<Database>, moved: string, parts: Parameters<typeof writeAtomically>[1]): Promise<void> {
  try {
    await writeAtomically(db, parts);
  } catch (err) {
    throw err instanceof WriteConflict ? new LedgerHeadMoved(moved, { cause: err }) : err;
  }
}

export interface CheckpointToStore {
  size: number;
  root: Uint8Array;
  note: string;
  /** Hex key id of the platform key that signed it. */
  keyId: string;
  /** The checkpoint size the writer last saw in ledger_head. */
  previousSize: number;
}

/** Stores a signed checkpoint and moves ledger_head.checkpoint_size to it (one already stored at that size stays), in one statement. */
export async function storeCheckpoint(db: Kysely<Database>, c: CheckpointToStore): Promise<void> {
  await movingHead(db, `ledger_head checkpoint moved away from ${c.previousSize}`, [
    {
      name: "stored",
      sql: sql`INSERT INTO ledger_checkpoints (tree_size, root_hash, note, key_id) VALUES (${c.size}, ${Buffer.from(c.root)}, ${c.note}, ${c.keyId})
               ON CONFLICT (tree_size) DO NOTHING`,
    },
    {
      name: "head",
      sql: sql`UPDATE ledger_head SET checkpoint_size = ${c.size}, updated_at = now()
               WHERE checkpoint_size = ${String(c.previousSize)} AND tree_size >= ${String(c.size)} RETURNING 1`,
      expect: { rows: 1, what: "ledger_head at the checkpoint the sequencer last stored" },
    },
  ]);
}

/** Past every entry appended before migration 0006 (xid 0): those were sequenced from ledger_pending. */
export const AFTER_LEGACY: CommitPosition = { xid: "0", seq: "9223372036854775807" };

/**
 * Where the sequencer follows the commit-safe order from: the position of the last sequenced entry
 * that was read in that order, or AFTER_LEGACY when none was (entries sequenced from the pre-0006
 * queue have xid 0 and no place in it). The audit reads it the same way.
 */
export async function sequencedPosition(db: Kysely<Database>): Promise<CommitPosition> {
  const { rows } = await sql<{ xid: string; seq: string }>`
    SELECT e.xid::text AS xid, e.seq::text AS seq FROM ledger_leaves l JOIN ledger_entries e ON e.id = l.entry_id
    WHERE e.xid > '0'::xid8 ORDER BY l.leaf_index DESC LIMIT 1`.execute(db);
  return rows[0] ?? AFTER_LEGACY;
}

/** Up to `limit` entries still queued in the pre-0006 ledger_pending, in queue order. */
export async function legacyQueued(trx: Kysely<Database>, limit: number): Promise<Array<{ seq: string; entryId: string; leafHash: Uint8Array }>> {
  const { rows } = await sql<{ seq: string; entry_id: string; leaf_hash: Buffer }>`
    SELECT p.seq, p.entry_id, e.leaf_hash FROM ledger_pending p JOIN ledger_entries e ON e.id = p.entry_id
    ORDER BY p.seq LIMIT ${limit}`.execute(trx);
  return rows.map((r) => ({ seq: r.seq, entryId: r.entry_id, leafHash: new Uint8Array(r.leaf_hash) }));
}

/** Takes sequenced entries off the pre-0006 queue. */
export async function dequeueLegacy(trx: Kysely<Database>, seqs: readonly string[]): Promise<void> {
  await sql`DELETE FROM ledger_pending WHERE seq = ANY(${sql.val([...seqs])}::bigint[])`.execute(trx);
}

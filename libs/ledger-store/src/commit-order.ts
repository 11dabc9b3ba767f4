import { sql, type Database, type EntryKind, type Kysely } from "@custody/db";

/**
 * A position in the ledger's commit-safe order: entries sorted by (xid, seq), where `xid` is the id
 * of the transaction that appended the entry and `seq` its insertion number.
 *
 * Why this order can be followed with a cursor: an entry becomes readable only once its transaction
 * commits, and transactions commit in any order, so "everything after the last seq I read" would
 * skip an entry whose transaction took a smaller seq and committed later. Instead a reader takes only
 * entries whose transaction is older than every transaction that was still running when its
 * snapshot was taken and could have written here: no transaction that could still commit an entry
 * has such an xid, so that set is final, and once the cursor passes a position nothing can appear
 * behind it. The price is that one long-running writing transaction in this database holds readers
 * back until it ends.
 *
 * "Could have written here": transaction ids are cluster-wide, so the snapshot's in-progress list
 * also holds other databases' transactions, which can never write these tables. An xid that
 * pg_stat_activity (or pg_prepared_xacts) shows running in another database — read after the
 * snapshot, so it is the very transaction the snapshot saw: a session never changes database — is
 * left out; every other in-progress xid counts, including one whose session is no longer visible or
 * whose role may not see it (then the reader is merely cautious).
 *
 * Entries appended before migration 0006 all have xid 0 and keep their seq order.
 */
export interface CommitPosition {
  /** xid8, as decimal text */
  xid: string;
  /** bigint, as decimal text */
  seq: string;
}

export const ORIGIN_POSITION: CommitPosition = { xid: "0", seq: "0" };

export interface OrderedEntry extends CommitPosition {
  id: string;
  kind: EntryKind;
  leafHash: Buffer;
}

export interface EntriesAfter {
  /** Entries after the position, in order, all final. */
  entries: OrderedEntry[];
  /**
   * True when an entry after these is committed but not yet final (an older transaction is still
   * running): read again shortly rather than waiting for the next notification.
   */
  heldBack: boolean;
}

/** Up to `limit` entries after `after`, in commit-safe order. One statement: one snapshot. */
export async function entriesAfter(db: Kysely<Database>, after: CommitPosition, limit: number): Promise<EntriesAfter> {
  const { rows } = await sql<{ xid: string; seq: string; id: string; kind: EntryKind; leaf_hash: Buffer; final: boolean }>`
    WITH horizon AS (
      SELECT coalesce(min(running), pg_snapshot_xmax(pg_current_snapshot())) AS xid
      FROM pg_snapshot_xip(pg_current_snapshot()) AS running
      WHERE xid(running) NOT IN (
        SELECT backend_xid FROM pg_stat_activity WHERE datname <> current_database() AND backend_xid IS NOT NULL
        UNION ALL
        SELECT transaction FROM pg_prepared_xacts WHERE database <> current_database()))
    SELECT e.xid::text AS xid, e.seq, e.id, e.kind, e.leaf_hash, e.xid < horizon.xid AS final
    FROM ledger_entries e, horizon
    WHERE (e.xid, e.seq) > (${after.xid}::xid8, ${after.seq}::bigint)
    ORDER BY e.xid, e.seq
    LIMIT ${limit}`.execute(db);
  // Non-final rows sort after every final one (their xids are >= xmin), so the final ones are a prefix.
  const firstOpen = rows.findIndex((r) => !r.final);
  const ready = firstOpen < 0 ? rows : rows.slice(0, firstOpen);
  return {
    entries: ready.map((r) => ({ xid: r.xid, seq: String(r.seq), id: r.id, kind: r.kind, leafHash: r.leaf_hash })),
    heldBack: firstOpen >= 0,
  };
}

/** Compares two positions in commit-safe order. */
export function comparePositions(a: CommitPosition, b: CommitPosition): number {
  const x = BigInt(a.xid) - BigInt(b.xid);
  if (x !== 0n) return x < 0n ? -1 : 1;
  const s = BigInt(a.seq) - BigInt(b.seq);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/**
 * Thrown when the ledger holds entries with transaction ids the cluster has not reached: the
 * database was restored (pg_dump / pg_restore) into another Postgres cluster whose transaction
 * counter is behind the one that wrote it. New entries would then take smaller xids than entries
 * already sequenced, sort before the readers' positions in the commit-safe order, and never be
 * relayed or given a leaf. docs/operations.md says how to advance the counter (pg_resetwal).
 */
export class XidCounterBehind extends Error {
  override readonly name = "XidCounterBehind";
  constructor(
    readonly ledgerXid: string,
    readonly nextXid: string,
  ) {
    super(
      `the ledger holds entries of transaction ${ledgerXid} but this Postgres cluster's next transaction id is ${nextXid}: ` +
        "the database was restored into another cluster; advance its transaction counter past the ledger's (docs/operations.md, restore) before writing",
    );
  }
}

/** Throws XidCounterBehind when the newest entry's xid is not below the cluster's next xid (see there). */
export async function assertXidCounterAhead(db: Kysely<Database>): Promise<void> {
  // pg_snapshot_xmax is the next xid to be assigned, read without taking one.
  const { rows } = await sql<{ ledger: string | null; next: string; behind: boolean }>`
    SELECT max(xid)::text AS ledger, pg_snapshot_xmax(pg_current_snapshot())::text AS next,
           coalesce(max(xid) >= pg_snapshot_xmax(pg_current_snapshot()), false) AS behind
    FROM ledger_entries`.execute(db);
  const r = rows[0]!;
  if (r.behind) throw new XidCounterBehind(r.ledger!, r.next);
}

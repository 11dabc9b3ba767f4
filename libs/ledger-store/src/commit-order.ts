import { sql, type Database, type EntryKind, type Kysely, type RawBuilder } from "@custody/db";

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
 * pg_stat_activity (or pg_prepared_xacts) shows running in another database, or in a process of no
 * database — read after the snapshot, so it is the very transaction the snapshot saw: a session
 * never changes database — is left out; every other in-progress xid counts, including one whose
 * session is no longer visible or whose role may not see it (then the reader is merely cautious).
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

/** A row of `commitOrderRows`: an entry after the position, and whether its place is final. */
export interface CommitOrderRow {
  xid: string;
  seq: string;
  id: string;
  kind: EntryKind;
  leaf_hash: Buffer;
  final: boolean;
}

/**
 * The statement behind `entriesAfter`: up to `limit` entries after `after` in commit-safe order,
 * each with whether it is final. A reader that needs more about each entry wraps it in its own
 * statement (`WITH ordered AS (…) SELECT … JOIN …`), so everything it reads shares one snapshot, and
 * passes the rows, in this order, to `finalPrefix`.
 */
export function commitOrderRows(after: CommitPosition, limit: number): RawBuilder<CommitOrderRow> {
  // Other databases' transactions are read from the functions behind pg_stat_activity and
  // pg_prepared_xacts: planning those views (rewrite, joins) cost ~0.4 ms a statement, most of a
  // relay round at low load. And they are read only when a row is at or past the plain horizon (the
  // oldest in-progress xid of the whole cluster): rows below it are final whatever runs elsewhere.
  // The refined horizon is an uncorrelated scalar subquery, an InitPlan that Postgres runs only if
  // the CASE reaches it, in the statement's snapshot.
  return sql<CommitOrderRow>`
    WITH page AS (
      SELECT e.xid, e.seq, e.id, e.kind, e.leaf_hash
      FROM ledger_entries e
      WHERE (e.xid, e.seq) > (${after.xid}::xid8, ${after.seq}::bigint)
      ORDER BY e.xid, e.seq
      LIMIT ${limit}),
    plain AS (
      SELECT coalesce(min(running), pg_snapshot_xmax(pg_current_snapshot())) AS xid
      FROM pg_snapshot_xip(pg_current_snapshot()) AS running),
    horizon AS (
      SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM page, plain WHERE page.xid >= plain.xid) THEN plain.xid
        ELSE (
          SELECT coalesce(min(running), pg_snapshot_xmax(pg_current_snapshot()))
          FROM pg_snapshot_xip(pg_current_snapshot()) AS running
          WHERE xid(running) NOT IN (
            SELECT a.backend_xid FROM pg_stat_get_activity(NULL) a WHERE a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()) AND a.backend_xid IS NOT NULL
            UNION ALL
            SELECT p.transaction FROM pg_prepared_xact() p WHERE p.dbid <> (SELECT oid FROM pg_database WHERE datname = current_database())))
        END AS xid
      FROM plain)
    SELECT p.xid::text AS xid, p.seq, p.id, p.kind, p.leaf_hash, p.xid < horizon.xid AS final
    FROM page p, horizon
    ORDER BY p.xid, p.seq`;
}

/** The final rows of a commit-order read (in its order), and whether a committed row after them is held back. */
export function finalPrefix<R extends { final: boolean }>(rows: readonly R[]): { ready: readonly R[]; heldBack: boolean } {
  // Non-final rows sort after every final one (their xids are >= xmin), so the final ones are a prefix.
  const firstOpen = rows.findIndex((r) => !r.final);
  return { ready: firstOpen < 0 ? rows : rows.slice(0, firstOpen), heldBack: firstOpen >= 0 };
}

/** The position of a commit-order row. */
export const positionOf = (r: { xid: string; seq: string }): CommitPosition => ({ xid: r.xid, seq: String(r.seq) });

/** Up to `limit` entries after `after`, in commit-safe order. One statement: one snapshot. */
export async function entriesAfter(db: Kysely<Database>, after: CommitPosition, limit: number): Promise<EntriesAfter> {
  const { rows } = await commitOrderRows(after, limit).execute(db);
  const { ready, heldBack } = finalPrefix(rows);
  const entries = ready.map((r) => {
    const { xid, seq } = positionOf(r);
    return { xid, seq, id: r.id, kind: r.kind, leafHash: r.leaf_hash };
  });
  return { entries, heldBack };
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

import { sql, type Db } from "@custody/db";
import { AppError } from "@custody/errors";
import type { ProofsContext } from "./context.js";
import { leafIndexOfHash, type CheckpointRow } from "./ledger-reads.js";

/** Seconds a client is asked to wait when the replica has not replayed what it asked for yet. */
export const REPLICA_RETRY_AFTER_SECONDS = 1;

export interface LedgerHead {
  treeSize: number;
  checkpointSize: number;
  /** The newest signed checkpoint, absent before the first one. */
  checkpoint: CheckpointRow | undefined;
}

async function readHead(db: Db): Promise<LedgerHead> {
  const { rows } = await sql<{ tree_size: string; checkpoint_size: string; note: string | null }>`
    SELECT h.tree_size, h.checkpoint_size, c.note
    FROM ledger_head h LEFT JOIN ledger_checkpoints c ON c.tree_size = h.checkpoint_size`.execute(db);
  const row = rows[0];
  if (!row) return { treeSize: 0, checkpointSize: 0, checkpoint: undefined };
  const checkpointSize = Number(row.checkpoint_size);
  return { treeSize: Number(row.tree_size), checkpointSize, checkpoint: row.note === null ? undefined : { treeSize: checkpointSize, note: row.note } };
}

function noCheckpoint(): AppError {
  return new AppError("NOT_FOUND", "no checkpoint has been signed yet; the sequencer signs the first one shortly after the first entry");
}

/**
 * What one proof answer reads, and the head it was read at. On a replica, a request for something
 * past that head is checked against the primary's head: what the primary has is REPLICA_BEHIND
 * (503, retry), what it lacks too gets the answer the primary alone would give. So lag delays an
 * answer but never changes it.
 */
export class LedgerSnapshot {
  private constructor(
    readonly db: Db,
    readonly head: LedgerHead,
    /** Set only when `db` is a replica: where to ask whether the replica is merely behind. */
    private readonly primary: Db | undefined,
  ) {}

  /**
   * Runs `read` on the read replica in one REPEATABLE READ, READ ONLY transaction, so every
   * statement of an answer sees the same replayed state (later statements of a plain session could
   * see more of the tree than the head read first). Without a replica it reads the primary
   * directly: the ledger tables are append-only and the head only grows, so reading the head first
   * already bounds everything after it, and a transaction would only add round trips.
   */
  static async read<T>(ctx: ProofsContext, read: (snapshot: LedgerSnapshot) => Promise<T>): Promise<T> {
    const replica = ctx.readDb;
    if (replica === undefined) return read(new LedgerSnapshot(ctx.db, await readHead(ctx.db), undefined));
    try {
      return await replica
        .transaction()
        .setIsolationLevel("repeatable read")
        .setAccessMode("read only")
        .execute(async (trx) => read(new LedgerSnapshot(trx, await readHead(trx), ctx.db)));
    } catch (err) {
      // A read-only transaction on a standby fails with 40001 only when the standby cancelled it to
      // replay WAL that conflicts with its snapshot (max_standby_streaming_delay): transient, like lag.
      if ((err as { code?: unknown }).code !== "40001") throw err;
      throw new AppError("REPLICA_BEHIND", `the read replica cancelled this read to replay the primary's changes; retry in ${REPLICA_RETRY_AFTER_SECONDS} s`, {
        cause: err,
        headers: { "retry-after": String(REPLICA_RETRY_AFTER_SECONDS) },
      });
    }
  }

  private behind(what: string): AppError {
    return new AppError("REPLICA_BEHIND", `the read replica has not replayed ${what} yet (it is at tree size ${this.head.treeSize}, checkpoint ${this.head.checkpointSize}); retry in ${REPLICA_RETRY_AFTER_SECONDS} s`, {
      details: { replicaTreeSize: this.head.treeSize, replicaCheckpointSize: this.head.checkpointSize },
      headers: { "retry-after": String(REPLICA_RETRY_AFTER_SECONDS) },
    });
  }

  /** Makes sure the tree of `size` leaves is in this snapshot; `beyond` is the answer when no database has it. */
  async requireTree(size: number, beyond: (committed: number) => AppError): Promise<void> {
    if (size <= this.head.treeSize) return;
    if (this.primary === undefined) throw beyond(this.head.treeSize);
    const primary = await readHead(this.primary);
    if (size <= primary.treeSize) throw this.behind(`tree size ${size}`);
    throw beyond(primary.treeSize);
  }

  /** The newest checkpoint in this snapshot. */
  async latestCheckpoint(): Promise<CheckpointRow> {
    if (this.head.checkpoint !== undefined) return this.head.checkpoint;
    if (this.primary !== undefined && (await readHead(this.primary)).checkpoint !== undefined) throw this.behind("the first checkpoint");
    throw noCheckpoint();
  }

  /**
   * The newest checkpoint of this snapshot, which must cover `leafIndex`; `uncovered` is the answer
   * when no database has a checkpoint covering it yet.
   */
  async checkpointCovering(leafIndex: number, uncovered: (cp: CheckpointRow) => AppError): Promise<CheckpointRow> {
    const cp = await this.latestCheckpoint();
    if (leafIndex < cp.treeSize) return cp;
    if (this.primary !== undefined && leafIndex < (await readHead(this.primary)).checkpointSize) throw this.behind(`a checkpoint covering leaf ${leafIndex}`);
    throw uncovered(cp);
  }

  /** The leaf index of a sequenced entry with this leaf hash. */
  async leafIndexOfHash(leafHash: Uint8Array): Promise<number> {
    try {
      return await leafIndexOfHash(this.db, leafHash);
    } catch (err) {
      if (this.primary === undefined || !(err instanceof AppError) || err.code !== "NOT_FOUND") throw err;
      // Not replayed yet, or not sequenced at all: only the primary can tell which.
      await leafIndexOfHash(this.primary, leafHash);
      throw this.behind("the leaf with that hash");
    }
  }
}

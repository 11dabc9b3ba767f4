import pg from "pg";
import { sql, type Database, type Kysely } from "@custody/db";
import { loadFrontier } from "@custody/ledger-store";
import type { Logger } from "@custody/log";
import { appendLeaves, hashFromDecomposition, type StoredNode } from "@custody/merkle";
import { formatCheckpoint, signNote, type Signer } from "@custody/note";
import { kyselyOnClient } from "./single-connection.js";

export interface SequencerOptions {
  databaseUrl: string;
  logger: Logger;
  /** The platform key that signs checkpoints; its name is the log origin. */
  signer: () => Promise<Signer>;
  batchSize: number;
  pollMs: number;
  checkpointIntervalMs: number;
  lockRetryMs: number;
}

// The one advisory lock that makes a sequencer the leader. Any constant works if every replica uses it.
const LEADER_LOCK = "7234567890123456789";

/** Thrown when a compare-and-swap on ledger_head finds another writer moved it: leadership is gone. */
class LostLeadership extends Error {}

interface TreeState {
  size: number;
  root: Uint8Array;
  frontier: StoredNode[];
  checkpointSize: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Gives ledger entries dense, gapless leaf indexes, extends the stored Merkle tree and signs
 * checkpoints. Exactly one instance leads (a Postgres session advisory lock); the others wait and
 * take over within `lockRetryMs` of the leader's connection closing.
 *
 * Commit protocol, and why a crash anywhere is safe:
 * 1. One transaction takes a batch of pending entries, writes their leaves and every perfect tree
 *    node they complete, removes them from the queue, and moves ledger_head from (n, root_n) to
 *    (n+k, root_n+k) with `WHERE tree_size = n`. A crash before COMMIT leaves nothing; after it,
 *    everything. The CAS means a deposed leader that still holds a transaction cannot commit.
 * 2. Separately, when the tree grew, it signs a checkpoint of the committed head and, in one
 *    transaction, stores it and moves ledger_head.checkpoint_size with `WHERE checkpoint_size = old`.
 *    A crash before that COMMIT just means the next leader signs the same head again. Every signed
 *    root is the root of a prefix of one append-only tree, so any two checkpoints are linked by a
 *    consistency proof.
 * On taking the lead, the sequencer recomputes the head's root from the stored frontier and refuses
 * to extend a tree whose stored nodes disagree with its head.
 */
export class Sequencer {
  private stopping = false;
  private client: pg.Client | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: SequencerOptions) {}

  async run(): Promise<void> {
    const { logger } = this.options;
    while (!this.stopping) {
      const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: "custody-sequencer" });
      this.client = client;
      client.on("error", (err) => logger.warn({ err }, "sequencer connection failed"));
      try {
        await client.connect();
        if (await this.acquire(client)) {
          logger.info("sequencer is the leader");
          await this.lead(kyselyOnClient(client));
        }
      } catch (err) {
        if (!this.stopping) logger.error({ err }, "sequencer lost its connection or leadership; retrying");
      } finally {
        await client.end().catch(() => undefined);
        this.client = undefined;
      }
      if (!this.stopping) await this.pause(this.options.lockRetryMs);
    }
  }

  /** Stops after the current batch; closing the connection releases the lock for a standby. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private async acquire(client: pg.Client): Promise<boolean> {
    while (!this.stopping) {
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [LEADER_LOCK]);
      if (rows[0]?.ok) return true;
      await this.pause(this.options.lockRetryMs);
    }
    return false;
  }

  private async lead(db: Kysely<Database>): Promise<void> {
    const state = await this.loadState(db);
    let lastCheckpointAt = 0;
    while (!this.stopping) {
      const added = await this.sequenceBatch(db, state);
      const now = Date.now();
      if (state.size > state.checkpointSize && now - lastCheckpointAt >= this.options.checkpointIntervalMs) {
        await this.checkpoint(db, state);
        lastCheckpointAt = now;
      }
      // A full batch means more is waiting: go again at once.
      if (added < this.options.batchSize) await this.pause(this.options.pollMs);
    }
  }

  private async loadState(db: Kysely<Database>): Promise<TreeState> {
    const head = await db.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();
    const size = Number(head.tree_size);
    const frontier = await loadFrontier(db, size);
    const root = hashFromDecomposition(frontier.map((n) => n.hash));
    if (!Buffer.from(root).equals(head.root_hash)) {
      throw new Error(`ledger_head root for size ${size} disagrees with the stored tree nodes; run \`custody audit\` before sequencing more`);
    }
    return { size, root, frontier, checkpointSize: Number(head.checkpoint_size) };
  }

  private async sequenceBatch(db: Kysely<Database>, state: TreeState): Promise<number> {
    const result = await db.transaction().execute(async (trx) => {
      const pending = await sql<{ seq: string; entry_id: string; leaf_hash: Buffer }>`
        SELECT p.seq, p.entry_id, e.leaf_hash
        FROM ledger_pending p JOIN ledger_entries e ON e.id = p.entry_id
        ORDER BY p.seq
        LIMIT ${this.options.batchSize}`.execute(trx);
      const rows = pending.rows;
      if (rows.length === 0) return undefined;
      const appended = appendLeaves(state.frontier, state.size, rows.map((r) => new Uint8Array(r.leaf_hash)));
      await sql`
        INSERT INTO ledger_leaves (leaf_index, entry_id)
        SELECT * FROM unnest(${sql.val(rows.map((_, i) => String(state.size + i)))}::bigint[], ${sql.val(rows.map((r) => r.entry_id))}::text[])`.execute(trx);
      await sql`
        INSERT INTO ledger_tree_nodes (level, idx, hash)
        SELECT * FROM unnest(
          ${sql.val(appended.newNodes.map((n) => n.level))}::smallint[],
          ${sql.val(appended.newNodes.map((n) => String(n.index)))}::bigint[],
          ${sql.val(appended.newNodes.map((n) => Buffer.from(n.hash)))}::bytea[])`.execute(trx);
      await sql`DELETE FROM ledger_pending WHERE seq = ANY(${sql.val(rows.map((r) => r.seq))}::bigint[])`.execute(trx);
      const moved = await trx
        .updateTable("ledger_head")
        .set({ tree_size: appended.size, root_hash: Buffer.from(appended.root), updated_at: new Date() })
        .where("tree_size", "=", String(state.size))
        .executeTakeFirst();
      if (moved.numUpdatedRows !== 1n) throw new LostLeadership(`ledger_head moved away from size ${state.size}`);
      return appended;
    });
    if (!result) return 0;
    state.size = result.size;
    state.root = result.root;
    state.frontier = [...result.frontier];
    return result.newNodes.filter((n) => n.level === 0).length;
  }

  private async checkpoint(db: Kysely<Database>, state: TreeState): Promise<void> {
    const signer = await this.options.signer();
    const note = signNote(formatCheckpoint({ origin: signer.name, size: state.size, rootHash: state.root }), [signer]);
    const size = state.size;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("ledger_checkpoints")
        .values({ tree_size: size, root_hash: Buffer.from(state.root), note, key_id: Buffer.from(signer.keyId).toString("hex") })
        .onConflict((oc) => oc.column("tree_size").doNothing())
        .execute();
      const moved = await trx
        .updateTable("ledger_head")
        .set({ checkpoint_size: size, updated_at: new Date() })
        .where("checkpoint_size", "=", String(state.checkpointSize))
        .where("tree_size", ">=", String(size))
        .executeTakeFirst();
      if (moved.numUpdatedRows !== 1n) throw new LostLeadership(`ledger_head checkpoint moved away from ${state.checkpointSize}`);
    });
    state.checkpointSize = size;
    this.options.logger.debug({ size }, "checkpoint signed");
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

import type { Database, Kysely } from "@custody/db";
import {
  AFTER_LEGACY,
  assertXidCounterAhead,
  dequeueLegacy,
  entriesAfter,
  extendTree,
  legacyQueued,
  loadFrontier,
  sequencedPosition,
  storeCheckpoint,
  type CommitPosition,
  type ExtendedTree,
} from "@custody/ledger-store";
import type { Logger } from "@custody/log";
import { hashFromDecomposition, type StoredNode } from "@custody/merkle";
import { formatCheckpoint, signNote, type Signer } from "@custody/note";
import { HeldBackDelay } from "../shared/held-back.js";
import { Leadership } from "../shared/leadership.js";

export interface SequencerOptions {
  databaseUrl: string;
  logger: Logger;
  /** The platform key that signs checkpoints; its name is the log origin. */
  signer: () => Promise<Signer>;
  batchSize: number;
  pollMs: number;
  checkpointIntervalMs: number;
  lockRetryMs: number;
  /** Prepared statements with index plans on the leader's session (CUSTODY_PIPELINE_INDEX_PLANS). */
  indexPlans?: boolean;
}

// The one advisory lock that makes a sequencer the leader. Any constant works if every replica uses it.
const LEADER_LOCK = "7234567890123456789";

interface TreeState {
  size: number;
  root: Uint8Array;
  frontier: StoredNode[];
  checkpointSize: number;
  /** The commit-safe position (ledger-store commit-order.ts) of the last entry given an index. */
  position: CommitPosition;
}

/** How soon to look again when an entry is committed but an older transaction still runs. */
const HELD_BACK_RETRY_MS = 5;

/** The idle poll doubles up to this many times the configured interval (8: 50 ms -> 400 ms). */
const IDLE_POLL_MOST_FACTOR = 8;

/**
 * How long the sequencer waits after a round, when it found less than a batch: the poll interval
 * after a round that sequenced entries, doubling with each round in a row that found none, up to
 * IDLE_POLL_MOST_FACTOR times it. An idle platform then reads the ledger a few times a second, not
 * twenty (the poll was two thirds of an idle pipeline's CPU), while under load, when every round
 * finds entries, it looks as often as before. A checkpoint still owed is never put off beyond its
 * interval.
 */
export function idlePollMs(idleRounds: number, pollMs: number, checkpointDueInMs: number | undefined): number {
  const idle = pollMs * Math.min(2 ** Math.max(idleRounds - 1, 0), IDLE_POLL_MOST_FACTOR);
  return checkpointDueInMs === undefined ? idle : Math.max(0, Math.min(idle, checkpointDueInMs));
}

/**
 * Gives ledger entries dense, gapless leaf indexes, extends the stored Merkle tree and signs
 * checkpoints. Exactly one instance leads (a Postgres session advisory lock); the others wait and
 * take over within `lockRetryMs` of the leader's connection closing.
 *
 * Entries are taken in the ledger's commit-safe order (libs/ledger-store commit-order.ts) from a
 * position that is the last sequenced entry's, so no queue table is needed: the order is final once
 * read, and the position is derived from the tree itself after a crash or a change of leader.
 *
 * Commit protocol, and why a crash anywhere is safe:
 * 1. It reads a batch of entries after the position (the order is final once read, so the read
 *    needs no transaction), then one statement writes their leaves and every perfect tree node they
 *    complete and moves ledger_head from (n, root_n) to (n+k, root_n+k) with `WHERE tree_size = n`,
 *    undone whole when that finds no row. A crash before it commits leaves nothing; after it,
 *    everything. The CAS means a deposed leader cannot write. (Entries from before 0006 go the same
 *    way inside a transaction that also takes them out of ledger_pending.)
 * 2. Separately, when the tree grew, it signs a checkpoint of the committed head and, in one
 *    statement, stores it and moves ledger_head.checkpoint_size with `WHERE checkpoint_size = old`.
 *    A crash before that commits just means the next leader signs the same head again. Every signed
 *    root is the root of a prefix of one append-only tree, so any two checkpoints are linked by a
 *    consistency proof.
 * On taking the lead, the sequencer recomputes the head's root from the stored frontier and refuses
 * to extend a tree whose stored nodes disagree with its head.
 */
export class Sequencer {
  private readonly leadership: Leadership;

  constructor(private readonly options: SequencerOptions) {
    this.leadership = new Leadership({ databaseUrl: options.databaseUrl, role: "sequencer", lock: LEADER_LOCK, lockRetryMs: options.lockRetryMs, logger: options.logger, indexPlans: options.indexPlans === true });
  }

  run(): Promise<void> {
    return this.leadership.run(({ db }) => this.lead(db));
  }

  /** Stops after the current batch; closing the connection releases the lock for a standby. */
  stop(): void {
    this.leadership.stop();
  }

  private async lead(db: Kysely<Database>): Promise<void> {
    await assertXidCounterAhead(db);
    const state = await this.loadState(db);
    while (!this.leadership.stopped && (await this.sequenceLegacyBatch(db, state)) > 0);
    state.position = await sequencedPosition(db);
    let lastCheckpointAt = 0;
    let idleRounds = 0;
    const heldBackDelay = new HeldBackDelay(HELD_BACK_RETRY_MS, this.options.logger);
    while (!this.leadership.stopped) {
      const { added, heldBack } = await this.sequenceBatch(db, state);
      const now = Date.now();
      if (state.size > state.checkpointSize && now - lastCheckpointAt >= this.options.checkpointIntervalMs) {
        await this.checkpoint(db, state);
        lastCheckpointAt = now;
      }
      idleRounds = added > 0 || heldBack ? 0 : idleRounds + 1;
      // A full batch means more is waiting: go again at once.
      if (added < this.options.batchSize) {
        const checkpointDueInMs = state.size > state.checkpointSize ? lastCheckpointAt + this.options.checkpointIntervalMs - Date.now() : undefined;
        await this.leadership.pause(heldBackDelay.after({ heldBack, progressed: added > 0 }, idlePollMs(idleRounds, this.options.pollMs, checkpointDueInMs)));
      }
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
    return { size, root, frontier, checkpointSize: Number(head.checkpoint_size), position: AFTER_LEGACY };
  }

  private commit(state: TreeState, appended: ExtendedTree): void {
    state.size = appended.size;
    state.root = appended.root;
    state.frontier = [...appended.frontier];
  }

  /** One read and one write, no transaction: the write's compare-and-swap on the head is what makes it safe. */
  private async sequenceBatch(db: Kysely<Database>, state: TreeState): Promise<{ added: number; heldBack: boolean }> {
    const { entries, heldBack } = await entriesAfter(db, state.position, this.options.batchSize);
    if (entries.length === 0) return { added: 0, heldBack };
    const appended = await extendTree(
      db,
      state,
      entries.map((e) => e.id),
      entries.map((e) => new Uint8Array(e.leafHash)),
    );
    const added = appended.size - state.size;
    this.commit(state, appended);
    const last = entries[entries.length - 1]!;
    state.position = { xid: last.xid, seq: last.seq };
    return { added, heldBack };
  }

  /**
   * Entries appended before migration 0006 were queued in ledger_pending; a leader sequences what is
   * still queued there, in queue order, before it follows the commit order.
   */
  private async sequenceLegacyBatch(db: Kysely<Database>, state: TreeState): Promise<number> {
    const result = await db.transaction().execute(async (trx) => {
      const pending = await legacyQueued(trx, this.options.batchSize);
      if (pending.length === 0) return undefined;
      const appended = await extendTree(
        trx,
        state,
        pending.map((r) => r.entryId),
        pending.map((r) => r.leafHash),
      );
      await dequeueLegacy(
        trx,
        pending.map((r) => r.seq),
      );
      return appended;
    });
    if (!result) return 0;
    const added = result.size - state.size;
    this.commit(state, result);
    return added;
  }

  private async checkpoint(db: Kysely<Database>, state: TreeState): Promise<void> {
    const signer = await this.options.signer();
    const note = signNote(formatCheckpoint({ origin: signer.name, size: state.size, rootHash: state.root }), [signer]);
    const size = state.size;
    await storeCheckpoint(db, { size, root: state.root, note, keyId: Buffer.from(signer.keyId).toString("hex"), previousSize: state.checkpointSize });
    state.checkpointSize = size;
    this.options.logger.debug({ size }, "checkpoint signed");
  }
}

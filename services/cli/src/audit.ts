import { SingleBar } from "cli-progress";
import pg from "pg";
import { loadConfig } from "@custody/config";
import { Kysely, PostgresDialect, sql, type Database } from "@custody/db";
import { listPlatformKeys } from "@custody/keys";
import { completedNodeRanges, LedgerAuditor, type AuditCheckpoint, type AuditReport, type SignatureAccepts, type TreeHasher } from "@custody/ledger";
import { comparePositions, sequencedPosition } from "@custody/ledger-store";
import { parseVerifierKey } from "@custody/note";
import { useNativeCrypto } from "@custody/runtime";
import { copyReader, ORIGIN, READ_SETTINGS, RESET_SETTINGS, rowReader, strayStatement, type LeafChunk, type LedgerReader, type NodeChunk, type Position } from "./audit-read.js";
import { nativeTreeHasher } from "./audit-hash.js";
import { nativeSignatureAccepts } from "./audit-signature.js";
import { parseFlags } from "./commands.js";

export interface AuditOptions {
  /** Most leaves read in one chunk (default 16,384; fewer while entries are large). */
  chunkLeaves?: number;
  /** About how many bytes a chunk should hold (default 8 MiB): the chunk size follows the entries' size. */
  chunkBytes?: number;
  /** How the chunks are read (default: rows through Kysely). The command uses binary COPY. */
  reader?: LedgerReader;
  /** The tree's hashes (default: @custody/merkle's, through the process's crypto backend). */
  hasher?: TreeHasher;
  /** A faster signature check whose "yes" counts (default: none: every checkpoint goes to verifyNote). */
  signatureAccepts?: SignatureAccepts;
}

const CHUNK_LEAVES = 16_384;
const CHUNK_BYTES = 8 * 1024 * 1024;
/** The first chunk's size, before the entries' size is known (an entry can be up to 64 KiB). */
const FIRST_CHUNK_LEAVES = 1_024;
/** Leaves re-derived between two turns of the event loop, so the next chunk streams in meanwhile. */
const SLICE = 256;
/** Findings of entries without a leaf are reported up to this many (the first in commit-safe order). */
const MAX_UNSEQUENCED = 100;
/** Entries without a leaf gathered chunk by chunk before the audit looks for them in one statement instead. */
const MAX_GATHERED = 10_000;

async function checkpointsIn(trx: Kysely<Database>, above: number, upTo: number | null): Promise<AuditCheckpoint[]> {
  let query = trx.selectFrom("ledger_checkpoints").select(["tree_size", "root_hash", "note"]).where("tree_size", ">", String(above)).orderBy("tree_size");
  if (upTo !== null) query = query.where("tree_size", "<=", String(upTo));
  const rows = await query.execute();
  return rows.map((r) => ({ treeSize: Number(r.tree_size), rootHash: new Uint8Array(r.root_hash), note: r.note }));
}

/**
 * Which entries without a leaf are not waiting for one. The sequencer follows the commit-safe order
 * from its position (`sequencedPosition` in libs/ledger-store): an entry after it is waiting, and so is an entry appended
 * before migration 0006 (xid 0) that is still in the old ledger_pending queue, which the sequencer
 * drains first. Any other entry without a leaf was skipped, or lost its leaf.
 */
async function notWaiting(trx: Kysely<Database>, withoutLeaf: ReadonlyArray<{ id: string; position: Position }>, sequencer: Position): Promise<string[]> {
  const candidates = withoutLeaf.filter((e) => comparePositions(e.position, sequencer) <= 0);
  const legacy = candidates.filter((e) => e.position.xid === "0").map((e) => e.id);
  const queued = new Set<string>();
  for (let i = 0; i < legacy.length; i += 10_000) {
    const { rows } = await sql<{ entry_id: string }>`SELECT entry_id FROM ledger_pending WHERE entry_id = ANY(${sql.val(legacy.slice(i, i + 10_000))}::text[])`.execute(trx);
    for (const r of rows) queued.add(r.entry_id);
  }
  return candidates.filter((e) => !queued.has(e.id)).map((e) => e.id);
}

/** The same rule in one statement, for the entries in (after, upTo] of the commit-safe order (upTo: the sequencer's position). */
async function notWaitingBetween(trx: Kysely<Database>, after: Position, upTo: Position, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    SELECT e.id FROM ledger_entries e
    WHERE (e.xid, e.seq) > (${after.xid}::xid8, ${after.seq}::bigint) AND (e.xid, e.seq) <= (${upTo.xid}::xid8, ${upTo.seq}::bigint)
      AND NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.entry_id = e.id)
      AND NOT (e.xid = '0'::xid8 AND EXISTS (SELECT 1 FROM ledger_pending q WHERE q.entry_id = e.id))
    ORDER BY e.xid, e.seq
    LIMIT ${limit}`.execute(trx);
  return rows.map((r) => r.id);
}

interface Chunk {
  leaves: LeafChunk;
  nodes: NodeChunk;
  checkpoints: AuditCheckpoint[];
  /** Where the next chunk's window of entries starts (unchanged when this window held none of its entries). */
  reached: Position;
  /** Entries of this chunk's window, up to `reached`, that no leaf points at, in commit-safe order. */
  withoutLeaf: Array<{ id: string; position: Position }>;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Re-verifies the ledger inside one read-only REPEATABLE READ snapshot, so a live sequencer cannot
 * make the audit see half a batch: every leaf hash from its bytes, every entry's canonical form, the
 * tree from the leaves, every stored node, and every checkpoint's signature and root.
 *
 * Reads a chunk of leaves at a time, with the checkpoints and stored nodes it reaches (audit-read.ts);
 * the next chunk is read while this one is re-derived. The entries' windows in the commit-safe order
 * also find every entry without a leaf up to where the leaves reach; the rest of the way to the
 * sequencer's position is one statement (see `notWaiting` for which of them are findings).
 */
export async function runAudit(db: Kysely<Database>, origin: string, onProgress: (done: number, total: number) => void, options: AuditOptions = {}): Promise<AuditReport> {
  const chunkLeaves = options.chunkLeaves ?? CHUNK_LEAVES;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      await sql`SET TRANSACTION READ ONLY`.execute(trx);
      const reader = options.reader ?? rowReader(trx);
      const keys = (await listPlatformKeys(trx)).map((k) => parseVerifierKey(k.vkey));
      const auditor = new LedgerAuditor(keys, origin, { hasher: options.hasher, signatureAccepts: options.signatureAccepts });
      // For the progress bar: the leaves there should be.
      const total = Number((await sql<{ n: string }>`SELECT coalesce(max(leaf_index) + 1, 0) AS n FROM ledger_leaves`.execute(trx)).rows[0]!.n);

      // One chunk: its leaves, the entries its window skipped, the checkpoints it reaches and the stored nodes it completes.
      const read = async (after: number, from: number, limit: number, position: Position): Promise<Chunk> => {
        const leaves = await reader.leaves(after, limit, position);
        const reach = leaves.reach();
        const reached = reach === undefined ? position : (await sql<Position>`SELECT xid::text AS xid, seq::text AS seq FROM ledger_entries WHERE id = ${reach.entryId}`.execute(trx)).rows[0]!;
        const withoutLeaf =
          reach === undefined || reach.unmatched.length === 0
            ? []
            : (await sql<{ id: string; xid: string; seq: string }>`${sql.raw(strayStatement(position, reach.unmatched))}`.execute(trx)).rows.map((r) => ({
                id: r.id,
                position: { xid: r.xid, seq: r.seq },
              }));
        const checkpoints = leaves.length === 0 ? [] : await checkpointsIn(trx, from, from + leaves.length);
        const nodes = await reader.nodes(leaves.length === 0 ? [] : completedNodeRanges(from, leaves.length));
        return { leaves, nodes, checkpoints, reached, withoutLeaf };
      };
      auditor.addCheckpoints(await checkpointsIn(trx, -1, 0));
      const sequencer = await sequencedPosition(trx);
      for (const setting of READ_SETTINGS) await sql.raw(setting).execute(trx);
      let next = read(-1, 0, Math.min(chunkLeaves, FIRST_CHUNK_LEAVES), ORIGIN);
      let position = ORIGIN;
      // Entries without a leaf up to `position` in the commit-safe order, as the chunks find them.
      let withoutLeaf: Array<{ id: string; position: Position }> | undefined = [];
      for (;;) {
        const chunk = await next;
        const { leaves } = chunk;
        if (leaves.length === 0) break;
        const from = auditor.treeSize;
        // As many leaves as fit in chunkBytes at this chunk's size per leaf.
        const limit = Math.min(chunkLeaves, Math.max(64, Math.floor(chunkBytes / Math.max(1, leaves.byteLength / leaves.length))));
        next = read(leaves.lastLeafIndex, from + leaves.length, limit, chunk.reached);
        next.catch(() => undefined);
        position = chunk.reached;
        if (withoutLeaf !== undefined) {
          withoutLeaf.push(...chunk.withoutLeaf.filter((e) => comparePositions(e.position, sequencer) <= 0));
          if (withoutLeaf.length > MAX_GATHERED) withoutLeaf = undefined;
        }
        auditor.addCheckpoints(chunk.checkpoints);
        for (let i = 0; i < leaves.length; i += SLICE) {
          auditor.addLeafBatch(leaves, chunk.nodes, i, Math.min(leaves.length, i + SLICE));
          await nextTurn();
        }
        onProgress(auditor.treeSize, total);
      }
      for (const setting of RESET_SETTINGS) await sql.raw(setting).execute(trx);
      auditor.addCheckpoints(await checkpointsIn(trx, auditor.treeSize, null));
      // The chunks covered the commit order up to `position`; the rest up to the sequencer's, here.
      const unsequenced =
        withoutLeaf === undefined
          ? await notWaitingBetween(trx, ORIGIN, sequencer, MAX_UNSEQUENCED)
          : [...(await notWaiting(trx, withoutLeaf, sequencer)), ...(comparePositions(position, sequencer) < 0 ? await notWaitingBetween(trx, position, sequencer, MAX_UNSEQUENCED) : [])];
      auditor.reportUnsequenced(unsequenced.slice(0, MAX_UNSEQUENCED));
      const head = await trx.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();
      return auditor.finish({ treeSize: Number(head.tree_size), rootHash: new Uint8Array(head.root_hash), checkpointSize: Number(head.checkpoint_size) });
    });
}

/**
 * The audit as the command runs it: a connection of its own to `url`, read with binary COPY, the
 * tree hashed and checkpoint signatures checked with node:crypto (the same bytes as the portable
 * SHA-256; the same answers as the platform's strict Ed25519 check, whose "no" is asked anyway).
 */
export async function auditLedger(url: string, origin: string, onProgress: (done: number, total: number) => void, options: AuditOptions = {}): Promise<AuditReport> {
  useNativeCrypto();
  const client = new pg.Client({ connectionString: url, application_name: "custody-audit" });
  await client.connect();
  // Kysely on that one connection, so that its statements and the COPYs share the transaction.
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: {
        connect: async () => ({ query: client.query.bind(client) as never, release: () => undefined }),
        end: async () => undefined,
      },
    }),
  });
  try {
    return await runAudit(db, origin, onProgress, {
      reader: copyReader(client),
      hasher: nativeTreeHasher(),
      signatureAccepts: nativeSignatureAccepts(),
      ...options,
    });
  } finally {
    await db.destroy();
    await client.end();
  }
}

export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { json: { type: "boolean", default: false } });
  const config = loadConfig("cli");
  const bar = !values.json && process.stderr.isTTY ? new SingleBar({ format: "auditing {bar} {value}/{total} leaves", stream: process.stderr }) : undefined;
  let started = false;
  try {
    const report = await auditLedger(config.DATABASE_URL, config.CUSTODY_LOG_ORIGIN, (done, total) => {
      if (!bar) return;
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    });
    bar?.stop();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const mark = (ok: boolean) => (ok ? "✓" : "✗");
      process.stdout.write(`${mark(report.ok)} ${report.treeSize} leaves re-derived from their stored bytes\n`);
      process.stdout.write(`${mark(report.ok)} ${report.checkpointsVerified} checkpoints: signatures verified, roots re-derived\n`);
      if (report.firstFinding) {
        const f = report.firstFinding;
        process.stdout.write(`\nfirst disagreement${f.leafIndex === null ? "" : ` at leaf ${f.leafIndex}`}: ${f.check}: ${f.message}\n`);
        if (report.findingsTotal > 1) process.stdout.write(`(${report.findingsTotal - 1} more findings; --json lists up to 100)\n`);
      }
    }
    return report.ok ? 0 : 1;
  } finally {
    bar?.stop();
  }
}

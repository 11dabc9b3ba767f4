import { SingleBar } from "cli-progress";
import { loadConfig } from "@custody/config";
import { createDb, sql, type Database, type Kysely } from "@custody/db";
import { listPlatformKeys } from "@custody/keys";
import { LedgerAuditor, type AuditCheckpoint, type AuditReport } from "@custody/ledger";
import { fetchNodes } from "@custody/ledger-store";
import { parseVerifierKey } from "@custody/note";
import { parseFlags } from "./commands.js";

const CHUNK = 5_000;

async function checkpointsIn(trx: Kysely<Database>, above: number, upTo: number | null): Promise<AuditCheckpoint[]> {
  let query = trx.selectFrom("ledger_checkpoints").select(["tree_size", "root_hash", "note"]).where("tree_size", ">", String(above)).orderBy("tree_size");
  if (upTo !== null) query = query.where("tree_size", "<=", String(upTo));
  const rows = await query.execute();
  return rows.map((r) => ({ treeSize: Number(r.tree_size), rootHash: new Uint8Array(r.root_hash), note: r.note }));
}

/**
 * Re-verifies the ledger inside one read-only REPEATABLE READ snapshot, so a live sequencer cannot
 * make the audit see half a batch: every leaf hash from its bytes, the tree from the leaves, every
 * stored node, and every checkpoint's signature and root.
 */
export async function runAudit(db: Kysely<Database>, origin: string, onProgress: (done: number, total: number) => void): Promise<AuditReport> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      await sql`SET TRANSACTION READ ONLY`.execute(trx);
      const keys = (await listPlatformKeys(trx)).map((k) => parseVerifierKey(k.vkey));
      const auditor = new LedgerAuditor(keys, origin);
      const total = Number((await trx.selectFrom("ledger_leaves").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);
      auditor.addCheckpoints(await checkpointsIn(trx, -1, 0));
      let after = -1;
      for (;;) {
        const rows = await sql<{ leaf_index: string; entry_id: string; body: Buffer | null; leaf_hash: Buffer | null }>`
          SELECT l.leaf_index, l.entry_id, e.body, e.leaf_hash
          FROM ledger_leaves l LEFT JOIN ledger_entries e ON e.id = l.entry_id
          WHERE l.leaf_index > ${String(after)}
          ORDER BY l.leaf_index
          LIMIT ${CHUNK}`.execute(trx);
        if (rows.rows.length === 0) break;
        const from = auditor.treeSize;
        auditor.addCheckpoints(await checkpointsIn(trx, from, from + rows.rows.length));
        const completed = auditor.addLeaves(
          rows.rows.map((r) => ({
            leafIndex: Number(r.leaf_index),
            entryId: r.entry_id,
            body: r.body === null ? null : new Uint8Array(r.body),
            storedLeafHash: r.leaf_hash === null ? null : new Uint8Array(r.leaf_hash),
          })),
        );
        auditor.compareNodes(completed, await fetchNodes(trx, completed));
        after = Number(rows.rows[rows.rows.length - 1]!.leaf_index);
        onProgress(auditor.treeSize, total);
      }
      auditor.addCheckpoints(await checkpointsIn(trx, auditor.treeSize, null));
      const orphans = await sql<{ id: string }>`
        SELECT e.id FROM ledger_entries e
        WHERE NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.entry_id = e.id)
          AND NOT EXISTS (SELECT 1 FROM ledger_pending p WHERE p.entry_id = e.id)
        LIMIT 100`.execute(trx);
      auditor.reportUnsequenced(orphans.rows.map((r) => r.id));
      const head = await trx.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();
      return auditor.finish({ treeSize: Number(head.tree_size), rootHash: new Uint8Array(head.root_hash), checkpointSize: Number(head.checkpoint_size) });
    });
}

export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { json: { type: "boolean", default: false } });
  const config = loadConfig("cli");
  const { db } = createDb({ url: config.DATABASE_URL, poolMax: 1, statementTimeoutMs: 0x7fffffff, applicationName: "custody-audit" });
  const bar = !values.json && process.stderr.isTTY ? new SingleBar({ format: "auditing {bar} {value}/{total} leaves", stream: process.stderr }) : undefined;
  let started = false;
  try {
    const report = await runAudit(db, config.CUSTODY_LOG_ORIGIN, (done, total) => {
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
    await db.destroy();
  }
}

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, sql, type Db } from "@custody/db";
import { createTestDatabase, dropDatabase, type TestDatabase } from "@custody/db/testing";
import { appendEntries } from "@custody/ledger-store";
import { leafHash } from "@custody/merkle";
import { runAudit } from "../services/cli/src/audit.js";
import { testEventEntry } from "./support/entries.js";
import { entryAtLeaf, tamperedCopy } from "./support/ledger-copy.js";
import { runTs, spawnTs, waitFor, type Spawned } from "./support/processes.js";

const ORIGIN = "custody.test/log";
const WRITERS = 4;
const PER_WRITER = 2_500;
const TOTAL = WRITERS * PER_WRITER;

/**
 * The ledger's promise under crashes: 4 writers append 10,000 entries while the sequencer process is
 * SIGKILLed and restarted again and again (sometimes with two running at once); afterwards the
 * indexes are exactly 0..9,999 and an independent audit re-derives everything. Then, on copies of
 * that database, a superuser rewrites history in several ways and the audit names the first leaf.
 */
describe("ledger under sequencer crashes", () => {
  let t: TestDatabase;
  // Every sequencer process this file starts, so a failing test still leaves none behind.
  const running: Spawned[] = [];
  const env = () => ({
    DATABASE_URL: t.url,
    CUSTODY_PIPELINE_STAGES: "sequencer",
    CUSTODY_NATS_PREFIX: `t${randomBytes(4).toString("hex")}`,
    CUSTODY_MASTER_KEY: masterKey,
    CUSTODY_LOG_ORIGIN: ORIGIN,
    CUSTODY_SEQUENCER_BATCH: "300",
    CUSTODY_CHECKPOINT_INTERVAL_MS: "40",
    CUSTODY_SEQUENCER_LOCK_RETRY_MS: "100",
  });
  const masterKey = randomBytes(32).toString("base64");

  beforeAll(async () => {
    t = await createTestDatabase("crash");
  });
  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await Promise.all(running.map((p) => p.exited));
    await t.drop();
  });

  it("sequences 10,000 entries from 4 writers densely while sequencers are killed, and the audit passes", async () => {
    const alive: Spawned[] = [];
    const start = () => {
      const p = spawnTs("services/pipeline/src/main.ts", [], env());
      running.push(p);
      alive.push(p);
    };
    start();
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      let written = 0;
      while (written < PER_WRITER) {
        const n = Math.min(PER_WRITER - written, 1 + Math.floor(Math.random() * 60));
        await appendEntries(
          t.db,
          Array.from({ length: n }, (_, i) => ({ tenantId: null, document: testEventEntry(`w${w}_${written + i}`) })),
        );
        written += n;
      }
    });
    const killer = (async () => {
      let kills = 0;
      while (writing || kills < 6) {
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 350));
        const victim = alive.shift();
        if (victim) {
          victim.child.kill("SIGKILL");
          await victim.exited;
          kills++;
        }
        start();
        // Every third round a second sequencer races the first for the lead.
        if (kills % 3 === 0) start();
      }
      return kills;
    })();
    await Promise.all(writers);
    writing = false;
    const kills = await killer;
    expect(kills).toBeGreaterThanOrEqual(6);

    const head = () => t.db.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();
    await waitFor(async () => Number((await head()).checkpoint_size) === TOTAL, 60_000, "the last checkpoint");
    for (const p of alive) p.child.kill("SIGTERM");
    await Promise.all(alive.map((p) => p.exited));

    const stats = await sql<{ n: string; distinct_n: string; lo: string; hi: string }>`
      SELECT count(*) AS n, count(DISTINCT leaf_index) AS distinct_n, min(leaf_index) AS lo, max(leaf_index) AS hi FROM ledger_leaves`.execute(t.db);
    expect(stats.rows[0]).toEqual({ n: String(TOTAL), distinct_n: String(TOTAL), lo: "0", hi: String(TOTAL - 1) });
    expect(await t.db.selectFrom("ledger_pending").selectAll().execute()).toEqual([]);

    const report = await runAudit(t.db, ORIGIN, () => undefined);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, treeSize: TOTAL });
    expect(report.checkpointsVerified).toBeGreaterThan(5);

    const cli = await runTs("services/cli/src/bin.ts", ["audit", "--json"], { DATABASE_URL: t.url, CUSTODY_LOG_ORIGIN: ORIGIN });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, treeSize: TOTAL });
  });

  describe("tampering, done as a superuser with every trigger off", () => {
    const copies: string[] = [];
    afterAll(async () => {
      for (const url of copies) await dropDatabase(url);
    });

    /** A copy of the audited ledger, vandalised, and its audit. */
    async function auditTampered(tamper: (db: Db) => Promise<void>) {
      await t.db.destroy();
      const url = await tamperedCopy(t, copies.length, tamper);
      copies.push(url);
      const { db } = createDb({ url, poolMax: 1, statementTimeoutMs: 60_000, applicationName: "tamper" });
      try {
        return await runAudit(db, ORIGIN, () => undefined);
      } finally {
        await db.destroy();
      }
    }

    const entryAt = entryAtLeaf;

    it.each([0, 4_321, TOTAL - 1])("changing one byte of entry %i (with a matching leaf hash) is found at that leaf", async (index) => {
      const report = await auditTampered(async (db) => {
        const { id, body } = await entryAt(db, index);
        const forged = Buffer.from(body);
        forged[Math.floor(forged.length / 2)]! ^= 0x01;
        await sql`UPDATE ledger_entries SET body = ${forged}, leaf_hash = ${Buffer.from(leafHash(forged))} WHERE id = ${id}`.execute(db);
      });
      expect(report.ok).toBe(false);
      expect(report.firstFinding?.leafIndex).toBe(index);
    });

    it("rewriting an entry and every stored tree node above it is still caught by the signed checkpoints", async () => {
      const index = 777;
      const report = await auditTampered(async (db) => {
        const { id, body } = await entryAt(db, index);
        // Still a well-formed entry: only the signed checkpoints can tell.
        const forged = Buffer.from(body.toString().replace(/"payloadSha256":"(.)/, (_, c) => `"payloadSha256":"${c === "0" ? "1" : "0"}`));
        await sql`UPDATE ledger_entries SET body = ${forged}, leaf_hash = ${Buffer.from(leafHash(forged))} WHERE id = ${id}`.execute(db);
        await sql`DELETE FROM ledger_tree_nodes`.execute(db);
      });
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => f.check)).toContain("CHECKPOINT_ROOT_MISMATCH");
      expect(report.findings.filter((f) => f.check === "CHECKPOINT_ROOT_MISMATCH").every((f) => f.leafIndex! >= index)).toBe(true);
    });

    it("deleting a leaf row is found at the gap", async () => {
      const report = await auditTampered(async (db) => {
        await sql`DELETE FROM ledger_leaves WHERE leaf_index = 5000`.execute(db);
      });
      expect(report.firstFinding).toMatchObject({ leafIndex: 5000 });
    });

    it("deleting an entry row is found at its leaf", async () => {
      const report = await auditTampered(async (db) => {
        const { id } = await entryAt(db, 1234);
        await sql`DELETE FROM ledger_entries WHERE id = ${id}`.execute(db);
      });
      expect(report.firstFinding).toMatchObject({ leafIndex: 1234, check: "ENTRY_MISSING" });
    });

    it("swapping two rows is found at the first of them", async () => {
      const report = await auditTampered(async (db) => {
        const a = await entryAt(db, 100);
        const b = await entryAt(db, 9_000);
        for (const [row, body] of [
          [a, b.body],
          [b, a.body],
        ] as const) {
          await sql`UPDATE ledger_entries SET body = ${body}, leaf_hash = ${Buffer.from(leafHash(body))} WHERE id = ${row.id}`.execute(db);
        }
      });
      expect(report.firstFinding).toMatchObject({ leafIndex: 100 });
    });

    it("truncating the tail of the log is caught by the later checkpoints", async () => {
      const report = await auditTampered(async (db) => {
        await sql`DELETE FROM ledger_leaves WHERE leaf_index >= 9990`.execute(db);
        await sql`UPDATE ledger_head SET tree_size = 9990, checkpoint_size = 9990`.execute(db);
      });
      expect(report.ok).toBe(false);
      expect(report.findings.map((f) => f.check)).toContain("CHECKPOINT_BEYOND_TREE");
    });
  });
});

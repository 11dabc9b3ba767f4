import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, sql, type Db } from "@custody/db";
import { createTestDatabase, dropDatabase, type TestDatabase } from "@custody/db/testing";
import { activePlatformSigner } from "@custody/keys";
import { eventEntry, outcomesEntry, sealEntry, type AuditReport } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { leafHash } from "@custody/merkle";
import { auditLedger, runAudit, type AuditOptions } from "../services/cli/src/audit.js";
import { Sequencer } from "../services/pipeline/src/sequencer/sequencer.js";
import { testEventEntry, testEventEntryBytes } from "./support/entries.js";
import { tamperedCopy, entryAtLeaf } from "./support/ledger-copy.js";
import { runTs, waitFor } from "./support/processes.js";

const ORIGIN = "custody.audit-test/log";
const LEGACY = 150;
const WRITERS = 3;
const PER_WRITER = 400;
const TOTAL = LEGACY + WRITERS * PER_WRITER;

/**
 * The audit against a real ledger: entries appended before migration 0006 (xid 0, sequenced from
 * the old ledger_pending queue, out of insertion order as concurrent writers left it), then entries
 * from concurrent writers sequenced in the commit-safe order, a checkpoint every few dozen leaves, and
 * a few entries appended after the sequencer stopped. Each check runs on a copy (CREATE DATABASE …
 * TEMPLATE) tampered with as a superuser, and every audit runs both ways: rows through Kysely
 * (`runAudit`, what tests and other callers use) and binary COPY with node:crypto's hashes and
 * signature check (`auditLedger`, what `custody audit` runs), in chunks small enough to cross many
 * boundaries — and all must report exactly the same.
 */
describe("custody audit", () => {
  let t: TestDatabase;
  const copies: string[] = [];
  const late: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase("audit");
    const signer = await activePlatformSigner(t.db, randomBytes(32), ORIGIN);
    const keyId = Buffer.from(signer.keyId).toString("hex");
    // Before 0006: xid 0, queued in an order that is not insertion order.
    const legacy = Array.from({ length: LEGACY }, (_, i) => ({ id: `ent_legacy${String(i).padStart(12, "0")}`, body: testEventEntryBytes(`legacy${i}`) }));
    for (const e of legacy) {
      await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid) VALUES (${e.id}, 'event', ${e.body}, sha256('\\x00'::bytea || ${e.body}), '0')`.execute(t.db);
    }
    const queued = legacy.map((e, i) => ({ e, key: (i * 37) % 11 })).sort((a, b) => a.key - b.key);
    for (const { e } of queued) await sql`INSERT INTO ledger_pending (seq, entry_id) SELECT seq, id FROM ledger_entries WHERE id = ${e.id}`.execute(t.db);
    // After: concurrent writers, in transactions of a few entries each.
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let n = 0; n < PER_WRITER; ) {
          const k = Math.min(PER_WRITER - n, 1 + ((n * 7 + w) % 9));
          await appendEntries(
            t.db,
            Array.from({ length: k }, (_, j) => {
              const i = n + j;
              const document =
                i % 20 === 18
                  ? sealEntry({ batchRoot: randomBytes(32).toString("hex"), size: 1 + (i % 30), keyId })
                  : i % 20 === 19
                    ? outcomesEntry({ batchRoot: randomBytes(32).toString("hex"), size: 1 + (i % 30) })
                    : eventEntry({ tenantId: `ten_${w}`, eventId: `evt_${w}_${i}`, type: "order.shipped", payloadSha256: randomBytes(32), occurredAt: new Date(Date.UTC(2026, 0, 1) + i), supersedes: null });
              return { tenantId: null, document };
            }),
          );
          n += k;
        }
      }),
    );
    const sequencer = new Sequencer({
      databaseUrl: t.url,
      logger: createLogger({ service: "test", level: "silent", pretty: false }),
      signer: async () => signer,
      batchSize: 23,
      pollMs: 5,
      checkpointIntervalMs: 1,
      lockRetryMs: 50,
    });
    const running = sequencer.run();
    await waitFor(async () => Number((await t.db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow()).checkpoint_size) === TOTAL, 60_000, "the ledger sequenced");
    sequencer.stop();
    await running;
    // Appended after the sequencer stopped: waiting in the commit-safe order, not lost.
    late.push(
      ...(
        await appendEntries(
          t.db,
          [1, 2, 3].map((n) => ({ tenantId: null, document: testEventEntry(`late${n}`) })),
        )
      ).map((e) => e.id),
    );
    // Copies are made from this database: nothing may stay connected to it.
    await t.db.destroy();
  }, 120_000);

  afterAll(async () => {
    for (const url of copies) await dropDatabase(url);
    await t.drop();
  });

  /** A copy of the ledger, tampered with as a superuser with every trigger off. */
  async function copy(tamper: (db: Db) => Promise<void> = async () => undefined): Promise<string> {
    const url = await tamperedCopy(t, copies.length, tamper);
    copies.push(url);
    return url;
  }

  /** Audits `url` every way there is, checks they agree, and returns the report. */
  async function audit(url: string): Promise<AuditReport> {
    const { db } = createDb({ url, poolMax: 1, statementTimeoutMs: 60_000, applicationName: "audit-test" });
    const reports: AuditReport[] = [];
    try {
      reports.push(await runAudit(db, ORIGIN, () => undefined));
      reports.push(await runAudit(db, ORIGIN, () => undefined, { chunkLeaves: 7 }));
    } finally {
      await db.destroy();
    }
    const copyOptions: AuditOptions[] = [{}, { chunkLeaves: 50 }, { chunkLeaves: 13, signatureAccepts: undefined }];
    for (const options of copyOptions) reports.push(await auditLedger(url, ORIGIN, () => undefined, options));
    for (const r of reports.slice(1)) expect(r).toEqual(reports[0]);
    return reports[0]!;
  }

  const at = entryAtLeaf;

  it("passes an untouched ledger, entries still waiting for the sequencer included, whichever way it reads", async () => {
    const report = await audit(await copy());
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, treeSize: TOTAL });
    expect(report.checkpointsVerified).toBeGreaterThan(40);
  });

  it("reports an entry without a leaf at or before the sequencer's position, and none after it", async () => {
    let skipped = "";
    let lost = "";
    let queued = "";
    const report = await audit(
      await copy(async (db) => {
        // Appended by a transaction older than the last one sequenced, yet never sequenced: skipped.
        skipped = `ent_skipped${randomBytes(8).toString("hex")}`;
        const body = testEventEntryBytes("skipped");
        await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid) VALUES (${skipped}, 'event', ${body}, sha256('\\x00'::bytea || ${body}), '3')`.execute(db);
        // From before 0006 and out of the queue without a leaf: lost. Still in the queue: waiting.
        lost = `ent_lost${randomBytes(8).toString("hex")}`;
        queued = `ent_queued${randomBytes(8).toString("hex")}`;
        for (const id of [lost, queued]) {
          const b = testEventEntryBytes(id);
          await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid) VALUES (${id}, 'event', ${b}, sha256('\\x00'::bytea || ${b}), '0')`.execute(db);
        }
        await sql`INSERT INTO ledger_pending (seq, entry_id) SELECT seq, id FROM ledger_entries WHERE id = ${queued}`.execute(db);
      }),
    );
    expect(report.findings.map((f) => f.check)).toEqual(["ENTRY_UNSEQUENCED", "ENTRY_UNSEQUENCED"]);
    const named = report.findings.map((f) => f.message).join("\n");
    expect(named).toContain(skipped);
    expect(named).toContain(lost);
    for (const id of [queued, ...late]) expect(named).not.toContain(id);
  });

  it("finds the entries of a deleted leaf row: the gap, and the entry left without a leaf", async () => {
    let orphan = "";
    const report = await audit(
      await copy(async (db) => {
        orphan = (await at(db, 700)).id;
        await sql`DELETE FROM ledger_leaves WHERE leaf_index = 700`.execute(db);
      }),
    );
    expect(report.firstFinding).toMatchObject({ check: "LEAF_INDEX_GAP", leafIndex: 700 });
    expect(report.findings.filter((f) => f.check === "ENTRY_UNSEQUENCED").map((f) => f.message)).toEqual([expect.stringContaining(orphan)]);
  });

  it.each([3, LEGACY + 1, 901, TOTAL - 1])("finds a changed byte of entry %i (its leaf hash recomputed) at that leaf", async (index) => {
    const report = await audit(
      await copy(async (db) => {
        const { id, body } = await at(db, index);
        const forged = Buffer.from(body);
        forged[Math.floor(forged.length / 2)]! ^= 0x01;
        await sql`UPDATE ledger_entries SET body = ${forged}, leaf_hash = ${Buffer.from(leafHash(forged))} WHERE id = ${id}`.execute(db);
      }),
    );
    expect(report.ok).toBe(false);
    expect(report.firstFinding?.leafIndex).toBe(index);
  });

  it("finds a deleted entry row, two swapped rows, a changed tree node and a changed stored leaf hash where they are", async () => {
    const deleted = await audit(
      await copy(async (db) => {
        await sql`DELETE FROM ledger_entries WHERE id = ${(await at(db, 1000)).id}`.execute(db);
      }),
    );
    expect(deleted.firstFinding).toMatchObject({ leafIndex: 1000, check: "ENTRY_MISSING" });

    const swapped = await audit(
      await copy(async (db) => {
        const a = await at(db, 100);
        const b = await at(db, 1200);
        for (const [row, body] of [
          [a, b.body],
          [b, a.body],
        ] as const) {
          await sql`UPDATE ledger_entries SET body = ${body}, leaf_hash = ${Buffer.from(leafHash(body))} WHERE id = ${row.id}`.execute(db);
        }
      }),
    );
    expect(swapped.firstFinding).toMatchObject({ leafIndex: 100 });

    const node = await audit(
      await copy(async (db) => {
        await sql`UPDATE ledger_tree_nodes SET hash = ${Buffer.alloc(32)} WHERE level = 3 AND idx = 77`.execute(db);
      }),
    );
    expect(node.findings).toEqual([{ check: "TREE_NODE_MISMATCH", leafIndex: 78 * 8 - 1, message: expect.stringMatching(/level 3 index 77 is 0{64}/) }]);

    const stored = await audit(
      await copy(async (db) => {
        await sql`ALTER TABLE ledger_entries DROP CONSTRAINT leaf_hash_matches_body`.execute(db);
        await sql`UPDATE ledger_entries SET leaf_hash = ${Buffer.alloc(32)} WHERE id = ${(await at(db, 555)).id}`.execute(db);
      }),
    );
    expect(stored.findings).toEqual([{ check: "LEAF_HASH_MISMATCH", leafIndex: 555, message: expect.stringContaining("stored leaf hash 0000") }]);
  });

  it("finds a forged checkpoint signature and a truncated tail", async () => {
    const forged = await audit(
      await copy(async (db) => {
        const cp = (await sql<{ tree_size: string; note: string }>`SELECT tree_size, note FROM ledger_checkpoints ORDER BY tree_size OFFSET 10 LIMIT 1`.execute(db)).rows[0]!;
        const note = cp.note.replace(/— (\S+) (\S+)\n$/, (_, name: string, sig: string) => `— ${name} ${sig.slice(0, 10)}${sig[10] === "A" ? "B" : "A"}${sig.slice(11)}\n`);
        await sql`UPDATE ledger_checkpoints SET note = ${note} WHERE tree_size = ${cp.tree_size}`.execute(db);
      }),
    );
    expect(forged.findings).toEqual([{ check: "CHECKPOINT_INVALID", leafIndex: null, message: expect.stringMatching(/does not verify/) }]);

    const truncated = await audit(
      await copy(async (db) => {
        await sql`DELETE FROM ledger_leaves WHERE leaf_index >= ${TOTAL - 10}`.execute(db);
        await sql`UPDATE ledger_head SET tree_size = ${TOTAL - 10}, checkpoint_size = ${TOTAL - 10}`.execute(db);
      }),
    );
    expect(truncated.ok).toBe(false);
    expect(truncated.findings.map((f) => f.check)).toContain("CHECKPOINT_BEYOND_TREE");
    // The ten entries lost their leaves, and with them the sequencer's position moved back before
    // them: they are waiting (a sequencer would give them those indexes again), not lost.
    expect(truncated.findings.filter((f) => f.check === "ENTRY_UNSEQUENCED")).toEqual([]);
  });

  it("reads entries wherever the commit-safe order puts them: a leaf whose entry moved, or that points at another entry", async () => {
    // An entry that a superuser moved to the front of the commit order (its bytes untouched) is
    // still found, by id, and nothing is reported: the audit checks bytes, not positions.
    const moved = await audit(
      await copy(async (db) => {
        await sql`UPDATE ledger_entries SET xid = '1' WHERE id = ${(await at(db, 800)).id}`.execute(db);
      }),
    );
    expect(moved.findings).toEqual([]);
    // A leaf repointed at one of the waiting entries: the tree no longer matches at that leaf, and
    // the entry it used to point at has no leaf.
    let repointed = "";
    const swappedLeaf = await audit(
      await copy(async (db) => {
        repointed = (await at(db, 900)).id;
        await sql`UPDATE ledger_leaves SET entry_id = ${late[0]!} WHERE leaf_index = 900`.execute(db);
      }),
    );
    expect(swappedLeaf.firstFinding).toMatchObject({ leafIndex: 900, check: "TREE_NODE_MISMATCH" });
    expect(swappedLeaf.findings.filter((f) => f.check === "ENTRY_UNSEQUENCED").map((f) => f.message)).toEqual([expect.stringContaining(repointed)]);
  });

  it("as the command: exit 1, the first disagreement, and --json", async () => {
    const url = await copy(async (db) => {
      await sql`DELETE FROM ledger_entries WHERE id = ${(await at(db, 42)).id}`.execute(db);
    });
    const env = { DATABASE_URL: url, CUSTODY_LOG_ORIGIN: ORIGIN };
    const text = await runTs("services/cli/src/bin.ts", ["audit"], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/first disagreement at leaf 42: ENTRY_MISSING/);
    const json = await runTs("services/cli/src/bin.ts", ["audit", "--json"], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, treeSize: TOTAL, firstFinding: { check: "ENTRY_MISSING", leafIndex: 42 } });
  });
});

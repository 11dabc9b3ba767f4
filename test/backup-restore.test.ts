import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, ensureDatabase, type Db } from "@custody/db";
import { createTestDatabase, dropDatabase, type TestDatabase } from "@custody/db/testing";
import { activePlatformSigner } from "@custody/keys";
import { eventEntry, outcomesEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import type { Signer } from "@custody/note";
import { auditLedger } from "../services/cli/src/audit.js";
import { Sequencer } from "../services/pipeline/src/sequencer/sequencer.js";
import { waitFor } from "./support/processes.js";

const ORIGIN = "custody.backup-test/log";
const hasPgDump = spawnSync("pg_dump", ["--version"]).status === 0 && spawnSync("pg_restore", ["--version"]).status === 0;

/**
 * Backups (docs/operations.md): a `pg_dump` of a live ledger restored into a fresh database passes
 * `custody audit`, and the restored platform goes on appending and sequencing where it stopped.
 */
describe.skipIf(!hasPgDump)("a ledger backed up with pg_dump and restored", () => {
  let t: TestDatabase;
  let signer: Signer;
  const work = mkdtempSync(join(tmpdir(), "custody-backup-"));
  const restoredUrl = () => t.url.replace(/\/([^/]+)$/, "/$1_restored");
  const logger = createLogger({ service: "test", level: "silent", pretty: false });

  async function append(db: Db, n: number, from: number): Promise<void> {
    await appendEntries(
      db,
      Array.from({ length: n }, (_, i) => ({
        tenantId: null,
        document:
          (from + i) % 10 === 9
            ? outcomesEntry({ batchRoot: randomBytes(32).toString("hex"), size: 3 })
            : eventEntry({ tenantId: "ten_backup", eventId: `evt_${from + i}`, type: "order.paid", payloadSha256: randomBytes(32), occurredAt: new Date(), supersedes: null }),
      })),
    );
  }

  /** Runs a sequencer on `url` until a checkpoint covers `size` leaves. */
  async function sequence(url: string, db: Db, size: number): Promise<void> {
    const sequencer = new Sequencer({ databaseUrl: url, logger, signer: async () => signer, batchSize: 50, pollMs: 5, checkpointIntervalMs: 1, lockRetryMs: 50 });
    const running = sequencer.run();
    await waitFor(async () => Number((await db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow()).checkpoint_size) === size, 60_000, `${size} leaves under a checkpoint`);
    sequencer.stop();
    await running;
  }

  beforeAll(async () => {
    t = await createTestDatabase("backup");
    signer = await activePlatformSigner(t.db, randomBytes(32), ORIGIN);
    for (let i = 0; i < 300; i += 60) await append(t.db, 60, i);
    await sequence(t.url, t.db, 300);
    // Appended after the last checkpoint: in the dump, still waiting for the sequencer.
    await append(t.db, 20, 300);
  }, 120_000);

  afterAll(async () => {
    await dropDatabase(restoredUrl()).catch(() => undefined);
    await t.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it("passes custody audit, then sequences what was waiting and what comes after, densely", async () => {
    const dump = join(work, "custody.dump");
    const dumped = spawnSync("pg_dump", ["--format=custom", `--file=${dump}`, t.url], { encoding: "utf8" });
    expect(dumped.status, dumped.stderr).toBe(0);
    await ensureDatabase(restoredUrl());
    const restored = spawnSync("pg_restore", ["--exit-on-error", `--dbname=${restoredUrl()}`, dump], { encoding: "utf8" });
    expect(restored.status, restored.stderr).toBe(0);

    const audit = await auditLedger(restoredUrl(), ORIGIN, () => undefined);
    expect(audit.findings).toEqual([]);
    expect(audit).toMatchObject({ ok: true, treeSize: 300 });

    const { db } = createDb({ url: restoredUrl(), poolMax: 2, statementTimeoutMs: 30_000, applicationName: "test" });
    try {
      await append(db, 30, 320);
      await sequence(restoredUrl(), db, 350);
      const leaves = await db
        .selectFrom("ledger_leaves")
        .select((eb) => [eb.fn.countAll<string>().as("n"), eb.fn.max("leaf_index").as("max")])
        .executeTakeFirstOrThrow();
      expect({ n: Number(leaves.n), max: Number(leaves.max) }).toEqual({ n: 350, max: 349 });
    } finally {
      await db.destroy();
    }
    const after = await auditLedger(restoredUrl(), ORIGIN, () => undefined);
    expect(after.findings).toEqual([]);
    expect(after).toMatchObject({ ok: true, treeSize: 350 });
  }, 120_000);
});

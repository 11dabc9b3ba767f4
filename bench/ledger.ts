/**
 * Ledger benchmark: how fast the sequencer assigns leaf indexes and extends the stored tree (a
 * backlog drained as fast as it can), and how long an appended entry waits for a signed
 * checkpoint that covers it under a steady load.
 */
import { randomBytes } from "node:crypto";
import { sql } from "@custody/db";
import { createTestDatabase } from "@custody/db/testing";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { generateSigner } from "@custody/note";
import { Sequencer } from "../services/pipeline/src/sequencer/sequencer.js";
import { progress, type BenchResult } from "./report.js";

const BACKLOG = 100_000;
const APPEND_BATCH = 1_000;
const STEADY_RATE = 2_000;
const STEADY_SECONDS = 10;

export async function benchLedger(): Promise<BenchResult> {
  const t = await createTestDatabase("bench_ledger");
  const logger = createLogger({ service: "bench", level: "warn", pretty: false });
  const signer = generateSigner("custody.bench/log");
  const doc = (n: number) => ({ tenantId: null, document: { v: 1 as const, kind: "event" as const, n, pad: randomBytes(48).toString("hex") } });
  try {
    // 1. Append a backlog (measures the append path: one multi-row insert per 1,000 entries).
    const appendBar = progress("append backlog", BACKLOG);
    const appendStart = performance.now();
    for (let i = 0; i < BACKLOG; i += APPEND_BATCH) {
      await appendEntries(
        t.db,
        Array.from({ length: APPEND_BATCH }, (_, j) => doc(i + j)),
      );
      appendBar.update(i + APPEND_BATCH);
    }
    appendBar.stop();
    const appendSeconds = (performance.now() - appendStart) / 1000;

    // 2. Drain it with one sequencer at its default batch size.
    const sequencer = new Sequencer({ databaseUrl: t.url, logger, signer: async () => signer, batchSize: 5_000, pollMs: 50, checkpointIntervalMs: 250, lockRetryMs: 1_000 });
    const drainBar = progress("sequence backlog", BACKLOG);
    const drainStart = performance.now();
    const running = sequencer.run();
    for (;;) {
      const head = await t.db.selectFrom("ledger_head").select(["tree_size"]).executeTakeFirstOrThrow();
      drainBar.update(Number(head.tree_size));
      if (Number(head.tree_size) >= BACKLOG) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    drainBar.stop();
    const drainSeconds = (performance.now() - drainStart) / 1000;

    // 3. Steady load: STEADY_RATE entries/s in 20 ms ticks; then ask Postgres how long each waited for a checkpoint.
    const steadyBar = progress("steady load", STEADY_SECONDS * STEADY_RATE);
    const perTick = STEADY_RATE / 50;
    const steadyStart = performance.now();
    let sent = 0;
    while (sent < STEADY_SECONDS * STEADY_RATE) {
      await appendEntries(
        t.db,
        Array.from({ length: perTick }, (_, j) => doc(BACKLOG + sent + j)),
      );
      sent += perTick;
      steadyBar.update(sent);
      const due = steadyStart + (sent / STEADY_RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    steadyBar.stop();
    for (;;) {
      const head = await t.db.selectFrom("ledger_head").select(["checkpoint_size"]).executeTakeFirstOrThrow();
      if (Number(head.checkpoint_size) >= BACKLOG + sent) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    sequencer.stop();
    await running;
    const latency = await sql<{ p50: number; p95: number; p99: number; max: number }>`
      WITH waits AS (
        SELECT extract(epoch FROM (
          SELECT c.created_at FROM ledger_checkpoints c WHERE c.tree_size > l.leaf_index ORDER BY c.tree_size LIMIT 1
        ) - e.created_at) * 1000 AS ms
        FROM ledger_leaves l JOIN ledger_entries e ON e.id = l.entry_id
        WHERE l.leaf_index >= ${BACKLOG})
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
             max(ms) AS max
      FROM waits`.execute(t.db);
    const l = latency.rows[0]!;
    return {
      name: "ledger",
      figures: {
        "append (entries/s, 1,000 per insert)": Math.round(BACKLOG / appendSeconds),
        "sequence a 100k backlog (entries/s)": Math.round(BACKLOG / drainSeconds),
        [`entry → covering checkpoint at ${STEADY_RATE}/s, p50 (ms)`]: Math.round(l.p50),
        "… p95 (ms)": Math.round(l.p95),
        "… p99 (ms)": Math.round(l.p99),
        "… max (ms)": Math.round(l.max),
      },
    };
  } finally {
    await t.drop();
  }
}

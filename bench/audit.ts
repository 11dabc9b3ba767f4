/**
 * Audit benchmark: how many leaves per second `custody audit` re-verifies, on a ledger shaped like
 * the one the pipeline writes.
 *
 * The ledger (a database of its own): `--entries` (200,000) entries appended through
 * appendEntries, event entries with seal and outcomes batch entries among them (18 : 1 : 1, what
 * fan-out to one endpoint with batches of ~20 gives), then sequenced by the real Sequencer in the
 * commit-safe order, signing a checkpoint every `--leaves-per-checkpoint` (200) leaves: the
 * pipeline at its full measured load (~650 entries/s) with the default 250 ms checkpoint interval
 * signs one every ~160, a quieter ledger more often.
 *
 * Then the audit runs `--runs` (3) times in this process, exactly as the CLI runs it (auditLedger:
 * its own connection, node:crypto), and once as the command itself (`custody audit
 * --json`, a process of its own, start-up included). Besides wall time it reports the CPU each run
 * took — this process and the Postgres backend serving it — and the rate
 * that cost allows on this machine's two cores when nothing else runs: on a shared machine the wall
 * figures mostly say how busy the others were.
 *
 * Flags (after `npm run bench -- audit`): --entries=N, --leaves-per-checkpoint=N, --runs=N,
 * --keep (leave the database and print its URL), --reuse=URL (audit an existing database, e.g.
 * one kept before, instead of building one).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import pg from "pg";
import { createDb } from "@custody/db";
import { createTestDatabase, dropDatabase } from "@custody/db/testing";
import { activePlatformSigner } from "@custody/keys";
import { eventEntry, outcomesEntry, sealEntry, type EntryDocument } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { Sequencer } from "../services/pipeline/src/sequencer/sequencer.js";
import { runTs } from "../test/support/processes.js";
import { auditLedger } from "../services/cli/src/audit.js";
import { progress, type BenchResult } from "./report.js";

const ORIGIN = "custody.bench/log";
const APPEND_BATCH = 2_000;
const TYPES = ["identity.registration.final", "payment.captured", "order.shipped", "invoice.paid", "user.deleted"];

interface Options {
  entries: number;
  leavesPerCheckpoint: number;
  runs: number;
  keep: boolean;
  reuse: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m) flags.set(m[1]!, m[2] ?? "true");
  }
  const int = (name: string, fallback: number) => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  return {
    entries: int("entries", 200_000),
    leavesPerCheckpoint: int("leaves-per-checkpoint", 200),
    runs: int("runs", 3),
    keep: flags.has("keep"),
    reuse: flags.get("reuse"),
  };
}

const hex = (n: number) => randomBytes(n).toString("hex");
const id = (prefix: string) => `${prefix}_${randomBytes(16).toString("base64url").replace(/[-_]/g, "x").slice(0, 22)}`;

/** The n-th entry of a ledger the pipeline could have written: mostly events, a seal and an outcomes batch every 20. */
function entryAt(n: number, tenants: readonly string[], keyId: string): EntryDocument {
  if (n % 20 === 18) return sealEntry({ batchRoot: hex(32), size: 1 + (n % 37), keyId });
  if (n % 20 === 19) return outcomesEntry({ batchRoot: hex(32), size: 1 + (n % 41) });
  return eventEntry({
    tenantId: tenants[n % tenants.length]!,
    eventId: id("evt"),
    type: TYPES[n % TYPES.length]!,
    payloadSha256: randomBytes(32),
    occurredAt: new Date(Date.UTC(2026, 10, 23, 18) + n * 7),
    supersedes: n % 500 === 3 ? id("evt") : null,
  });
}

async function buildLedger(url: string, opts: Options): Promise<void> {
  const { db } = createDb({ url, poolMax: 2, statementTimeoutMs: 600_000, applicationName: "bench-audit-build" });
  try {
    const signer = await activePlatformSigner(db, randomBytes(32), ORIGIN);
    const keyId = Buffer.from(signer.keyId).toString("hex");
    const tenants = Array.from({ length: 20 }, () => id("ten"));
    const appendBar = progress("append entries", opts.entries);
    for (let i = 0; i < opts.entries; i += APPEND_BATCH) {
      const n = Math.min(APPEND_BATCH, opts.entries - i);
      // The rows carry no tenant reference (no tenants table rows needed); the documents name one.
      await appendEntries(
        db,
        Array.from({ length: n }, (_, j) => ({ tenantId: null, document: entryAt(i + j, tenants, keyId) })),
      );
      appendBar.update(i + n);
    }
    appendBar.stop();

    // A batch per checkpoint and no wait between checkpoints: one checkpoint every leavesPerCheckpoint leaves.
    const logger = createLogger({ service: "bench", level: "warn", pretty: false });
    const sequencer = new Sequencer({ databaseUrl: url, logger, signer: async () => signer, batchSize: opts.leavesPerCheckpoint, pollMs: 20, checkpointIntervalMs: 1, lockRetryMs: 1_000 });
    const bar = progress("sequence", opts.entries);
    const running = sequencer.run();
    for (;;) {
      const head = await db.selectFrom("ledger_head").select(["tree_size", "checkpoint_size"]).executeTakeFirstOrThrow();
      bar.update(Number(head.tree_size));
      if (Number(head.checkpoint_size) >= opts.entries) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    bar.stop();
    sequencer.stop();
    await running;
  } finally {
    await db.destroy();
  }
}

/**
 * Follows the CPU time of the audit's Postgres backend (found by its application name) until
 * `stop`, sampling /proc every 20 ms: the backend is gone by the time the audit returns.
 */
function watchBackend(admin: pg.Client): { stop(): Promise<number> } {
  let pid: number | undefined;
  let last = 0;
  let stopped = false;
  const sample = () => {
    if (pid === undefined) return;
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      last = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // exited
    }
  };
  const polling = (async () => {
    while (!stopped) {
      if (pid === undefined) {
        const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'custody-audit' AND datname = current_database()");
        pid = rows[0]?.pid;
      }
      sample();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await polling;
      return last;
    },
  };
}

export async function benchAudit(argv: readonly string[] = process.argv.slice(2)): Promise<BenchResult> {
  const opts = parseOptions(argv);
  let url = opts.reuse;
  let drop: (() => Promise<void>) | undefined;
  if (url === undefined) {
    const t = await createTestDatabase("bench_audit");
    await t.db.destroy();
    url = t.url;
    drop = () => dropDatabase(t.url);
    const started = performance.now();
    await buildLedger(url, opts);
    process.stderr.write(`ledger of ${opts.entries.toLocaleString("en-US")} entries built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  try {
    const seconds: number[] = [];
    const cpu: number[] = [];
    let leaves = 0;
    let checkpoints = 0;
    const load = loadavg()[0]!;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    for (let run = 0; run < opts.runs; run++) {
      let bar: ReturnType<typeof progress> | undefined;
      const backend = watchBackend(admin);
      const before = process.cpuUsage();
      const started = performance.now();
      const report = await auditLedger(url, ORIGIN, (done, total) => {
        bar ??= progress(`audit ${run + 1}/${opts.runs}`, total);
        bar.update(done);
      });
      seconds.push((performance.now() - started) / 1000);
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1e6 + (await backend.stop()));
      bar?.stop();
      if (!report.ok) throw new Error(`the audit of an untouched ledger failed: ${JSON.stringify(report.firstFinding)}`);
      leaves = report.treeSize;
      checkpoints = report.checkpointsVerified;
    }
    await admin.end();
    seconds.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const median = seconds[Math.floor(seconds.length / 2)]!;
    const cpuMedian = cpu[Math.floor(cpu.length / 2)]!;

    const cliStarted = performance.now();
    const cli = await runTs("services/cli/src/bin.ts", ["audit", "--json"], { DATABASE_URL: url, CUSTODY_LOG_ORIGIN: ORIGIN });
    const cliSeconds = (performance.now() - cliStarted) / 1000;
    if (cli.code !== 0) throw new Error(`custody audit exited ${cli.code}: ${cli.output}`);

    if (opts.keep) process.stderr.write(`ledger kept: ${url}\n`);
    return {
      name: "audit",
      figures: {
        "leaves audited": leaves,
        "checkpoints verified": checkpoints,
        "audit, median of runs (leaves/s)": Math.round(leaves / median),
        "audit, best run (leaves/s)": Math.round(leaves / seconds[0]!),
        "audit, median run (ms)": Math.round(median * 1000),
        "audit, CPU per 1,000 leaves, process + Postgres backend (ms)": Math.round((cpuMedian / leaves) * 1e7) / 10,
        "audit, leaves/s that CPU cost allows on 2 idle cores": Math.round((2 * leaves) / cpuMedian),
        "machine load average (1 min) before the runs (×100)": Math.round(load * 100),
        "custody audit --json, whole command with start-up (ms)": Math.round(cliSeconds * 1000),
        "… leaves/s of the whole command": Math.round(leaves / cliSeconds),
      },
    };
  } finally {
    if (!opts.keep) await drop?.();
  }
}

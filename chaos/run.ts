/**
 * `npm run chaos`: the fault suite (docs/chaos.md). It starts a Postgres cluster and a NATS server
 * of its own on free ports (data under .data/chaos/, removed afterwards), the platform's processes,
 * and a webhook receiver, then runs each scenario under load with its assertions, and prints per
 * scenario: accepted, delivered, lost, duplicates (byte-identical?), 5xx seen by clients, time to
 * recover and `custody audit`. Exit status 0 only if every scenario passed.
 *
 * Flags: --short (CI: fewer, shorter scenarios, ~3 minutes), --only=name,name, --json=PATH (results
 * as JSON), --list.
 */
import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDb, ensureDatabase, migrate, type Db } from "@custody/db";
import { createLogger } from "@custody/log";
import { useNativeCrypto } from "@custody/runtime";
import { ROOT } from "../test/support/processes.js";
import { ChaosNats, ChaosPostgres, cleanLeftovers, SmallDisk } from "./infra.js";
import { Platform } from "./platform.js";
import { ReceiverProcess } from "./receiver-client.js";
import { formatReport } from "./report.js";
import { Run, type Ctx, type Result, type Scenario } from "./scenario.js";
import { bigResponse, tenantIsolation } from "./scenarios/endpoints.js";
import { processKills } from "./scenarios/kills.js";
import { natsDiskFull, natsKill, postgresStop } from "./scenarios/outages.js";
import { natsCluster, sequencerFailover } from "./scenarios/scale-out.js";

const SCENARIOS: Scenario[] = [postgresStop, natsKill, processKills, tenantIsolation, bigResponse, natsDiskFull, natsCluster, sequencerFailover];
/** A scenario that runs longer than this is stopped as failed, and the run ends there (its processes may be in any state). */
const SCENARIO_LIMIT_MS = 6 * 60_000;

const { values } = parseArgs({
  options: { short: { type: "boolean", default: false }, only: { type: "string" }, json: { type: "string" }, list: { type: "boolean", default: false } },
});
if (values.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.inShort ? "short+full" : "full      "} ${s.title}\n`);
  process.exit(0);
}
const only = values.only?.split(",").map((x) => x.trim());
const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(", ")}; --list shows them\n`);
  process.exit(2);
}
const selected = SCENARIOS.filter((s) => (only ? only.includes(s.name) : !values.short || s.inShort));
const short = values.short;

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
const dir = join(ROOT, ".data", "chaos");
const logger = createLogger({ service: "chaos", level: "warn" });
useNativeCrypto();

await cleanLeftovers(dir);
await mkdir(dir, { recursive: true });
let disk: SmallDisk | string = "the disk-full scenario was not selected";
let pg: ChaosPostgres | undefined;
let nats: ChaosNats | undefined;
let platform: Platform | undefined;
let db: Db | undefined;
const receiver = new ReceiverProcess();
const results: Result[] = [];
let status = 0;
try {
  if (selected.includes(natsDiskFull)) {
    const d = new SmallDisk(join(dir, "nats"), 64);
    const problem = await d.mount();
    disk = problem ?? d;
  }
  pg = await ChaosPostgres.create(dir, logger);
  log(`postgres on port ${pg.port}`);
  await ensureDatabase(pg.url);
  await migrate(pg.url);
  nats = await ChaosNats.create(dir, logger);
  writeFileSync(join(dir, "nats.port"), String(nats.port));
  log(`nats on port ${nats.port}${typeof disk === "string" ? "" : `, its store on a ${disk.sizeMb} MB tmpfs`}`);
  await receiver.start();
  platform = await Platform.create(pg.url, nats.url);
  const opened = createDb({ url: pg.url, poolMax: 4, statementTimeoutMs: 60_000, applicationName: "chaos" });
  opened.pool.on("error", () => undefined);
  db = opened.db;
  const p = platform;
  await Promise.all([p.start("api"), p.start("proofs"), p.start("pipeline")]);
  log(`platform up: api ${platform.apiOrigin}, proofs ${platform.proofsOrigin}`);
  const ctx: Ctx = { short, pg, nats, disk, platform, receiver, db, log };
  for (const scenario of selected) {
    log(`${scenario.name}: ${scenario.title}`);
    const run = new Run();
    let timedOut = false;
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        scenario.run(ctx, run),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`did not finish within ${SCENARIO_LIMIT_MS / 1000} s`));
          }, SCENARIO_LIMIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (err) {
      run.failures.push(`the scenario failed: ${(err as Error).stack ?? String(err)}`);
    }
    const result: Result = {
      name: scenario.name,
      title: scenario.title,
      passed: run.failures.length === 0,
      ms: Date.now() - run.startedAt,
      figures: run.figures,
      extra: run.extra,
      failures: run.failures,
      notes: run.notes,
      ...(run.skipped ? { skipped: true } : {}),
    };
    results.push(result);
    log(`${scenario.name}: ${result.skipped ? "skipped" : result.passed ? "pass" : "FAIL"} in ${(result.ms / 1000).toFixed(1)} s${result.failures.length ? `\n  ${result.failures.join("\n  ")}` : ""}`);
    if (timedOut) break;
  }
} catch (err) {
  log(`the suite failed: ${(err as Error).stack ?? String(err)}`);
  status = 1;
} finally {
  const header = `chaos ${short ? "--short" : "(full)"}, ${new Date().toISOString()}, ${cpus().length} cores, ${((Date.now() - t0) / 1000).toFixed(0)} s`;
  process.stdout.write(`\n${formatReport(results, header)}\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ short, ms: Date.now() - t0, results }, null, 2));
  await platform?.stop().catch(() => undefined);
  await db?.destroy().catch(() => undefined);
  await receiver.stop().catch(() => undefined);
  await nats?.stop().catch(() => undefined);
  await pg?.stop().catch((err: unknown) => log(`postgres did not stop: ${(err as Error).message}`));
  if (typeof disk !== "string") await disk.unmount();
  await cleanLeftovers(dir);
}
if (results.some((r) => !r.passed) || results.length < selected.length) status = 1;
process.exit(status);

/**
 * Peer phase of the pipeline benchmark: the DIY alternative (../shared/peers/bullmq-baseline:
 * fastify + Postgres + BullMQ on Redis, no ledger, no proofs) and Custody, driven by the same
 * generator (../shared/peers/load.mjs: batches of `--peer-batch` (100) events to
 * POST /api/v2/events/batch, as fast as it goes for `--peer-seconds`, one webhook to its own
 * receiver), alternated `--peer-rounds` times in one benchmark run (odd rounds: peer first).
 *
 * The peer runs exactly as its README says (`./run.sh SECONDS BATCH`): its own Redis, a fresh
 * schema, its API and worker, a 4 s warm-up, a wait for an idle machine, load.mjs, a settle, CPU
 * per process group from /proc into cpu.json. Only its environment is ours: free ports, a database
 * of this run (dropped at the end), and a temporary RUN_DIR. Its node_modules are installed once
 * (`npm ci`) when missing; nothing else in that directory is written.
 *
 * Custody gets the same sequence against the running platform, under a fresh tenant per round
 * (so earlier rounds' webhooks, whose receivers are gone, and the bench's own `*` endpoints get
 * none of the load): the same warm-up (see warmCustody), the peer's src/idle.mjs, load.mjs,
 * src/idle.mjs to settle, and the benchmark's /proc probes over the same window (before load.mjs
 * → after the settle).
 * Platform CPU per delivery: the peer's API + worker + Redis + Postgres backends of its database;
 * Custody's API + pipeline + Postgres backends of its database + nats-server.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { request } from "undici";
import { dropDatabase } from "@custody/db/testing";
import { createTenant } from "@custody/tenancy";
import { CpuMeter, type CpuSnapshot } from "./pipeline-probes.js";
import { caughtUp, freePort, log, median, round1, round2, sleep, type PhaseContext } from "./pipeline-support.js";

/** One line of load.mjs. */
interface LoadResult {
  accepted: number;
  ingestErrors: number;
  ingestPerSec: number;
  delivered: number;
  deliveredPerSec: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  bareCeilingPerSec: number;
  ratio: number;
  error?: string;
}

interface RunResult {
  who: "peer" | "custody";
  load: LoadResult;
  /** Platform CPU ms per delivery (see the header), and the machine's busy ms per delivery over the same window. */
  platformMsPerDelivery: number;
  machineMsPerDelivery: number;
  /** load.mjs's own CPU (user + system, from /usr/bin/time) per delivery: its bare-ceiling burst, its batches and its receiver. */
  loadMsPerDelivery: number;
  /** CPU ms by process group over the window. */
  cpuMs: Record<string, number>;
  /** How long the run waited for an idle machine before the load, and how busy the machine was then (%). */
  idleWaitMs: number;
  idleBusyPct: number;
  /** The settle after the load (until the machine is idle, at least 5 s, at most 120 s), and the CPU window's length. */
  settleMs: number;
  windowMs: number;
  /** Deliveries by status in the platform's database after the settle. */
  statuses: Record<string, number>;
  /** CPU of the other platform while this one ran (% of a core): Custody sits idle while the peer runs. */
  otherPlatformPct?: number;
}

/** Runs a command to its end; stdout, and the whole output for errors. */
function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const timer = setTimeout(() => {
      log(`${cmd} ${args.join(" ")}: no end after ${opts.timeoutMs / 1000} s; stopping it (pid ${child.pid})`);
      child.kill("SIGTERM");
    }, opts.timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, output });
    });
  });
}

/** The CPU ms `/usr/bin/time -f '%U %S'` wrote to `file`. */
async function timedCpuMs(file: string): Promise<number> {
  const [user, sys] = (await readFile(file, "utf8")).trim().split("\n").pop()!.split(" ").map(Number);
  return ((user ?? NaN) + (sys ?? NaN)) * 1000;
}

const lastJsonLine = <T>(text: string, what: string): T => {
  const line = text
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .pop();
  if (line === undefined) throw new Error(`${what}: no JSON line in its output:\n${text.slice(-2000)}`);
  return JSON.parse(line) as T;
};

async function ensureInstalled(peerDir: string): Promise<void> {
  if (!existsSync(join(peerDir, "run.sh"))) throw new Error(`no peer at ${peerDir} (--peer-dir)`);
  if ((await run("sh", ["-c", "command -v redis-server"], { cwd: peerDir, timeoutMs: 10_000 })).code !== 0) throw new Error("the peer needs redis-server on PATH (Debian's redis-server)");
  if (existsSync(join(peerDir, "node_modules"))) return;
  log(`peer: installing its node_modules (npm ci in ${peerDir})`);
  const r = await run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: peerDir, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`npm ci in ${peerDir} failed:\n${r.output.slice(-3000)}`);
}

async function statusesOf(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url, application_name: "bench-peer-counters" });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status");
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    await client.end();
  }
}

export async function peerPhase(ctx: PhaseContext): Promise<void> {
  const { opts, figures } = ctx;
  const peerDir = opts.peerDir;
  const loadMjs = resolve(peerDir, "../load.mjs");
  await ensureInstalled(peerDir);
  if (!(await caughtUp(ctx, 60_000))) log("peer phase: earlier phases' deliveries are still arriving; starting anyway");

  const tmp = await mkdtemp(join(tmpdir(), "custody-bench-peer-"));
  const peerUrl = new URL(ctx.t.url);
  peerUrl.pathname = `/custody_bench_peer_${randomBytes(5).toString("hex")}`;
  const peerDb = peerUrl.pathname.slice(1);
  const idlePct = String(opts.peerIdlePct);
  /** SECONDS BATCH RATE, for run.sh and load.mjs alike. */
  const loadArgs = [opts.peerSeconds, opts.peerBatch, opts.peerRate].map(String);
  const platformGroups = (label: string) => label === "api" || label.startsWith("pipeline") || label === "postgres (this database's backends)" || label === "nats-server";
  const custodyPct = (a: CpuSnapshot, b: CpuSnapshot) => {
    const { perGroup, wallMs } = CpuMeter.msBetween(a, b);
    return Math.round(
      (Object.entries(perGroup)
        .filter(([k]) => platformGroups(k))
        .reduce((s, [, v]) => s + v, 0) /
        wallMs) *
        100,
    );
  };

  async function runPeer(round: number): Promise<RunResult> {
    const runDir = join(tmp, `peer-${round}`);
    const env = {
      ...process.env,
      PEER_PG_URL: peerUrl.toString(),
      PEER_REDIS_PORT: String(await freePort()),
      PEER_API_PORT: String(await freePort()),
      RUN_DIR: runDir,
      REDIS_DIR: join(tmp, `redis-${round}`),
      IDLE_PCT: idlePct,
      LOAD: loadMjs,
    };
    log(`peer round ${round}: bullmq-baseline (./run.sh ${loadArgs.join(" ")}; Redis :${env.PEER_REDIS_PORT}, API :${env.PEER_API_PORT}, database ${peerDb})`);
    const c0 = ctx.cpu.snapshot();
    const r = await run(join(peerDir, "run.sh"), loadArgs, { cwd: peerDir, env, timeoutMs: 900_000 });
    const c1 = ctx.cpu.snapshot();
    if (r.code !== 0) {
      // run.sh stops what it started on exit; should it have been killed, stop them by their pids.
      const pids = await readFile(join(runDir, "pids"), "utf8").catch(() => "");
      for (const m of pids.matchAll(/=(\d+)/g)) {
        try {
          process.kill(Number(m[1]), "SIGTERM");
        } catch {
          // gone already
        }
      }
      throw new Error(`the peer's run.sh failed (exit ${r.code}):\n${r.output.slice(-3000)}`);
    }
    const load = lastJsonLine<LoadResult>(await readFile(join(runDir, "load.json"), "utf8"), "peer load.mjs");
    const cpu = JSON.parse(await readFile(join(runDir, "cpu.json"), "utf8")) as { cpuMs: Record<string, number>; wallMs: number };
    const idle = JSON.parse(await readFile(join(runDir, "idle-before.json"), "utf8")) as { waitedMs: number; lastBusyPct: number };
    const settle = JSON.parse(await readFile(join(runDir, "settle.json"), "utf8")) as { waitedMs: number };
    const platform = ["api", "worker", "redis", `pg-db-${peerDb}`].reduce((s, g) => s + (cpu.cpuMs[g] ?? 0), 0);
    const delivered = Math.max(1, load.delivered);
    return {
      who: "peer",
      load,
      platformMsPerDelivery: platform / delivered,
      machineMsPerDelivery: (cpu.cpuMs["machine-busy"] ?? NaN) / delivered,
      loadMsPerDelivery: (await timedCpuMs(join(runDir, "loadgen.time"))) / delivered,
      cpuMs: cpu.cpuMs,
      idleWaitMs: idle.waitedMs,
      idleBusyPct: idle.lastBusyPct,
      settleMs: settle.waitedMs,
      windowMs: cpu.wallMs,
      statuses: await statusesOf(peerUrl.toString()),
      otherPlatformPct: custodyPct(c0, c1),
    };
  }

  /**
   * The peer's warm-up (src/warmup.mjs) against Custody, in this process: 4 s of 4 clients posting
   * batches of 50 and single events (5 ms apart) of `warmup.ping` to a webhook on `warmup.*`, then
   * a wait for every delivery. warmup.mjs itself cannot do it here: it counts a batch as sent only
   * on 201, Custody answers a batch 200 (one status per event), so it would not wait and would
   * close its receiver under deliveries still coming (left retrying into the measured run). The
   * webhook points at the benchmark's receiver, which verifies each signature.
   */
  async function warmCustody(apiKey: string, round: number): Promise<void> {
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    const post = async (path: string, body: unknown) => {
      const res = await request(`${ctx.origin}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
    };
    await post("/api/v2/event-types", { name: "warmup.ping", description: "warm-up" });
    const path = `/peer-warmup-${round}`;
    const hook = await post("/api/v2/webhooks", { url: `${ctx.receiverBase}${path}`, subscriptions: ["warmup.*"] });
    if (hook.status >= 300) throw new Error(`Custody refused the warm-up webhook: ${hook.status} ${JSON.stringify(hook.json)}`);
    ctx.receiver.send({ secrets: { [path]: hook.json.secret as string } });
    const pad = "x".repeat(900);
    const end = performance.now() + 4_000;
    let accepted = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        while (performance.now() < end) {
          const n = i % 2 === 1 ? 1 : 50;
          const r = await post("/api/v2/events/batch", { events: Array.from({ length: n }, () => ({ type: "warmup.ping", data: { t: Date.now(), pad } })) });
          const results = (r.json.results ?? []) as Array<{ status: number }>;
          accepted += results.filter((x) => x.status === 201).length;
          if (n === 1) await sleep(5);
        }
      }),
    );
    ctx.expect(accepted);
    if (!(await caughtUp(ctx, 60_000))) log(`peer round ${round}: Custody's warm-up deliveries not all in after 60 s; going on`);
  }

  async function runCustody(round: number): Promise<RunResult> {
    const tenant = await createTenant(ctx.t.db, `Peer comparison ${round}`);
    const node = (script: string, args: string[], timeoutMs: number) => run(process.execPath, [script, ...args], { cwd: peerDir, timeoutMs });
    log(`peer round ${round}: Custody (load.mjs ${loadArgs.join(" ")}, tenant ${tenant.tenantId})`);
    await warmCustody(tenant.apiKey, round);
    const idle = lastJsonLine<{ waitedMs: number; lastBusyPct: number }>((await node(join(peerDir, "src/idle.mjs"), [idlePct, "3000", "300000"], 320_000)).stdout, "idle.mjs");
    const c0 = ctx.cpu.snapshot();
    // Timed as run.sh times it for the peer.
    const loadTime = join(tmp, `custody-loadgen-${round}.time`);
    const l = await run("/usr/bin/time", ["-f", "%U %S", "-o", loadTime, process.execPath, loadMjs, ctx.origin, tenant.apiKey, ...loadArgs], { cwd: peerDir, timeoutMs: (opts.peerSeconds + 300) * 1000 });
    const load = lastJsonLine<LoadResult>(l.stdout, "load.mjs against Custody");
    if (load.error !== undefined) throw new Error(`load.mjs against Custody: ${JSON.stringify(load)}`);
    const settle = lastJsonLine<{ waitedMs: number }>((await node(join(peerDir, "src/idle.mjs"), [idlePct, "3000", "120000", "5000"], 140_000)).stdout, "idle.mjs");
    const c2 = ctx.cpu.snapshot();
    const { perGroup, machineBusyMs, wallMs } = CpuMeter.msBetween(c0, c2);
    const platform = Object.entries(perGroup)
      .filter(([k]) => platformGroups(k))
      .reduce((s, [, v]) => s + v, 0);
    // load.mjs does not look at its event type POST: check that Custody took it.
    const type = await request(`${ctx.origin}/api/v2/event-types/load.x.final`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    await type.body.dump();
    if (type.statusCode !== 200) log(`peer round ${round}: Custody has no event type load.x.final after load.mjs (GET → ${type.statusCode})`);
    figures["peer: Custody took load.mjs's event type (1 yes, 0 no)"] = type.statusCode === 200 ? 1 : 0;
    const { rows } = await ctx.admin.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM deliveries WHERE tenant_id = $1 GROUP BY status ORDER BY status", [tenant.tenantId]);
    const delivered = Math.max(1, load.delivered);
    return {
      who: "custody",
      load,
      platformMsPerDelivery: platform / delivered,
      machineMsPerDelivery: machineBusyMs / delivered,
      loadMsPerDelivery: (await timedCpuMs(loadTime)) / delivered,
      cpuMs: Object.fromEntries(Object.entries(perGroup).map(([k, v]) => [k, Math.round(v)])),
      idleWaitMs: idle.waitedMs,
      idleBusyPct: idle.lastBusyPct,
      settleMs: settle.waitedMs,
      windowMs: wallMs,
      statuses: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    };
  }

  const runs: RunResult[] = [];
  try {
    for (let round = 1; round <= opts.peerRounds; round++) {
      const order = round % 2 === 1 ? [runPeer, runCustody] : [runCustody, runPeer];
      for (const f of order) runs.push(await f(round));
    }
  } finally {
    await dropDatabase(peerUrl.toString()).catch((err: Error) => log(`could not drop ${peerDb}: ${err.message}`));
    await rm(tmp, { recursive: true, force: true });
  }

  const side = (who: RunResult["who"]) => {
    const rs = runs.filter((r) => r.who === who);
    const med = (f: (r: RunResult) => number | null) => median(rs.map(f).filter((x): x is number => x !== null && Number.isFinite(x)));
    return {
      deliveredPerSec: med((r) => r.load.deliveredPerSec),
      ratio: med((r) => r.load.ratio),
      p50: med((r) => r.load.p50),
      p99: med((r) => r.load.p99),
      platformMs: med((r) => r.platformMsPerDelivery),
      machineMs: med((r) => r.machineMsPerDelivery),
      loadMs: med((r) => r.loadMsPerDelivery),
      lost: rs.reduce((s, r) => s + r.load.accepted - r.load.delivered, 0),
      busiestStart: Math.max(...rs.map((r) => r.idleBusyPct)),
      // The settle gives up after 120 s: the machine never went idle after the load.
      settleLimited: rs.filter((r) => r.settleMs >= 119_000).length,
      ingestErrors: rs.reduce((s, r) => s + r.load.ingestErrors, 0),
    };
  };
  const peer = side("peer");
  const custody = side("custody");
  const of = opts.peerRounds === 1 ? "" : ` (median of ${opts.peerRounds})`;
  for (const [name, s] of [
    ["bullmq-baseline", peer],
    ["Custody", custody],
  ] as const) {
    figures[`peer: ${name} deliveries/s${of}`] = Math.round(s.deliveredPerSec);
    figures[`peer: ${name} ÷ load.mjs bare ceiling`] = Math.round(s.ratio * 1000) / 1000;
    figures[`peer: ${name} ingest→delivered p50 (ms)`] = s.p50;
    figures[`peer: ${name} ingest→delivered p99 (ms)`] = s.p99;
    figures[`peer: ${name} platform CPU ms per delivery`] = round2(s.platformMs);
    figures[`peer: ${name} machine busy CPU ms per delivery (incl. load.mjs)`] = round2(s.machineMs);
    figures[`peer: ${name} load.mjs's own CPU ms per delivery`] = round2(s.loadMs);
    figures[`peer: ${name} accepted − delivered`] = s.lost;
    figures[`peer: ${name} ingest requests failed`] = s.ingestErrors;
    // Above --peer-idle-pct, the wait for an idle machine timed out: the run shared the machine.
    figures[`peer: ${name} machine busy as its load started, worst run (%)`] = s.busiestStart;
    figures[`peer: ${name} runs whose settle ran to its 120 s limit`] = s.settleLimited;
  }
  figures["peer: Custody ÷ bullmq-baseline deliveries/s"] = round2(custody.deliveredPerSec / peer.deliveredPerSec);
  figures["peer: Custody ÷ bullmq-baseline platform CPU per delivery"] = round2(custody.platformMs / peer.platformMs);

  const cell = (x: number | null) => (x === null ? "–" : x.toLocaleString("en-US"));
  const rate = opts.peerRate === 0 ? "as fast as it goes" : `${opts.peerRate} events/s`;
  ctx.section(`peer: bullmq-baseline and Custody driven by load.mjs (${opts.peerSeconds} s, batches of ${opts.peerBatch}, ${rate}, alternated, ${opts.peerRounds} round(s))`, [
    "| round | platform | accepted | delivered | deliveries/s | ÷ bare ceiling (bare req/s) | p50 / p95 / p99 ms | platform CPU ms per delivery | machine busy ms per delivery | load.mjs ms per delivery | waited for idle before | settle after | CPU window | deliveries by status |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map((r, i) =>
      [
        "",
        Math.floor(i / 2) + 1,
        r.who === "peer" ? "bullmq-baseline" : "Custody",
        cell(r.load.accepted),
        cell(r.load.delivered),
        cell(r.load.deliveredPerSec),
        `${r.load.ratio} (${cell(r.load.bareCeilingPerSec)})`,
        `${cell(r.load.p50)} / ${cell(r.load.p95)} / ${cell(r.load.p99)}`,
        r.platformMsPerDelivery.toFixed(2),
        r.machineMsPerDelivery.toFixed(2),
        r.loadMsPerDelivery.toFixed(2),
        `${round1(r.idleWaitMs / 1000)} s (${r.idleBusyPct} % busy)`,
        `${round1(r.settleMs / 1000)} s`,
        `${round1(r.windowMs / 1000)} s`,
        JSON.stringify(r.statuses).replace(/"/g, ""),
        "",
      ]
        .join(" | ")
        .trim(),
    ),
    "",
    "CPU ms by process group over each run's window (before load.mjs → after the settle):",
    "",
    ...runs.map(
      (r) => `- ${r.who === "peer" ? "bullmq-baseline" : "Custody"}: ${JSON.stringify(r.cpuMs)}${r.otherPlatformPct === undefined ? "" : `; Custody's idle platform meanwhile: ${r.otherPlatformPct} % of a core`}`,
    ),
  ]);
}

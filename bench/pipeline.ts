/**
 * Pipeline benchmark: the whole platform, over real HTTP, against a local receiver that verifies
 * every delivery's Standard Webhooks signature; it ends with the targets of issue 9, each with its
 * figure and met / missed (bench/targets.ts).
 *
 * Processes (everything on this machine's cores, as in production on one box): the API
 * (services/api/src/main.ts) and the pipeline (services/pipeline/src/main.ts, one process per
 * `--pipeline` group) are spawned as `npm start` would; the receiver (bench/pipeline-receiver.ts)
 * is forked with an IPC channel; the load generator (undici) runs in this process. Each run has
 * its own database (createTestDatabase) and NATS prefix.
 *
 * Phases, in this order (`--phases=` picks some; default all):
 *  1. throughput — closed-loop POST /api/v2/events (1 KiB `data`) for `--seconds` (default 60) to
 *     `--endpoints` endpoints subscribed to `*`; the generator holds back when more than
 *     `--backlog` accepted events are still undelivered, so the figure is what the platform
 *     sustains end to end (not how long a queue it can build). Then a drain; lost = events ×
 *     endpoints − distinct deliveries received. Also CPU per unit of work, bytes and WAL per delivery.
 *  2. gentle — open loop, single events at `--gentle-rate` (100) events/s for `--latency-seconds`
 *     (20): ingest→delivered = receive time (receiver process) − the instant the POST was sent
 *     (bench/pipeline-latency.ts).
 *  3. latency — the same at `--rate` (1,000) events/s; stops early, and says so, past 3 s of backlog.
 *  4. peer — the DIY BullMQ peer (../shared/peers/bullmq-baseline, its own run.sh) and Custody,
 *     both driven by ../shared/peers/load.mjs (batches of `--peer-batch` 100, `--peer-seconds`),
 *     alternated `--peer-rounds` times (bench/pipeline-peer.ts).
 *  5. ingest — the pipeline stopped: `--concurrency` (64) clients POST single events for
 *     `--ingest-seconds`; events/s and CPU per event of the API and its Postgres backends
 *     (bench/pipeline-ingest.ts).
 *  6. ceiling — with the platform stopped, undici POSTs the same bodies with the same header set
 *     (freshly signed) to the same receiver for `--ceiling-seconds` at `--ceiling-concurrency` in flight.
 * At the end: live and dead tuples per table (this machine's Postgres runs without autovacuum).
 *
 * Flags (after `npm run bench -- pipeline`; parsed in bench/pipeline-options.ts): --seconds=N (or
 * BENCH_SECONDS=N; ingest, peer and ceiling run min(N, 20) s unless given --ingest-seconds,
 * --peer-seconds, --ceiling-seconds), --latency-seconds=N, --rate=N, --gentle-rate=N,
 * --endpoints=N, --concurrency=N, --batch=N (events per POST /events/batch in the throughput
 * phase; 1 = POST /events), --backlog=N, --pipeline=all | stages/stages/… (one process per `/`
 * group), --env=K=V,K=V (pipeline processes), --api-env=K=V,…, --profile (node --cpu-prof on API,
 * pipeline and receiver, summarised), --phases=throughput,gentle,latency,peer,ingest,ceiling,
 * --ceiling-concurrency=N, --peer-rounds=N, --peer-batch=N, --peer-rate=N (load.mjs's RATE, 0 = as
 * fast as it goes), --peer-idle-pct=P, --peer-dir=PATH,
 * --wait-idle=S (wait up to S s, default 30, for other processes on this shared machine to go
 * quiet), --pg-log=PATH (count and time every statement: diagnostic, slower).
 * A report with the per-second series, CPU, Postgres activity, profiles and the targets goes to
 * bench/results/pipeline-report.md.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdir, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import pg from "pg";
import { Agent, request } from "undici";
import { connectBus, deleteTopology } from "@custody/bus";
import { loadConfig } from "@custody/config";
import { createTestDatabase } from "@custody/db/testing";
import { createTenant } from "@custody/tenancy";
import { SERVICE_NODE_FLAGS } from "../services/cli/src/supervisor.js";
import { spawnTs, waitFor, type Spawned } from "../test/support/processes.js";
import type { ReceiverSample } from "./pipeline-receiver.js";
import {
  counterDelta,
  CpuMeter,
  PgBackendMeter,
  statementsFromLog,
  type CpuGroup,
  monotonicUs,
  pgCounters,
  PgActivitySampler,
  summariseProfile,
  tableTuples,
  type CpuSnapshot,
  type PgCounters,
  type ProfileSummary,
} from "./pipeline-probes.js";
import { ingestPhase } from "./pipeline-ingest.js";
import { latencyPhase } from "./pipeline-latency.js";
import { parseOptions } from "./pipeline-options.js";
import { peerPhase } from "./pipeline-peer.js";
import { freePort, log, ReceiverProcess, sleep, stopProcess, type PhaseContext, type Published } from "./pipeline-support.js";
import { progress, type BenchResult } from "./report.js";
import { readAuditFigure, targetsMarkdown, targetsOf } from "./targets.js";

const DATA_BYTES = 1024;
const EVENT_TYPE = "bench.load";

export async function benchPipeline(argv: readonly string[] = process.argv.slice(2)): Promise<BenchResult> {
  const opts = parseOptions(argv);
  const runStart = performance.now();
  const t = await createTestDatabase("bench_pipeline");
  // Diagnostic: every statement of this database (and only this one) logged with its duration.
  if (opts.pgLog !== undefined) await t.pool.query(`ALTER DATABASE ${t.name} SET log_min_duration_statement = 0`);
  const prefix = `b${randomBytes(5).toString("hex")}`;
  const masterKey = randomBytes(32).toString("base64");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const profileDir = new URL(`./results/profiles/pipeline-${stamp}/`, import.meta.url).pathname;
  const profArgs = (name: string) => (opts.profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}${name}`] : []);
  if (opts.profile) await mkdir(profileDir, { recursive: true });

  const children: Array<{ label: string; p: Spawned }> = [];
  let receiver: ReceiverProcess | undefined;
  const report: string[] = [];
  const figures: Record<string, number> = {};
  /** Monotonic windows of the phases, to cut the CPU profiles to them. */
  const windows: Record<string, { fromUs: number; toUs: number }> = {};
  /** Wall time of each phase (the whole run should stay within ~6 minutes on a quiet machine). */
  const timed = async (phase: string, f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    figures[`time: ${phase} (s)`] = Math.round((performance.now() - t0) / 1000);
  };
  const section = (title: string, lines: string[]) => {
    report.push(`\n### ${title}\n`, ...lines);
    log(`\n${title}\n${lines.join("\n")}`);
  };
  const config = {
    ...opts,
    phases: [...opts.phases],
    cpus: cpus().length,
  };
  report.push(`# pipeline benchmark, ${new Date().toISOString()}\n`, "```json", JSON.stringify(config, null, 2), "```");

  try {
    // --- receiver ---------------------------------------------------------------------------
    receiver = new ReceiverProcess(profArgs("receiver"));
    const receiverPort = await receiver.next((m) => ("port" in m ? m.port : undefined));
    const receiverBase = `http://127.0.0.1:${receiverPort}`;

    // --- API ------------------------------------------------------------------------------------
    const apiPort = await freePort();
    const api = spawnTs(
      "services/api/src/main.ts",
      [],
      {
        DATABASE_URL: t.url,
        CUSTODY_API_HOST: "127.0.0.1",
        CUSTODY_API_PORT: String(apiPort),
        CUSTODY_MASTER_KEY: masterKey,
        CUSTODY_NATS_PREFIX: prefix,
        CUSTODY_ALLOW_LOOPBACK_TARGETS: "true",
        CUSTODY_INGEST_RATE_PER_SECOND: "1000000",
        CUSTODY_INGEST_BURST: "1000000",
        ...opts.apiEnv,
      },
      [...SERVICE_NODE_FLAGS, ...profArgs("api")],
    );
    children.push({ label: "api", p: api });
    const origin = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      async () => {
        if (api.child.exitCode !== null) throw new Error(`the API exited:\n${api.output()}`);
        return (
          (await request(`${origin}/readyz`).then(
            (r) => {
              void r.body.dump();
              return r.statusCode;
            },
            () => 0,
          )) === 200
        );
      },
      60_000,
      "the API",
    );

    // --- tenant, event type, endpoints ----------------------------------------------------------
    const tenant = await createTenant(t.db, "Bench");
    const headers = { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" };
    const admin = async (path: string, body: unknown) => {
      const res = await request(`${origin}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      const json = (await res.body.json()) as Record<string, unknown>;
      if (res.statusCode >= 300) throw new Error(`POST ${path}: ${res.statusCode} ${JSON.stringify(json)}`);
      return json;
    };
    await admin("/api/v2/event-types", { name: EVENT_TYPE, description: "benchmark load" });
    const secrets: Record<string, string> = {};
    for (let i = 0; i < opts.endpoints; i++) {
      const created = await admin("/api/v2/webhooks", { url: `${receiverBase}/e${i}`, subscriptions: ["*"] });
      secrets[`/e${i}`] = created.secret as string;
    }
    const ceilingSecret = `whsec_${randomBytes(32).toString("base64")}`;
    secrets["/ceiling"] = ceilingSecret;
    receiver.send({ secrets });

    // --- pipeline -------------------------------------------------------------------------------
    const pipelineEnv = {
      DATABASE_URL: t.url,
      CUSTODY_NATS_PREFIX: prefix,
      CUSTODY_MASTER_KEY: masterKey,
      CUSTODY_ALLOW_LOOPBACK_TARGETS: "true",
      ...opts.env,
    };
    // The ingest phase alone needs no pipeline: it is not started at all. (The ceiling needs one
    // delivered body, from the warm-up, to copy.)
    const withPipeline = (["throughput", "gentle", "latency", "peer", "ceiling"] as const).some((p) => opts.phases.has(p));
    if (withPipeline) {
      opts.pipeline.forEach((stages, i) => {
        const label = opts.pipeline.length === 1 ? "pipeline" : `pipeline[${stages}]`;
        children.push({ label, p: spawnTs("services/pipeline/src/main.ts", [], { ...pipelineEnv, CUSTODY_PIPELINE_STAGES: stages }, [...SERVICE_NODE_FLAGS, ...profArgs(`pipeline-${i}`)]) });
      });
    }

    // --- load generator -------------------------------------------------------------------------
    const pad = (n: number) => randomBytes(n).toString("base64url").slice(0, n);
    const datas = Array.from({ length: 64 }, () => `{"pad":"${pad(DATA_BYTES - 10)}"}`);
    if (datas[0]!.length !== DATA_BYTES) throw new Error(`data is ${datas[0]!.length} bytes, not ${DATA_BYTES}`);
    const eventJson = (i: number) => `{"type":"${EVENT_TYPE}","data":${datas[i % datas.length]}}`;
    const agent = new Agent({ connections: Math.max(opts.concurrency, 256), pipelining: 1, keepAliveTimeout: 60_000 });
    let seq = 0;
    /** One POST of `n` events; the ids accepted (201) and the statuses of the others. */
    async function publish(n: number): Promise<Published> {
      const single = n === 1;
      const body = single ? eventJson(seq++) : `{"events":[${Array.from({ length: n }, () => eventJson(seq++)).join(",")}]}`;
      const res = await request(`${origin}/api/v2/events${single ? "" : "/batch"}`, { method: "POST", headers, body, dispatcher: agent });
      const text = await res.body.text();
      if (single) return res.statusCode === 201 ? { ids: [(JSON.parse(text) as { id: string }).id], failed: [] } : { ids: [], failed: [res.statusCode] };
      if (res.statusCode !== 200) return { ids: [], failed: Array.from({ length: n }, () => res.statusCode) };
      const { results } = JSON.parse(text) as { results: Array<{ status: number; event?: { id: string } }> };
      return { ids: results.filter((r) => r.status === 201).map((r) => r.event!.id), failed: results.filter((r) => r.status !== 201).map((r) => r.status) };
    }

    // Warm-up: proves the path end to end and lets the JIT settle.
    const warmEvents = 400;
    for (let i = 0; i < warmEvents / 20; i++) await Promise.all(Array.from({ length: 20 }, () => publish(1)));
    if (withPipeline) await waitFor(async () => receiver!.counts.delivered >= warmEvents * opts.endpoints, 120_000, "warm-up deliveries");
    let expected = withPipeline ? warmEvents * opts.endpoints : 0;

    const groups: Record<string, CpuGroup> = {
      "load generator (bench)": [process.pid],
      receiver: [receiver.child.pid!],
      ...Object.fromEntries(children.map((c) => [c.label, [c.p.child.pid!]])),
      "postgres (this database's backends)": { comm: "postgres", cmdline: new RegExp(`: \\S+ ${t.name} `) },
      "postgres (shared: wal writer, checkpointer, …)": { comm: "postgres", cmdline: /^postgres: \S+: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver)/ },
      "nats-server": { comm: "nats-server" },
      // This VM's kernel runs DAMON-based reclaim: a kdamond thread that takes a core for 13–29 ms
      // every 0.544 s, most of the 100 events/s tail (docs/benchmarks.md, twelfth session).
      "kernel: kdamond (the VM's memory reclaim)": { comm: /^kdamond\.\d+$/ },
    };
    const cpu = new CpuMeter(groups);
    // The machine is shared with other engineers' test runs: wait (up to --wait-idle s) for a quiet moment.
    {
      const deadline = performance.now() + opts.waitIdle * 1000;
      for (;;) {
        const a = cpu.snapshot();
        await sleep(2_000);
        const others = CpuMeter.between(a, cpu.snapshot()).perGroup["other processes (not this benchmark)"]!;
        if (others <= 15 || performance.now() > deadline) {
          figures["other processes' CPU before start (% of a core)"] = others;
          if (others > 15) log(`the machine is busy with other work (${others} % of a core); measuring anyway`);
          break;
        }
        log(`waiting for a quiet machine: other processes use ${others} % of a core`);
      }
    }
    const cpuLines = (a: CpuSnapshot, b: CpuSnapshot, prefixLabel: string) => {
      const { perGroup, machineBusy } = CpuMeter.between(a, b);
      figures[`${prefixLabel} cpu: machine busy (% of ${config.cpus} cores)`] = machineBusy;
      const lines = [`| process | % of one core |`, `| --- | --- |`];
      for (const [label, pct] of Object.entries(perGroup)) {
        figures[`${prefixLabel} cpu: ${label} (% of a core)`] = pct;
        lines.push(`| ${label} | ${pct} |`);
      }
      lines.push(`| **machine busy** | **${machineBusy} % of ${config.cpus} cores** |`);
      return lines;
    };
    const admin2 = new pg.Client({ connectionString: t.url, application_name: "bench-counters" });
    // A phase that throws leaves it connected when the database is dropped (WITH FORCE): its
    // unhandled 'error' would end the process before the phase's own error is reported.
    admin2.on("error", () => undefined);
    await admin2.connect();
    const pgByClient = new PgBackendMeter(admin2, t.name, Number(new URL(t.url).port || 5432), new Map([[process.pid, "bench"], ...children.map((c): [number, string] => [c.p.child.pid!, c.label])]));
    const deliveredPerEvent = opts.endpoints;
    const ctx: PhaseContext = {
      opts,
      t,
      admin: admin2,
      origin,
      receiverBase,
      receiver,
      children,
      publish,
      cpu,
      pgByClient,
      cpuLines,
      figures,
      section,
      windows,
      expect: (add) => (expected += add),
    };

    // --- phase 1: throughput --------------------------------------------------------------------
    let throughputDeliveriesPerSecond = NaN;
    const throughputStart = performance.now();
    if (opts.phases.has("throughput")) {
      const seconds = opts.seconds;
      const warm = Math.min(5, seconds * 0.1);
      let accepted = 0;
      let stop = false;
      const failed = new Map<number, number>();
      const base = receiver.counts.delivered;
      const series: Array<{ s: number; accepted: number; delivered: number; capped: boolean }> = [];
      const bar = progress("throughput", seconds);
      const workers = Array.from({ length: opts.concurrency }, async () => {
        while (!stop) {
          if (accepted - (receiver!.counts.delivered - base) / deliveredPerEvent > opts.backlog) {
            await sleep(5);
            continue;
          }
          try {
            const r = await publish(opts.batch);
            accepted += r.ids.length;
            for (const s of r.failed) failed.set(s, (failed.get(s) ?? 0) + 1);
          } catch {
            failed.set(0, (failed.get(0) ?? 0) + 1);
          }
        }
      });
      const sampler = new PgActivitySampler(t.url, t.name, 50);
      const start = performance.now();
      let logFrom = 0;
      let steady: { at: number; accepted: number; delivered: number; cpu: CpuSnapshot; pg: PgCounters; us: number } | undefined;
      for (let s = 1; s <= seconds; s++) {
        await sleep(start + s * 1000 - performance.now());
        const delivered = receiver.counts.delivered - base;
        series.push({ s, accepted, delivered, capped: accepted - delivered / deliveredPerEvent > opts.backlog });
        bar.update(s);
        if (steady !== undefined) await pgByClient.tick();
        if (steady === undefined && s >= warm) {
          steady = { at: performance.now(), accepted, delivered, cpu: cpu.snapshot(), pg: await pgCounters(admin2, t.name), us: monotonicUs() };
          await pgByClient.start();
          if (opts.pgLog !== undefined) logFrom = (await stat(opts.pgLog)).size;
          await sampler.start();
        }
      }
      stop = true;
      await pgByClient.tick();
      const end = { at: performance.now(), accepted, delivered: receiver.counts.delivered - base, cpu: cpu.snapshot(), pg: await pgCounters(admin2, t.name), us: monotonicUs() };
      const logTo = opts.pgLog === undefined ? 0 : (await stat(opts.pgLog)).size;
      await sampler.stop();
      bar.stop();
      await Promise.all(workers);
      windows.throughput = { fromUs: steady!.us, toUs: end.us };
      const window = (end.at - steady!.at) / 1000;
      const eventsPerSecond = (end.accepted - steady!.accepted) / window;
      throughputDeliveriesPerSecond = (end.delivered - steady!.delivered) / window;
      const capped = series.filter((x) => x.s > warm && x.capped).length / Math.max(1, series.filter((x) => x.s > warm).length);
      // Worst 5 s of the steady window: "sustained" means no collapse in between.
      let worst5 = Infinity;
      for (let i = 0; i + 5 < series.length; i++) if (series[i]!.s >= warm) worst5 = Math.min(worst5, (series[i + 5]!.delivered - series[i]!.delivered) / 5);

      ctx.expect(accepted * opts.endpoints);
      const drainStart = performance.now();
      let last = -1;
      let lastChange = performance.now();
      while (receiver.counts.delivered < expected && performance.now() - lastChange < 10_000 && performance.now() - drainStart < 60_000) {
        if (receiver.counts.delivered !== last) {
          last = receiver.counts.delivered;
          lastChange = performance.now();
        }
        await sleep(100);
      }
      const drainSeconds = (performance.now() - drainStart) / 1000;
      const lost = expected - receiver.counts.delivered;
      const statuses = await admin2.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status");
      // Accepted (201) but not fanned out yet: no delivery row at all.
      const unfanned = await admin2.query<{ n: number }>("SELECT count(*)::int AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id)");
      // What each delivery costs Postgres in rows and bytes, table by table (after the drain: every row written).
      const tables = await admin2.query<{ table: string; ins: number; upd: number; hot: number; bytes: number }>(
        `SELECT relname AS table, n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot, pg_total_relation_size(relid)::float8 AS bytes
         FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd > 0 ORDER BY pg_total_relation_size(relid) DESC`,
      );
      const allDeliveries = receiver.counts.delivered;
      const totalBytes = tables.rows.reduce((sum, r) => sum + r.bytes, 0);
      const bytesPerDelivery = Math.round(totalBytes / Math.max(1, allDeliveries));
      section(`throughput: Postgres tables, whole run so far (${allDeliveries} deliveries)`, [
        "| table | rows inserted | rows updated (HOT) | size incl. indexes + TOAST | bytes per delivery |",
        "| --- | --- | --- | --- | --- |",
        ...tables.rows.map((r) => `| ${r.table} | ${r.ins} | ${r.upd} (${r.hot}) | ${Math.round(r.bytes / 1024)} KiB | ${Math.round(r.bytes / Math.max(1, allDeliveries))} |`),
      ]);

      figures["throughput: events/s accepted"] = Math.round(eventsPerSecond);
      figures["throughput: deliveries/s sustained"] = Math.round(throughputDeliveriesPerSecond);
      figures["throughput: deliveries/s, worst 5 s"] = Math.round(worst5);
      figures["throughput: generator held back by --backlog (% of s)"] = Math.round(capped * 100);
      figures["throughput: events accepted"] = accepted;
      figures["throughput: requests refused (non-201)"] = [...failed.values()].reduce((a, b) => a + b, 0);
      figures["throughput: drain after load (s)"] = Math.round(drainSeconds * 10) / 10;
      figures["throughput: lost (events × endpoints − delivered)"] = lost;
      figures["throughput: … of which still 'delivering' in Postgres"] = statuses.rows.find((r) => r.status === "delivering")?.n ?? 0;
      figures["throughput: … events accepted without any delivery row yet"] = unfanned.rows[0]!.n;

      const d = counterDelta(steady!.pg, end.pg);
      const delivs = end.delivered - steady!.delivered;
      figures["throughput pg: commits/s"] = Math.round(d.xact_commit / window);
      figures["throughput pg: bytes stored per delivery (tables + indexes)"] = bytesPerDelivery;
      figures["throughput pg: commits per delivery"] = Math.round((d.xact_commit / delivs) * 100) / 100;
      // pg_stat_wal is cluster-wide: on this shared server it includes other databases' writes.
      figures["throughput pg: WAL bytes per delivery (cluster-wide)"] = Math.round(d.wal_bytes / delivs);
      figures["throughput pg: WAL fsyncs/s (cluster-wide)"] = Math.round(d.wal_sync / window);
      section("throughput: per second", [
        "| s | accepted | delivered | capped |",
        "| --- | --- | --- | --- |",
        ...series.map((x, i) => `| ${x.s} | ${x.accepted - (series[i - 1]?.accepted ?? 0)} | ${x.delivered - (series[i - 1]?.delivered ?? 0)} | ${x.capped ? "yes" : ""} |`),
      ]);
      section(
        "throughput: deliveries by status after the drain",
        statuses.rows.map((r) => `- ${r.status}: ${r.n}`).concat(failed.size > 0 ? [`- refused requests by status: ${JSON.stringify(Object.fromEntries(failed))}`] : []),
      );
      section("throughput: CPU over the steady window", cpuLines(steady!.cpu, end.cpu, "throughput"));
      // CPU time per unit of work is what contention on this shared machine distorts least. The
      // ingest side (API process + the Postgres backends serving it) is charged per accepted
      // event, the delivery side (pipeline processes + their backends + NATS) per delivery, so a
      // backlog building or draining during the window does not skew either; the capacity of
      // idle cores is then cores × 1,000 ms/s ÷ (ingest ms per event ÷ endpoints + delivery ms per delivery).
      {
        const { perGroup } = CpuMeter.between(steady!.cpu, end.cpu);
        const pgClients = pgByClient.result();
        const ms = (pct: number, per: number) => ((pct / 100) * 1000) / Math.max(1e-9, per);
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        const apiNode = ms(perGroup.api ?? 0, eventsPerSecond);
        const apiPg = ms(sum(pgClients.filter((c) => c.label.startsWith("api ")).map((c) => c.pct)), eventsPerSecond);
        const pipeNode = ms(
          sum(
            Object.entries(perGroup)
              .filter(([k]) => k.startsWith("pipeline"))
              .map(([, v]) => v),
          ),
          throughputDeliveriesPerSecond,
        );
        const pipePg = ms(sum(pgClients.filter((c) => c.label.startsWith("pipeline")).map((c) => c.pct)), throughputDeliveriesPerSecond);
        const nats = ms(perGroup["nats-server"] ?? 0, throughputDeliveriesPerSecond);
        const gen = ms(perGroup["load generator (bench)"] ?? 0, eventsPerSecond);
        const recv = ms(perGroup.receiver ?? 0, throughputDeliveriesPerSecond);
        const perDelivery = (apiNode + apiPg) / opts.endpoints + pipeNode + pipePg + nats;
        const f2 = (x: number) => Math.round(x * 100) / 100;
        figures["throughput cost: API process, CPU ms per event"] = f2(apiNode);
        figures["throughput cost: Postgres for the API, CPU ms per event"] = f2(apiPg);
        figures["throughput cost: pipeline process(es), CPU ms per delivery"] = f2(pipeNode);
        figures["throughput cost: Postgres for the pipeline, CPU ms per delivery"] = f2(pipePg);
        figures["throughput cost: nats-server, CPU ms per delivery"] = f2(nats);
        figures["throughput cost: platform CPU ms per delivery"] = f2(perDelivery);
        figures[`throughput cost: deliveries/s that cost allows on ${config.cpus} idle cores`] = Math.round((config.cpus * 1000) / perDelivery);
        section("throughput: CPU cost per unit of work (steady window)", [
          "| component | CPU ms | per |",
          "| --- | --- | --- |",
          `| API process | ${apiNode.toFixed(2)} | accepted event |`,
          `| Postgres backends serving the API | ${apiPg.toFixed(2)} | accepted event |`,
          `| pipeline process(es) | ${pipeNode.toFixed(2)} | delivery |`,
          `| Postgres backends serving the pipeline | ${pipePg.toFixed(2)} | delivery |`,
          `| nats-server | ${nats.toFixed(2)} | delivery |`,
          `| **platform, per delivery (ingest ÷ ${opts.endpoints} endpoints + delivery side)** | **${perDelivery.toFixed(2)}** | delivery |`,
          `| load generator (undici) | ${gen.toFixed(2)} | event POSTed |`,
          `| receiver (node:http + standardwebhooks) | ${recv.toFixed(2)} | delivery |`,
        ]);
      }
      if (opts.pgLog !== undefined) {
        const fh = await open(opts.pgLog, "r");
        const buf = Buffer.alloc(logTo - logFrom);
        await fh.read(buf, 0, buf.length, logFrom);
        await fh.close();
        const stats = statementsFromLog(buf.toString("utf8"), t.name, (pid) => pgByClient.labels.get(pid) ?? `backend ${pid}`);
        const events = end.accepted - steady!.accepted;
        const delivs = end.delivered - steady!.delivered;
        const lines = ["| client | statements (round trips) | per accepted event | per delivery |", "| --- | --- | --- | --- |"];
        for (const [label, n] of [...stats.perClient.entries()].sort((a, b) => b[1] - a[1])) {
          lines.push(`| ${label} | ${n} | ${(n / Math.max(1, events)).toFixed(2)} | ${(n / Math.max(1, delivs)).toFixed(2)} |`);
          if (label.startsWith("api ")) figures["statements: API round trips per event"] = Math.round((n / Math.max(1, events)) * 100) / 100;
        }
        const pipelineStatements = [...stats.perClient.entries()].filter(([l]) => l.startsWith("pipeline")).reduce((a, [, n]) => a + n, 0);
        figures["statements: pipeline round trips per delivery"] = Math.round((pipelineStatements / Math.max(1, delivs)) * 100) / 100;
        section(`throughput: Postgres statements in the steady window (server log, log_min_duration_statement = 0: slower than a normal run)`, lines);
        section("throughput: statements by server time (parse + bind + execute), top 30", [
          "| ms | count | µs each | client · statement |",
          "| --- | --- | --- | --- |",
          ...[...stats.perStatement.entries()]
            .sort((a, b) => b[1].ms - a[1].ms)
            .slice(0, 30)
            .map(([k, v]) => `| ${Math.round(v.ms)} | ${v.count} | ${Math.round((v.ms / Math.max(1, v.count)) * 1000)} | ${k.replace(/\|/g, "·")} |`),
        ]);
      }
      section("throughput: Postgres CPU by client (backend → client socket owner · application_name), steady window", [
        "| client | % of one core |",
        "| --- | --- |",
        ...pgByClient.result().map((r) => `| ${r.label} | ${r.pct} |`),
      ]);
      section("throughput: Postgres counters over the steady window (xact_*, tup_*: this database; wal_*: the whole cluster)", [
        "```json",
        JSON.stringify({ ...d, perDelivery: Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round((v / delivs) * 100) / 100])) }, null, 2),
        "```",
      ]);
      section(`throughput: Postgres backends by state (pg_stat_activity sampled every 50 ms, ${sampler.samples} samples; value = average backends in that state)`, [
        "| avg backends | application · state · wait · statement |",
        "| --- | --- |",
        ...sampler.report().map((r) => `| ${r.avgBackends.toFixed(2)} | ${r.key.replace(/\|/g, "·")} |`),
      ]);
    }

    if (opts.phases.has("throughput")) figures["time: throughput (s)"] = Math.round((performance.now() - throughputStart) / 1000);

    // --- phases 2 and 3: latency at a gentle and at a high fixed rate ---------------------------
    if (opts.phases.has("gentle")) await timed("gentle", () => latencyPhase(ctx, "gentle", opts.gentleRate));
    if (opts.phases.has("latency")) await timed("latency", () => latencyPhase(ctx, "latency", opts.rate));

    // --- phase 4: the DIY peer and Custody, side by side ----------------------------------------
    if (opts.phases.has("peer")) await timed("peer", () => peerPhase(ctx));

    figures["signature failures"] = receiver.counts.signatureFailures;
    figures["duplicate deliveries"] = receiver.counts.duplicates;
    if (receiver.counts.firstFailure !== null) log(`first signature failure: ${receiver.counts.firstFailure}`);
    // Late or lost: what the phases' drains gave up on and never came since.
    if (withPipeline) figures["deliveries expected but never received (whole run, before the pipeline stops)"] = ctx.expect(0) - receiver.counts.delivered;

    // --- phase 5: ingest alone (stops the pipeline) ---------------------------------------------
    if (opts.phases.has("ingest")) await timed("ingest", () => ingestPhase(ctx));

    // --- stop the platform (writes the CPU profiles) --------------------------------------------
    receiver.send({ sample: true });
    const sample = await receiver.next((m) => ("sample" in m ? m.sample : undefined) as ReceiverSample | null | undefined);
    await admin2.end();
    cpu.stop();
    for (const c of children.reverse()) await stopProcess(c.p, c.label);
    let errorLines = 0;
    let deadlocks = 0;
    for (const c of children) {
      const out = c.p
        .output()
        .trim()
        .split("\n")
        .filter((l) => l.length > 0);
      errorLines += out.filter((l) => l.includes('"level":50') || l.includes('"level":60')).length;
      deadlocks += out.filter((l) => l.includes("deadlock detected")).length;
      if (out.length > 0) section(`${c.label}: log (warnings and errors, last 20 lines of ${out.length})`, ["```", ...out.slice(-20).map((l) => l.slice(0, 600)), "```"]);
    }
    figures["platform: errors logged (API + pipeline)"] = errorLines;
    figures["platform: … of which Postgres deadlocks"] = deadlocks;

    // --- phase 6: bare ceiling ------------------------------------------------------------------
    const ceilingStart = performance.now();
    if (opts.phases.has("ceiling") && sample !== null) {
      const key = Buffer.from(ceilingSecret.slice("whsec_".length), "base64");
      const template = Object.fromEntries(Object.entries(sample.headers).filter(([k]) => !["host", "content-length", "connection", "webhook-id", "webhook-timestamp", "webhook-signature"].includes(k)));
      const body = Buffer.from(sample.body);
      const ceilingAgent = new Agent({ connections: opts.ceilingConcurrency, pipelining: 1, keepAliveTimeout: 60_000 });
      let bad = 0;
      let stop = false;
      let n = 0;
      const seconds = opts.ceilingSeconds;
      const bar = progress("ceiling", seconds);
      const workers = Array.from({ length: opts.ceilingConcurrency }, async () => {
        while (!stop) {
          const id = `msg_ceiling_${n++}`;
          const ts = Math.floor(Date.now() / 1000);
          const signature = createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest("base64");
          try {
            const res = await request(`${receiverBase}/ceiling`, {
              method: "POST",
              headers: { ...template, "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${signature}` },
              body,
              dispatcher: ceilingAgent,
            });
            await res.body.dump();
            if (res.statusCode !== 200) bad++;
          } catch {
            bad++;
          }
        }
      });
      const warm = Math.min(2, seconds * 0.1);
      await sleep(warm * 1000);
      const c0 = cpu.snapshot();
      const ok0 = receiver.counts.ceiling;
      const t0 = performance.now();
      for (let s = 1; s <= seconds - warm; s++) {
        await sleep(t0 + s * 1000 - performance.now());
        bar.update(s + warm);
      }
      const ceiling = (receiver.counts.ceiling - ok0) / ((performance.now() - t0) / 1000);
      const c1 = cpu.snapshot();
      stop = true;
      await Promise.all(workers);
      bar.stop();
      await ceilingAgent.close();
      figures["ceiling: undici → receiver (req/s)"] = Math.round(ceiling);
      figures["ceiling: failed requests"] = bad;
      figures["ratio: platform deliveries/s ÷ ceiling (%)"] = Math.round((throughputDeliveriesPerSecond / ceiling) * 1000) / 10;
      figures["signature failures"] = receiver.counts.signatureFailures;
      section("ceiling: CPU", cpuLines(c0, c1, "ceiling"));
      figures["time: ceiling (s)"] = Math.round((performance.now() - ceilingStart) / 1000);
    }
    await agent.close();

    // --- the end: rows and dead rows per table (vacuum is off on this machine's Postgres) -------
    const tuples = await tableTuples(t.pool);
    figures["end pg: live tuples, all tables"] = tuples.reduce((a, r) => a + r.live, 0);
    figures["end pg: dead tuples, all tables"] = tuples.reduce((a, r) => a + r.dead, 0);
    for (const r of tuples.filter((x) => x.dead > 0)) figures[`end pg: dead tuples in ${r.table}`] = r.dead;
    section("end of the run: live and dead tuples per table (pg_stat_user_tables; autovacuum is off on this machine)", [
      "| table | live tuples | dead tuples | dead ÷ live | size incl. indexes + TOAST |",
      "| --- | --- | --- | --- | --- |",
      ...tuples.filter((r) => r.live + r.dead > 0).map((r) => `| ${r.table} | ${r.live} | ${r.dead} | ${r.live > 0 ? `${Math.round((r.dead / r.live) * 100)} %` : "–"} | ${Math.round(r.bytes / 1024)} KiB |`),
    ]);
  } finally {
    for (const c of children) await stopProcess(c.p, c.label).catch(() => undefined);
    if (receiver !== undefined) {
      receiver.child.disconnect();
      await receiver.exited;
    }
    const nc = await connectBus({ url: loadConfig("cli").NATS_URL, name: "bench-pipeline" });
    await deleteTopology(nc, prefix);
    await nc.close();
    await t.drop();
  }

  // --- CPU profiles -----------------------------------------------------------------------------
  if (opts.profile) {
    for (const dir of (await readdir(profileDir)).sort()) {
      // The main thread's profile (thread 0); thread 1 is tsx's module-loader worker.
      const files = (await readdir(`${profileDir}${dir}`)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f));
      for (const f of files) {
        for (const [phase, window] of Object.entries(windows)) {
          const s: ProfileSummary = summariseProfile(`${profileDir}${dir}/${f}`, window, 20);
          section(`profile ${dir} (${phase} window): ${s.totalMs} ms sampled (V8 samples wall time on the JS thread: time descheduled inside a syscall counts too); self time by module`, [
            "| module | ms | % |",
            "| --- | --- | --- |",
            ...s.modules.map((m) => `| ${m.name} | ${m.ms} | ${m.pct} |`),
          ]);
          report.push(`\n#### top functions by self time\n`, "| function | ms | % |", "| --- | --- | --- |", ...s.functions.map((m) => `| ${m.name.replace(/\|/g, "\\|")} | ${m.ms} | ${m.pct} |`));
          log(
            s.functions
              .slice(0, 12)
              .map((m) => `  ${String(m.pct).padStart(5)} %  ${m.name}`)
              .join("\n"),
          );
        }
      }
    }
    report.push(`\nProfiles: ${profileDir}`);
  } else {
    await rm(profileDir, { recursive: true, force: true });
  }
  figures["time: whole run (s)"] = Math.round((performance.now() - runStart) / 1000);
  report.push("\n### figures\n", "```json", JSON.stringify(figures, null, 2), "```");
  const targets = targetsOf(figures, opts, await readAuditFigure());
  report.push("\n### targets (issue 9)\n", ...targetsMarkdown(targets));
  await writeFile(new URL("./results/pipeline-report.md", import.meta.url), `${report.join("\n")}\n`);
  return { name: "pipeline", figures, targets };
}

/**
 * Ingest phase of the pipeline benchmark: what the API and Postgres alone sustain for single events.
 * The pipeline processes are stopped first (or never started), so nothing but the API and the
 * Postgres backends serving it works on the events; `--concurrency` (64) clients POST one event
 * each to /api/v2/events in a closed loop for `--ingest-seconds`. Reports events/s accepted over
 * the steady window (after 2 s), POST → 201 times, and CPU ms per accepted event of the API process
 * and of the Postgres backends serving it (the same /proc probes as the throughput phase).
 */
import { CpuMeter, monotonicUs } from "./pipeline-probes.js";
import { log, percentile, round1, round2, sleep, stopProcess, type PhaseContext } from "./pipeline-support.js";
import { progress } from "./report.js";

export async function ingestPhase(ctx: PhaseContext): Promise<void> {
  const { opts, figures } = ctx;
  for (const c of ctx.children.filter((c) => c.label.startsWith("pipeline"))) {
    log(`ingest phase: stopping ${c.label}`);
    await stopProcess(c.p, c.label);
  }
  const seconds = opts.ingestSeconds;
  const warm = Math.min(2, seconds * 0.1);
  const failed = new Map<number, number>();
  const postMs: number[] = [];
  let accepted = 0;
  let stop = false;
  let steady: { at: number; accepted: number } | undefined;
  const workers = Array.from({ length: opts.concurrency }, async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const r = await ctx.publish(1);
        accepted += r.ids.length;
        for (const s of r.failed) failed.set(s, (failed.get(s) ?? 0) + 1);
      } catch {
        failed.set(0, (failed.get(0) ?? 0) + 1);
      }
      if (steady !== undefined) postMs.push(performance.now() - t0);
    }
  });
  const bar = progress("ingest", seconds);
  const start = performance.now();
  let c0 = ctx.cpu.snapshot();
  let us0 = monotonicUs();
  for (let s = 1; s <= seconds; s++) {
    await sleep(start + s * 1000 - performance.now());
    bar.update(s);
    if (steady !== undefined) await ctx.pgByClient.tick();
    if (steady === undefined && s >= warm) {
      steady = { at: performance.now(), accepted };
      c0 = ctx.cpu.snapshot();
      us0 = monotonicUs();
      await ctx.pgByClient.start();
    }
  }
  await ctx.pgByClient.tick();
  const c1 = ctx.cpu.snapshot();
  const end = { at: performance.now(), accepted };
  stop = true;
  await Promise.all(workers);
  bar.stop();
  ctx.windows.ingest = { fromUs: us0, toUs: monotonicUs() };

  const window = (end.at - steady!.at) / 1000;
  const eventsPerSecond = (end.accepted - steady!.accepted) / window;
  const { perGroup } = CpuMeter.between(c0, c1);
  const pgClients = ctx.pgByClient.result();
  const msPerEvent = (pct: number) => ((pct / 100) * 1000) / Math.max(1e-9, eventsPerSecond);
  const apiNode = msPerEvent(perGroup.api ?? 0);
  const apiPg = msPerEvent(pgClients.filter((c) => c.label.startsWith("api ")).reduce((a, c) => a + c.pct, 0));
  postMs.sort((a, b) => a - b);
  figures["ingest: events/s accepted (single events, pipeline stopped)"] = Math.round(eventsPerSecond);
  figures["ingest: clients in flight"] = opts.concurrency;
  figures["ingest: events accepted"] = accepted;
  figures["ingest: requests refused (non-201)"] = [...failed.values()].reduce((a, b) => a + b, 0);
  figures["ingest: POST → 201 p50 (ms)"] = round1(percentile(postMs, 50));
  figures["ingest: POST → 201 p99 (ms)"] = round1(percentile(postMs, 99));
  figures["ingest cost: API process, CPU ms per event"] = round2(apiNode);
  figures["ingest cost: Postgres for the API, CPU ms per event"] = round2(apiPg);
  figures["ingest cost: API + Postgres, CPU ms per event"] = round2(apiNode + apiPg);
  ctx.section(`ingest: ${Math.round(eventsPerSecond)} events/s, ${opts.concurrency} clients, single-event POST /api/v2/events, pipeline stopped (steady window ${round1(window)} s)`, [
    "| component | CPU ms per accepted event |",
    "| --- | --- |",
    `| API process | ${apiNode.toFixed(2)} |`,
    `| Postgres backends serving the API | ${apiPg.toFixed(2)} |`,
    `| **API + Postgres** | **${(apiNode + apiPg).toFixed(2)}** |`,
    ...(failed.size > 0 ? ["", `refused requests by status: ${JSON.stringify(Object.fromEntries(failed))}`] : []),
  ]);
  ctx.section("ingest: CPU over the steady window", ctx.cpuLines(c0, c1, "ingest"));
  ctx.section("ingest: Postgres CPU by client (backend → client socket owner · application_name)", ["| client | % of one core |", "| --- | --- |", ...pgClients.map((r) => `| ${r.label} | ${r.pct} |`)]);
}

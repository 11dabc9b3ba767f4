/**
 * Latency phases of the pipeline benchmark: open-loop single events (one POST /api/v2/events each)
 * at a fixed rate; ingest→delivered = receive time in the receiver process − the instant the
 * generator sent the POST. Run at `--gentle-rate` (100/s, phase `gentle`: what a new user sees) and
 * at `--rate` (1,000/s, phase `latency`: can the platform take it at all), each for
 * `--latency-seconds`. Figures are named `latency @ <rate>/s: …`.
 */
import { monotonicUs } from "./pipeline-probes.js";
import { caughtUp, log, percentile, round1, sleep, wallMs, type PhaseContext } from "./pipeline-support.js";
import { progress } from "./report.js";

export async function latencyPhase(ctx: PhaseContext, phase: "gentle" | "latency", rate: number): Promise<void> {
  const { receiver, opts, figures } = ctx;
  const sent = new Map<string, number>();
  const apiMs: number[] = [];
  let refused = 0;
  receiver.send({ record: true });
  await receiver.fresh();
  const total = Math.round(rate * opts.latencySeconds);
  const bar = progress(`latency @ ${rate}/s`, total);
  const inflight = new Set<Promise<void>>();
  const c0 = ctx.cpu.snapshot();
  const us0 = monotonicUs();
  const start = performance.now();
  let n = 0;
  let overloaded = false;
  const delivered0 = receiver.counts.delivered;
  while (n < total) {
    // Open loop, but not unbounded: past 3 s of backlog the rate is not sustained, and waiting
    // for a queue of minutes to drain would only say so more slowly.
    if (inflight.size > rate * 3 || sent.size - (receiver.counts.delivered - delivered0) / opts.endpoints > rate * 3) {
      overloaded = true;
      log(`latency phase: the platform is not keeping up with ${rate}/s (${inflight.size} POSTs in flight); stopping after ${n} events`);
      break;
    }
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; n < due; n++) {
      const at = wallMs();
      const p = ctx.publish(1).then(
        (r) => {
          apiMs.push(wallMs() - at);
          if (r.ids.length === 1) sent.set(r.ids[0]!, at);
          else refused++;
        },
        () => void refused++,
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    bar.update(n);
    await sleep(1);
  }
  const offeredSeconds = (performance.now() - start) / 1000;
  await Promise.race([Promise.all(inflight), sleep(30_000)]);
  const c1 = ctx.cpu.snapshot();
  ctx.windows[phase] = { fromUs: us0, toUs: monotonicUs() };
  bar.stop();
  ctx.expect(sent.size * opts.endpoints);
  await caughtUp(ctx, 30_000);
  receiver.send({ record: false });
  receiver.send({ dump: true });
  const records = await receiver.next((m) => ("records" in m ? m.records : undefined));
  const latencies: number[] = [];
  for (let i = 0; i < records.ids.length; i++) {
    const id = records.ids[i]!.slice(records.ids[i]!.indexOf(" ") + 1);
    const s = sent.get(id);
    if (s !== undefined) latencies.push(records.at[i]! - s);
  }
  const missing = n * opts.endpoints - latencies.length;
  // Not delivered (or not even accepted) by the end of the wait: slower than anything measured.
  for (let i = 0; i < missing; i++) latencies.push(Infinity);
  latencies.sort((a, b) => a - b);
  apiMs.sort((a, b) => a - b);
  const key = `latency @ ${rate}/s`;
  figures[`${key}: events/s offered`] = Math.round(n / offeredSeconds);
  figures[`${key}: seconds offered`] = round1(offeredSeconds);
  figures[`${key}: rate sustained (1 yes, 0 no)`] = overloaded ? 0 : 1;
  figures[`${key}: ingest→delivered p50 (ms)`] = round1(percentile(latencies, 50));
  figures[`${key}: … p95 (ms)`] = round1(percentile(latencies, 95));
  figures[`${key}: … p99 (ms)`] = round1(percentile(latencies, 99));
  figures[`${key}: … max (ms)`] = round1(latencies[latencies.length - 1] ?? NaN);
  figures[`${key}: POST → 201 p50 (ms)`] = round1(percentile(apiMs, 50));
  figures[`${key}: POST → 201 p99 (ms)`] = round1(percentile(apiMs, 99));
  figures[`${key}: not delivered 30 s after the load`] = missing;
  figures[`${key}: requests refused`] = refused;
  ctx.section(`${phase} (${rate} events/s): CPU during the fixed-rate load`, ctx.cpuLines(c0, c1, phase));
}

/**
 * Endpoints that misbehave: one tenant's hanging, flapping and 410 endpoints beside another tenant's
 * healthy one (a slow or dead endpoint must cost only its own deliveries), and an endpoint answering
 * with 200 MB (the sender must stop reading).
 */
import { readFileSync } from "node:fs";
import { sql } from "@custody/db";
import { deliveredAt, percentile, retrying } from "../checks.js";
import { Load, type SentEvent } from "../load.js";
import { apiCall, closeScenario, makeTenant, sleep, type Scenario } from "../scenario.js";

const FLAP_DELAYS_S = [1, 2, 4];
const FLAP_FAILURES = 2;

function lagsMs(events: readonly SentEvent[], delivered: Map<string, number>, path: string): number[] {
  const out: number[] = [];
  for (const e of events) {
    const t = delivered.get(`${path} ${e.id}`);
    if (t !== undefined) out.push(t - e.firstSentAt);
  }
  return out;
}

const ms = (x: number) => (Number.isFinite(x) ? Math.round(x) : NaN);

export const tenantIsolation: Scenario = {
  name: "tenant-isolation",
  title: "Tenant B's hanging, flapping and 410 endpoints beside tenant A's healthy one",
  inShort: true,
  async run(ctx, run) {
    const baselineMs = ctx.short ? 5_000 : 10_000;
    const stormMs = ctx.short ? 25_000 : 60_000;
    const p99BoundMs = 2_000;
    const a = await makeTenant(ctx, "iso-a", ["a.ping"], { ok: { behaviour: { mode: "ok" } } });
    const b = await makeTenant(ctx, "iso-b", ["b.load", "b.gone"], {
      hang: { behaviour: { mode: "hang" }, subscriptions: ["b.load"] },
      flap: { behaviour: { mode: "flap", failures: FLAP_FAILURES }, subscriptions: ["b.load"], retryPolicy: { kind: "custom", delaysSeconds: FLAP_DELAYS_S } },
      gone: { behaviour: { mode: "gone" }, subscriptions: ["b.gone"] },
    });
    const aPath = a.endpoints.ok!.path;
    const loadA = new Load({ origin: ctx.platform.apiOrigin, apiKey: a.apiKey, idPrefix: "iso-a", type: "a.ping", ratePerSecond: 10 });
    const loadB = new Load({ origin: ctx.platform.apiOrigin, apiKey: b.apiKey, idPrefix: "iso-b", type: "b.load", ratePerSecond: 5 });
    loadA.start();
    await sleep(baselineMs);
    const stormFrom = Date.now();
    loadB.start();
    loadB.burst(1, "b.gone");
    await sleep(Math.min(10_000, stormMs / 2));
    // The endpoint is disabled by its first 410: a later event makes no request to it.
    loadB.burst(1, "b.gone");
    await sleep(stormMs - Math.min(10_000, stormMs / 2));
    loadB.stop();
    loadA.stop();
    const stormTo = Date.now();

    // Tenant A: every event delivered, and its lag unmoved by B.
    await closeScenario(ctx, run, { tenant: a, loads: [loadA], paths: [aPath], types: ["a.ping"] });
    await loadB.settle(60_000);
    // B's flapping endpoint: every delivery ends delivered after its 2 failures, on schedule.
    const flapPath = b.endpoints.flap!.path;
    const bLoad = loadB.accepted().filter((e) => e.type === "b.load");
    const flushDeadline = Date.now() + 60_000;
    let flapDelivered = deliveredAt(ctx.receiver.requests, [flapPath]);
    while (bLoad.some((e) => !flapDelivered.has(`${flapPath} ${e.id}`)) && Date.now() < flushDeadline) {
      await sleep(500);
      await ctx.receiver.flush();
      flapDelivered = deliveredAt(ctx.receiver.requests, [flapPath]);
    }
    await ctx.receiver.flush();
    const delivered = deliveredAt(ctx.receiver.requests, [aPath]);
    const inWindow = (from: number, to: number) => loadA.events.filter((e) => e.firstSentAt >= from && e.firstSentAt < to);
    const base = lagsMs(inWindow(0, stormFrom), delivered, aPath);
    const storm = lagsMs(inWindow(stormFrom, stormTo), delivered, aPath);
    const flapLost = bLoad.filter((e) => !flapDelivered.has(`${flapPath} ${e.id}`)).length;

    // Attempt n+1 of a flapping delivery comes FLAP_DELAYS_S[n-1] after attempt n, give or take the scheduler's tick.
    const attempts = new Map<string, Array<{ attempt: string; at: number }>>();
    for (const r of ctx.receiver.on(flapPath)) {
      const list = attempts.get(r.webhookId) ?? [];
      if (!list.some((x) => x.attempt === r.attempt)) list.push({ attempt: r.attempt, at: r.at });
      attempts.set(r.webhookId, list);
    }
    const lateness: number[] = [];
    let early = 0;
    for (const list of attempts.values()) {
      for (let i = 1; i < list.length && i <= FLAP_DELAYS_S.length; i++) {
        const late = list[i]!.at - list[i - 1]!.at - FLAP_DELAYS_S[i - 1]! * 1000;
        lateness.push(late);
        if (late < -50) early++;
      }
    }
    const tooMany = [...attempts.values()].filter((l) => l.length > FLAP_FAILURES + 1).length;
    const goneRequests = ctx.receiver.on(b.endpoints.gone!.path).length;
    const hangRequests = ctx.receiver.on(b.endpoints.hang!.path).length;
    const goneView = await apiCall(ctx, b.apiKey, "GET", `/api/v2/webhooks/${b.endpoints.gone!.id}`);
    const hangStates = await retrying(() => sql<{ status: string; n: string }>`SELECT status, count(*) AS n FROM deliveries WHERE endpoint_id = ${b.endpoints.hang!.id} GROUP BY status`.execute(ctx.db));

    Object.assign(run.extra, {
      "A lag before B (p50/p99 ms)": `${ms(percentile(base, 50))} / ${ms(percentile(base, 99))} (${base.length} events)`,
      "A lag beside B (p50/p99 ms)": `${ms(percentile(storm, 50))} / ${ms(percentile(storm, 99))} (${storm.length} events)`,
      "B events (load/s)": `${bLoad.length} (5/s) for ${Math.round((stormTo - stormFrom) / 1000)} s`,
      "hanging endpoint: requests, delivery states": `${hangRequests}, ${hangStates.rows.map((r) => `${r.status} ${r.n}`).join(", ")}`,
      "flapping endpoint: delivered / retry lateness p50, max (ms)": `${bLoad.length - flapLost}/${bLoad.length}, ${ms(percentile(lateness, 50))}, ${ms(Math.max(...lateness))}`,
      "410 endpoint: requests, disabled": `${goneRequests}, ${String(goneView.disabled)}`,
    });
    run.expect(storm.length > 0 && percentile(storm, 99) < p99BoundMs, `tenant A's delivery lag p99 beside B is ${ms(percentile(storm, 99))} ms (bound ${p99BoundMs} ms)`);
    run.expect(flapLost === 0, `${flapLost} of B's deliveries to the flapping endpoint never succeeded`);
    run.expect(lateness.length > 0 && Math.max(...lateness) < 2_000, `a retry to the flapping endpoint came ${ms(Math.max(...lateness))} ms after its schedule (1/2 s delays)`);
    run.expect(early === 0, `${early} retries to the flapping endpoint came before their delay`);
    run.expect(tooMany === 0, `${tooMany} flapping deliveries got more than ${FLAP_FAILURES + 1} attempts`);
    run.expect(goneRequests === 1, `the 410 endpoint got ${goneRequests} requests (exactly 1 expected)`);
    run.expect(goneView.disabled === true, "the 410 endpoint was not disabled");
    run.expect(hangRequests > 0, "the hanging endpoint got no request");
    // The hanging endpoint recovers, so its retries end instead of running into later scenarios.
    ctx.receiver.configure({ [b.endpoints.hang!.path]: { mode: "ok" } });
  },
};

/** Resident memory of a process, in MB (from /proc). */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const bigResponse: Scenario = {
  name: "big-response",
  title: "An endpoint answering 200 with a 200 MB body",
  inShort: true,
  async run(ctx, run) {
    const bigBytes = 200 * 1024 * 1024;
    const tenant = await makeTenant(ctx, "big", ["big.load"], { big: { behaviour: { mode: "big", bigBytes } } });
    const pid = ctx.platform.pid("pipeline");
    const rssBefore = rssMb(pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 100);
    const load = new Load({ origin: ctx.platform.apiOrigin, apiKey: tenant.apiKey, idPrefix: "big", type: "big.load", ratePerSecond: 1 });
    const events = 3;
    load.burst(events);
    const path = tenant.endpoints.big!.path;
    try {
      await closeScenario(ctx, run, { tenant, loads: [load], paths: [path], types: ["big.load"], drainTimeoutMs: 60_000 });
      // Every answer has ended (the sender hung up) before the figures are read.
      const deadline = Date.now() + 30_000;
      while (ctx.receiver.big.filter((x) => x.path === path).length < events && Date.now() < deadline) await sleep(100);
    } finally {
      clearInterval(sampler);
    }
    const reports = ctx.receiver.big.filter((x) => x.path === path);
    const maxWritten = Math.max(...reports.map((x) => x.written));
    Object.assign(run.extra, {
      "requests / events": `${ctx.receiver.on(path).length} / ${events}`,
      "most bytes the socket took before the sender hung up": maxWritten,
      "sender hung up after (ms)": reports.map((x) => x.ms).join(", "),
      "pipeline RSS before / max (MB)": `${Math.round(rssBefore)} / ${Math.round(rssMax)}`,
    });
    run.expect(reports.length === events, `${reports.length} of ${events} big answers ended`);
    run.expect(
      reports.every((x) => !x.completed),
      "the sender read a 200 MB answer to its end",
    );
    run.expect(maxWritten < 32 * 1024 * 1024, `the sender let ${maxWritten} bytes of an answer through before hanging up`);
    run.expect(rssMax - rssBefore < 100, `the pipeline grew by ${Math.round(rssMax - rssBefore)} MB while reading 200 MB answers`);
    run.expect(ctx.receiver.on(path).length === events, `${ctx.receiver.on(path).length} requests for ${events} deliveries (a 200 with a long body is delivered once)`);
  },
};

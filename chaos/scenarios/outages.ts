/**
 * Outages of what the platform depends on, under load: Postgres stopped the hard way, NATS
 * SIGKILLed, the NATS store's disk full. Each process must ride them out without exiting, clients
 * may see only 503 (with Retry-After) while Postgres is down and nothing but success otherwise, and
 * once the fault is lifted every accepted event must reach every endpoint.
 */
import { connectBus } from "@custody/bus";
import { Load } from "../load.js";
import { PROCESSES, type ProcessName } from "../platform.js";
import { closeScenario, makeTenant, sleep, type Ctx, type Run, type Scenario, type Tenant } from "../scenario.js";

const ok = { behaviour: { mode: "ok" as const } };

function startLoad(ctx: Ctx, tenant: Tenant, name: string, rate: number): Load {
  const load = new Load({ origin: ctx.platform.apiOrigin, apiKey: tenant.apiKey, idPrefix: name, type: `${name}.load`, ratePerSecond: rate });
  load.start();
  return load;
}

function pids(ctx: Ctx): Record<ProcessName, number | undefined> {
  return Object.fromEntries(PROCESSES.map((p) => [p, ctx.platform.pid(p)])) as Record<ProcessName, number | undefined>;
}

/** A tenant with two healthy endpoints under `rate` events/s for 3 s: the moment a fault can start. */
async function underLoad(ctx: Ctx, name: string, rate: number): Promise<{ tenant: Tenant; load: Load; before: Record<ProcessName, number | undefined>; from: number }> {
  const tenant = await makeTenant(ctx, name, [`${name}.load`], { a: ok, b: ok });
  const before = pids(ctx);
  const load = startLoad(ctx, tenant, name, rate);
  await sleep(3_000);
  return { tenant, load, before, from: Date.now() };
}

/** Every process rode out `what`: none was restarted. */
function expectSamePids(ctx: Ctx, run: Run, before: Record<ProcessName, number | undefined>, what: string): void {
  const now = pids(ctx);
  for (const p of PROCESSES) run.expect(before[p] === now[p], `${p} did not ride out ${what}: pid ${before[p]} → ${now[p]}`);
}

/** Samples what the API's readiness and the proof service answer, every 500 ms while `until` is pending. */
async function sampleWhile(ctx: Ctx, until: Promise<unknown>): Promise<{ apiReady: Record<string, number>; proofs: Record<string, number> }> {
  const out = { apiReady: {} as Record<string, number>, proofs: {} as Record<string, number> };
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const [ready, proof] = await Promise.all([ctx.platform.probe("api", "/readyz"), ctx.platform.probe("proofs", "/api/v2/proofs/checkpoint")]);
    out.apiReady[String(ready)] = (out.apiReady[String(ready)] ?? 0) + 1;
    out.proofs[String(proof)] = (out.proofs[String(proof)] ?? 0) + 1;
    await sleep(500);
  }
  return out;
}

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, n]) => `${k}×${n}`)
    .join(" ");

export const postgresStop: Scenario = {
  name: "postgres-stop",
  title: "Postgres stopped (pg_ctl stop -m immediate) under load, started again",
  inShort: true,
  async run(ctx, run) {
    const outageMs = ctx.short ? 6_000 : 10_000;
    const rate = ctx.short ? 20 : 30;
    const { tenant, load, before, from } = await underLoad(ctx, "pg", rate);
    await ctx.pg.stopImmediate();
    const during = await sampleWhile(ctx, sleep(outageMs));
    await ctx.pg.start();
    const liftedAt = Date.now();
    ctx.log(`postgres back after ${liftedAt - from} ms`);
    const after = await sampleWhile(ctx, sleep(ctx.short ? 4_000 : 8_000));
    load.stop();
    Object.assign(run.extra, {
      "outage (ms)": liftedAt - from,
      "load (events/s)": rate,
      "API /readyz during": counts(during.apiReady),
      "proofs /checkpoint during": counts(during.proofs),
      "API /readyz after": counts(after.apiReady),
    });
    run.expect(
      Object.keys(during.apiReady).every((s) => s === "503"),
      `API /readyz answered ${counts(during.apiReady)} while Postgres was down (503 only)`,
    );
    run.expect(
      Object.keys(during.proofs).every((s) => s === "503"),
      `the proof service answered ${counts(during.proofs)} while Postgres was down (503 only)`,
    );
    // Grace after the start: a connection that broke with the server may fail one more request.
    await closeScenario(ctx, run, { tenant, loads: [load], paths: Object.values(tenant.endpoints).map((e) => e.path), types: ["pg.load"], outages: [{ from, to: liftedAt + 5_000 }], liftedAt });
    expectSamePids(ctx, run, before, "the outage");
    const refusedDuring = load.answers.filter((a) => a.at >= from && a.at <= liftedAt && a.status === 503).length;
    run.expect(refusedDuring > 0, "no request was answered 503 during the outage (did the outage happen?)");
  },
};

export const natsKill: Scenario = {
  name: "nats-kill",
  title: "NATS SIGKILLed under load, restarted on the same store",
  inShort: true,
  async run(ctx, run) {
    const outageMs = ctx.short ? 6_000 : 15_000;
    const rate = ctx.short ? 20 : 30;
    const { tenant, load, before, from } = await underLoad(ctx, "nats", rate);
    await ctx.nats.kill();
    await sleep(outageMs);
    await ctx.nats.start();
    const liftedAt = Date.now();
    await sleep(ctx.short ? 4_000 : 8_000);
    load.stop();
    Object.assign(run.extra, { "outage (ms)": liftedAt - from, "load (events/s)": rate });
    // The API has no NATS connection: it must go on accepting, with no 5xx at all.
    await closeScenario(ctx, run, { tenant, loads: [load], paths: Object.values(tenant.endpoints).map((e) => e.path), types: ["nats.load"], liftedAt });
    expectSamePids(ctx, run, before, "the outage");
  },
};

export const natsDiskFull: Scenario = {
  name: "nats-disk-full",
  title: "The NATS store's disk full under load, then freed",
  inShort: false,
  async run(ctx, run) {
    if (typeof ctx.disk === "string") {
      run.skipped = true;
      run.notes.push(`not simulated here: ${ctx.disk}`);
      return;
    }
    const disk = ctx.disk;
    const fullMs = ctx.short ? 6_000 : 15_000;
    const { tenant, load, before, from } = await underLoad(ctx, "disk", 20);
    await disk.fill();
    run.extra["free on the store while full (bytes)"] = disk.freeBytes();
    await sleep(fullMs);
    await disk.free();
    // nats-server (2.9) stops answering JetStream requests once a store write fails, and does not
    // come back by itself when space returns: an operator restarts it (docs/operations.md, runbook).
    // What matters here is that Custody loses nothing meanwhile and resumes after the restart.
    const recovered = await jetStreamAnswersWithin(ctx.nats.url, 10_000);
    run.extra["JetStream answered again by itself"] = recovered ? "yes" : "no: nats-server restarted, as an operator would";
    if (!recovered) {
      await ctx.nats.kill();
      await ctx.nats.start();
    }
    const liftedAt = Date.now();
    await sleep(8_000);
    load.stop();
    Object.assign(run.extra, { "disk full (ms)": liftedAt - from, "tmpfs (MB)": disk.sizeMb });
    await closeScenario(ctx, run, { tenant, loads: [load], paths: Object.values(tenant.endpoints).map((e) => e.path), types: ["disk.load"], liftedAt });
    expectSamePids(ctx, run, before, "the full disk");
  },
};

/** Whether JetStream at `url` answers an account-info request within `ms`. */
async function jetStreamAnswersWithin(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      // connectBus resolves only once JetStream answers.
      await (await connectBus({ url, name: "chaos-probe" })).close();
      return true;
    } catch {
      await sleep(1_000);
    }
  }
  return false;
}

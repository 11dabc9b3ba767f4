/**
 * Each platform process SIGKILLed under load and started again: the API (clients see connections
 * refused or reset and send again with the same producer id), the pipeline (its held messages come
 * back after the ack wait and are re-sent as exact copies), the proof service.
 */
import { Load } from "../load.js";
import { ACK_WAIT_MS, type ProcessName } from "../platform.js";
import { closeScenario, makeTenant, sleep, type Scenario } from "../scenario.js";

const ok = { behaviour: { mode: "ok" as const } };

export const processKills: Scenario = {
  name: "process-kills",
  title: "API, pipeline and proof service each SIGKILLed under load and restarted",
  inShort: true,
  async run(ctx, run) {
    const rounds = ctx.short ? 1 : 2;
    const rate = ctx.short ? 20 : 30;
    const tenant = await makeTenant(ctx, "kill", ["kill.load"], { a: ok, b: ok });
    const load = new Load({ origin: ctx.platform.apiOrigin, apiKey: tenant.apiKey, idPrefix: "kill", type: "kill.load", ratePerSecond: rate });
    load.start();
    const restarts: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const name of ["api", "pipeline", "proofs"] as ProcessName[]) {
        await sleep(3_000);
        const t0 = Date.now();
        await ctx.platform.kill(name);
        await ctx.platform.start(name);
        restarts.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      }
    }
    const liftedAt = Date.now();
    await sleep(3_000);
    load.stop();
    Object.assign(run.extra, { "load (events/s)": rate, "killed → serving again": restarts.join(", "), "ack wait (ms)": ACK_WAIT_MS });
    await closeScenario(ctx, run, { tenant, loads: [load], paths: Object.values(tenant.endpoints).map((e) => e.path), types: ["kill.load"], liftedAt });
  },
};

/**
 * Scale-out (issue 10): what an operator adds machines for must survive losing one of them.
 * - nats-cluster: the pipeline on a 3-node NATS cluster with its stream at R3; the stream's leader
 *   SIGKILLed under load. Nothing may be lost, and deliveries may stall only while JetStream elects
 *   new leaders.
 * - sequencer-failover: two APIs and two pipelines on one database; the pipeline whose sequencer
 *   leads is SIGKILLed under load. The standby must take the lock within its retry interval and the
 *   ledger must stay dense and audit.
 */
import { dirname } from "node:path";
import { ensureTopology, streamName } from "@custody/bus";
import { sql } from "@custody/db";
import { retrying } from "../checks.js";
import { NatsCluster } from "../cluster.js";
import { Load } from "../load.js";
import { ACK_WAIT_MS, NATS_PREFIX, type Instance } from "../platform.js";
import type { ReceivedRequest } from "../receiver.js";
import { closeScenario, makeTenant, sleep, type Ctx, type Scenario } from "../scenario.js";

const ok = { behaviour: { mode: "ok" as const } };

/**
 * The longest time without a delivery (a 2xx on `paths`) that ends after `from`: the gap the fault
 * opened, measured from the last delivery before it.
 */
export function longestGapAfter(requests: readonly ReceivedRequest[], paths: readonly string[], from: number, to = Infinity): number {
  const wanted = new Set(paths);
  const at = requests
    .filter((r) => wanted.has(r.path) && r.status !== null && r.status >= 200 && r.status < 300 && r.at <= to)
    .map((r) => r.at)
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < at.length; i++) if (at[i]! > from) longest = Math.max(longest, at[i]! - at[i - 1]!);
  return longest;
}

/** The longest gap between deliveries inside [from, to] (the steady state, for comparison). */
export function longestGapWithin(requests: readonly ReceivedRequest[], paths: readonly string[], from: number, to: number): number {
  const wanted = new Set(paths);
  const at = requests
    .filter((r) => wanted.has(r.path) && r.status !== null && r.status >= 200 && r.status < 300 && r.at >= from && r.at <= to)
    .map((r) => r.at)
    .sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < at.length; i++) longest = Math.max(longest, at[i]! - at[i - 1]!);
  return longest;
}

/**
 * How much longer than the election a stall may last: a client learns of the new leaders only by
 * its next request to them. The dispatch consumer pulls again after two missed 1 s heartbeats
 * (libs/bus stage.ts), the relay publishes again after its 1 s retry pause.
 */
export const CLIENT_SLACK_MS = 3_000;

/** The pipeline's warnings and errors in [from, to], by message and cause: when each first came (ms after `from`) and how often. */
export function complaints(output: string, from: number, to: number): string {
  const seen = new Map<string, { first: number; n: number }>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: { level?: number; time?: number; msg?: string; err?: { message?: string }; stage?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) < 40 || entry.time === undefined || entry.time < from || entry.time > to) continue;
    const key = `${entry.stage ?? "?"}: ${entry.msg ?? ""}${entry.err?.message ? ` (${entry.err.message.slice(0, 80)})` : ""}`;
    const s = seen.get(key);
    if (s === undefined) seen.set(key, { first: entry.time - from, n: 1 });
    else s.n++;
  }
  return [...seen].map(([k, v]) => `${v.n}× ${k} first at +${v.first} ms`).join("; ") || "none";
}

/** Each run gets its own tenant, paths and event ids, so a scenario run twice in one suite counts only its own. */
let runs = 0;

export const natsCluster: Scenario = {
  name: "nats-cluster",
  title: "Pipeline on a 3-node NATS cluster, stream at R3; the stream leader SIGKILLed under load, restarted",
  inShort: false,
  async run(ctx, run) {
    const cluster = await NatsCluster.create(dirname(ctx.nats.storeDir));
    const stream = streamName(NATS_PREFIX);
    const watchers: Array<{ close(): Promise<void> }> = [];
    try {
      ctx.log(`nats cluster up: ${cluster.url}`);
      // The stream exists at R1 first, as on a platform that grew into a cluster: the pipeline's
      // start must rescale it to R3 in place.
      const setup = await cluster.connectTo(cluster.nodes.map((n) => n.name));
      watchers.push(setup);
      await ensureTopology(setup, NATS_PREFIX, ACK_WAIT_MS, 1);
      // More replicas than servers: refused with the setting's name, the stream left as it was.
      const tooMany = await ensureTopology(setup, NATS_PREFIX, ACK_WAIT_MS, 5).then(
        () => "accepted",
        (err: Error) => err.message,
      );
      run.expect(/CUSTODY_NATS_REPLICAS/.test(tooMany), `R5 on a 3-node cluster: ${tooMany}`);
      const after = await (await setup.jetstreamManager()).streams.info(stream);
      run.expect(after.config.num_replicas === 1, `a refused R5 left the stream at R${after.config.num_replicas}`);
      run.extra["R5 on 3 nodes"] = tooMany.slice(0, 160);
      await ctx.platform.kill("pipeline");
      ctx.platform.configure("pipeline", { NATS_URL: cluster.url, CUSTODY_NATS_REPLICAS: "3" });
      await ctx.platform.start("pipeline");
      const jsm = await setup.jetstreamManager();
      // Right after the rescale the new peers are still catching up and no leader is named yet.
      const settledAt = Date.now();
      let scaled = await jsm.streams.info(stream);
      let consumer = await jsm.consumers.info(stream, "dispatch");
      const placed = () => scaled.cluster?.leader !== undefined && scaled.cluster.replicas?.length === 2 && consumer.cluster?.leader !== undefined && consumer.cluster.replicas?.length === 2;
      while (!placed() && Date.now() - settledAt < 30_000) {
        await sleep(100);
        scaled = await jsm.streams.info(stream);
        consumer = await jsm.consumers.info(stream, "dispatch");
      }
      run.extra["pipeline started → stream and consumer led at R3 (ms)"] = Date.now() - settledAt;
      run.expect(scaled.config.num_replicas === 3 && (scaled.cluster?.replicas?.length ?? 0) === 2, `the stream was not rescaled to R3: ${JSON.stringify(scaled.config.num_replicas)} ${JSON.stringify(scaled.cluster)}`);
      run.expect((consumer.cluster?.replicas?.length ?? 0) === 2, `the dispatch consumer did not follow the stream to R3: ${JSON.stringify(consumer.cluster)}`);

      const rate = 30;
      const name = `cluster${++runs}`;
      const tenant = await makeTenant(ctx, name, ["cluster.load"], { a: ok, b: ok });
      const paths = Object.values(tenant.endpoints).map((e) => e.path);
      const load = new Load({ origin: ctx.platform.apiOrigin, apiKey: tenant.apiKey, idPrefix: name, type: "cluster.load", ratePerSecond: rate });
      const loadFrom = Date.now();
      load.start();
      await sleep(6_000);

      const before = await jsm.streams.info(stream);
      const victim = before.cluster?.leader;
      const consumerLeader = (await jsm.consumers.info(stream, "dispatch")).cluster?.leader;
      if (victim === undefined) throw new Error(`the stream has no leader: ${JSON.stringify(before.cluster)}`);
      const survivors = cluster.nodes.map((n) => n.name).filter((n) => n !== victim);
      const watch = await cluster.connectTo(survivors);
      watchers.push(watch);
      const wjsm = await watch.jetstreamManager({ timeout: 1_000 });
      const pipelinePid = ctx.platform.pid("pipeline");

      const killedAt = Date.now();
      await cluster.killNode(victim);
      ctx.log(`nats-cluster: SIGKILLed ${victim} (stream leader; dispatch consumer leader ${consumerLeader})`);
      // The election is over when the survivors answer for both the stream and the consumer with a
      // leader other than the dead node.
      let electedMs: number | undefined;
      let leaders = "";
      while (Date.now() - killedAt < 60_000) {
        const [s, c] = await Promise.all([wjsm.streams.info(stream).catch(() => undefined), wjsm.consumers.info(stream, "dispatch").catch(() => undefined)]);
        const sl = s?.cluster?.leader;
        const cl = c?.cluster?.leader;
        if (sl !== undefined && sl !== victim && cl !== undefined && cl !== victim) {
          electedMs = Date.now() - killedAt;
          leaders = `stream ${sl}, consumer ${cl}`;
          break;
        }
        await sleep(50);
      }
      run.expect(electedMs !== undefined, "no new stream and consumer leaders within 60 s of the kill");
      await sleep(Math.max(0, killedAt + 12_000 - Date.now()));
      const restartedAt = Date.now();
      cluster.startNode(victim);
      let rejoinedMs: number | undefined;
      while (Date.now() - restartedAt < 60_000) {
        const s = await wjsm.streams.info(stream).catch(() => undefined);
        const replicas = s?.cluster?.replicas ?? [];
        if (s?.cluster?.leader !== undefined && replicas.length === 2 && replicas.every((r) => r.current)) {
          rejoinedMs = Date.now() - restartedAt;
          break;
        }
        await sleep(100);
      }
      run.expect(rejoinedMs !== undefined, `${victim} did not rejoin the stream as a current replica within 60 s of its restart`);
      await sleep(5_000);
      load.stop();

      await closeScenario(ctx, run, { tenant, loads: [load], paths, types: ["cluster.load"], liftedAt: killedAt + (electedMs ?? 0) });
      run.extra["pipeline warnings after the kill"] = complaints(ctx.platform.output("pipeline"), killedAt, killedAt + 60_000);
      const requests = ctx.receiver.requests;
      const stallMs = longestGapAfter(requests, paths, killedAt, killedAt + 60_000);
      const steadyMs = longestGapWithin(requests, paths, loadFrom + 1_000, killedAt);
      Object.assign(run.extra, {
        "load (events/s)": rate,
        "killed node": `${victim} (stream leader; dispatch consumer leader was ${consumerLeader})`,
        "new leaders": leaders,
        "leader election (ms)": electedMs ?? "none",
        "longest delivery gap after the kill (ms)": stallMs,
        "longest delivery gap before the kill (ms)": steadyMs,
        "node restarted → current replica again (ms)": rejoinedMs ?? "never",
        "stream at start": `R${scaled.config.num_replicas}, leader ${scaled.cluster?.leader}, dispatch consumer replicas ${(consumer.cluster?.replicas?.length ?? 0) + 1}`,
      });
      run.expect(ctx.platform.pid("pipeline") === pipelinePid, "the pipeline did not ride out the node's loss (its pid changed)");
      if (electedMs !== undefined) {
        run.expect(stallMs <= electedMs + CLIENT_SLACK_MS, `deliveries stalled ${stallMs} ms, longer than the election (${electedMs} ms) + ${CLIENT_SLACK_MS} ms`);
      }
    } finally {
      for (const w of watchers) await w.close().catch(() => undefined);
      // Back to the suite's own NATS for the scenarios after this one.
      try {
        await ctx.platform.kill("pipeline");
        ctx.platform.configure("pipeline", {});
        await ctx.platform.start("pipeline");
      } finally {
        await cluster.stop();
      }
    }
  },
};

/** The backend that holds the sequencer's leader lock (the lock is taken on a connection named custody-sequencer). */
async function sequencerLockHolder(ctx: Ctx): Promise<number | undefined> {
  const { rows } = await sql<{ pid: number }>`
    SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'custody-sequencer'`.execute(ctx.db);
  return rows[0]?.pid;
}

async function treeSize(ctx: Ctx): Promise<number> {
  return Number((await ctx.db.selectFrom("ledger_head").select("tree_size").executeTakeFirstOrThrow()).tree_size);
}

const LEADS = '"msg":"sequencer is the leader"';

export const sequencerFailover: Scenario = {
  name: "sequencer-failover",
  title: "Two APIs, two pipelines on one database; the pipeline leading the sequencer SIGKILLed under load",
  inShort: false,
  async run(ctx, run) {
    const lockRetryMs = 1_000; // CUSTODY_SEQUENCER_LOCK_RETRY_MS's default, which the platform runs with
    const extra: Instance[] = ["api:b", "pipeline:b"];
    try {
      await Promise.all(extra.map((i) => ctx.platform.start(i)));
      const tenant = await makeTenant(ctx, "failover", ["failover.load"], { a: ok, b: ok });
      const paths = Object.values(tenant.endpoints).map((e) => e.path);
      const rate = 15;
      const loads = [ctx.platform.apiOrigin, ctx.platform.origin("api:b")].map((origin, i) => new Load({ origin, apiKey: tenant.apiKey, idPrefix: `failover${i}`, type: "failover.load", ratePerSecond: rate }));
      for (const l of loads) l.start();
      await sleep(6_000);

      const pipelines: Instance[] = ["pipeline", "pipeline:b"];
      const leading = pipelines.filter((p) => ctx.platform.output(p).includes(LEADS));
      run.expect(leading.length === 1, `expected one pipeline to say its sequencer leads, got ${leading.join(", ") || "none"}`);
      const leader = leading[0] ?? "pipeline";
      const standby = pipelines.find((p) => p !== leader)!;
      const holderBefore = await sequencerLockHolder(ctx);
      const sizeBefore = await treeSize(ctx);

      const killedAt = Date.now();
      await ctx.platform.kill(leader);
      let takeoverMs: number | undefined;
      let resumedMs: number | undefined;
      while (Date.now() - killedAt < 30_000 && resumedMs === undefined) {
        if (takeoverMs === undefined) {
          const holder = await sequencerLockHolder(ctx).catch(() => undefined);
          if (holder !== undefined && holder !== holderBefore) takeoverMs = Date.now() - killedAt;
        }
        if (takeoverMs !== undefined && (await treeSize(ctx)) > sizeBefore) resumedMs = Date.now() - killedAt;
        await sleep(20);
      }
      run.expect(takeoverMs !== undefined && takeoverMs <= lockRetryMs + 1_000, `the standby took the sequencer lock after ${takeoverMs ?? "more than 30 000"} ms (retry interval ${lockRetryMs} ms + 1 s)`);
      run.expect(ctx.platform.output(standby).includes(LEADS), `${standby} never said its sequencer leads`);
      await sleep(6_000);
      await ctx.platform.start(leader); // back as the standby
      await sleep(3_000);
      for (const l of loads) l.stop();

      await closeScenario(ctx, run, { tenant, loads, paths, types: ["failover.load"], liftedAt: killedAt + (takeoverMs ?? 0) });
      const dense = await retrying(() => sql<{ n: string; max: string | null }>`SELECT count(*) AS n, max(leaf_index) AS max FROM ledger_leaves`.execute(ctx.db));
      const n = Number(dense.rows[0]!.n);
      const max = dense.rows[0]!.max === null ? -1 : Number(dense.rows[0]!.max);
      run.expect(n === max + 1, `leaf indexes have gaps: ${n} leaves, highest index ${max}`);
      Object.assign(run.extra, {
        "load (events/s)": `${rate} on each of 2 APIs`,
        killed: `${leader} (its sequencer led), standby ${standby}`,
        "lock retry interval (ms)": lockRetryMs,
        "kill → standby holds the lock (ms)": takeoverMs ?? "never",
        "kill → tree grows again (ms)": resumedMs ?? "never",
        "ledger leaves": `${n}, highest index ${max}`,
        "ack wait (ms)": ACK_WAIT_MS,
      });
    } finally {
      for (const i of extra) await ctx.platform.remove(i);
    }
  },
};

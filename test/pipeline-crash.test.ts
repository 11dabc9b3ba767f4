import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOPS, streamName } from "@custody/bus";
import { sql } from "@custody/db";
import { batchFromLeafHashes, unpackLeafHashes, verifyDelivery } from "@custody/custody";
import { loadSeals, outcomeKey, outcomesOf } from "@custody/deliveries";
import { listPlatformKeys } from "@custody/keys";
import { parseEntry } from "@custody/ledger";
import { toHex } from "@custody/encoding";
import { parseVerifierKey } from "@custody/note";
import { runAudit } from "../services/cli/src/audit.js";
import { DelayedReceiver, type Received } from "./support/delayed-receiver.js";
import { ORIGIN, TestPlatform } from "./support/platform.js";
import { waitFor, type Spawned } from "./support/processes.js";

/**
 * The pipeline's crash promise: killing any stage at any instant (SIGKILL) and restarting it loses
 * nothing, seals no attempt twice, records no outcome twice, and sends a duplicate only as an exact
 * copy of a sealed attempt (same Idempotency-Key, same webhook-id). Every stage runs as its own
 * process while events stream in over the API and a killer SIGKILLs them at random; afterwards
 * Postgres, the receiver and the ledger audit must all agree.
 *
 * Messages a killed process had pulled but not acked come back when their consumer's ack_wait runs
 * out (CUSTODY_STAGE_ACK_WAIT_MS, 5 s in tests: see test/support/platform.ts); live processes keep
 * theirs with working(). Deliveries a killed scheduler had leased come back when the lease runs out.
 * The summary lines print load and drain times.
 */

const STAGES = ["relay", "dispatch", "scheduler", "sequencer"] as const;
type Stage = (typeof STAGES)[number];

const BATCHES = 25;
const PER_BATCH = 20;
const EVENTS = BATCHES * PER_BATCH;
const BATCH_EVERY_MS = 700;
/** Every 4th event also goes to its one-shot callback URL. */
const hasCallback = (n: number) => n % 4 === 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** One process per stage, killed and restarted by the test; the counts go into the summary line. */
class StageProcesses {
  readonly handles = new Map<Stage, Spawned>();
  /** SIGKILLs per stage, and how many of them hit a process that was up and working (not still booting). */
  readonly kills = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  readonly workingKills = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  /** Exits the test did not cause (a stage that crashed on its own). */
  readonly unexpectedExits: string[] = [];
  stopping = false;
  /** What the killer did, with times: printed when the platform fails to drain. */
  readonly log: string[] = [];
  private readonly killed = new WeakSet<Spawned>();
  private readonly t0 = Date.now();

  constructor(private readonly platform: TestPlatform) {}

  start(stage: Stage): void {
    if (this.stopping) return;
    // info level: the only info line of a pipeline process is "pipeline started", once every stage in it runs.
    const p = this.platform.startPipeline(stage, { CUSTODY_SEQUENCER_LOCK_RETRY_MS: "100", CUSTODY_LOG_LEVEL: "info" });
    this.handles.set(stage, p);
    this.note(`start ${stage} pid ${p.child.pid}`);
    void p.exited.then(({ code, signal }) => {
      if (!this.killed.has(p) && !this.stopping) this.unexpectedExits.push(`${stage} exited (code ${code}, signal ${signal}):\n${p.output().slice(-2_000)}`);
    });
  }

  alive(stage: Stage): boolean {
    const p = this.handles.get(stage);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** Up and running its stage (a process takes seconds to boot on a busy machine). */
  ready(stage: Stage): boolean {
    return this.alive(stage) && this.handles.get(stage)!.output().includes('"msg":"pipeline started"');
  }

  async kill(stage: Stage): Promise<void> {
    const p = this.handles.get(stage)!;
    const working = this.ready(stage);
    this.killed.add(p);
    p.child.kill("SIGKILL");
    await p.exited;
    this.note(`SIGKILL ${stage} pid ${p.child.pid}${working ? "" : " (booting)"}`);
    this.kills[stage]++;
    if (working) this.workingKills[stage]++;
  }

  /** Restarts every stage that is not running (killed, or crashed on its own). */
  restartDead(): void {
    for (const s of STAGES) if (!this.alive(s)) this.start(s);
  }

  note(what: string): void {
    this.log.push(`${((Date.now() - this.t0) / 1000).toFixed(2)}s [${Date.now()}] ${what}`);
  }

  outputs(): string {
    return STAGES.map((s) => `--- ${s}\n${this.handles.get(s)?.output().slice(-3_000) ?? ""}`).join("\n");
  }

  summary(): string {
    return STAGES.map((s) => `${s}=${this.kills[s]}(${this.workingKills[s]} working)`).join(" ");
  }
}

interface DeliveryRow {
  id: string;
  event_id: string;
  endpoint_id: string | null;
  kind: "endpoint" | "callback";
  idempotency_key: string;
  status: string;
  attempts: number;
}

describe("pipeline under SIGKILL of every stage", () => {
  const platform = new TestPlatform();
  const receiver = new DelayedReceiver();
  const stages = new StageProcesses(platform);
  let base = "";

  beforeAll(async () => {
    await platform.start();
    base = await receiver.start();
    for (const s of STAGES) stages.start(s);
    // Seconds each on an idle machine; far longer on a busy CI box, where 4 tsx processes boot at once.
    await waitFor(async () => STAGES.every((s) => stages.ready(s)), 110_000, "every stage process to start");
  }, 120_000);
  afterAll(async () => {
    stages.stopping = true;
    await platform.stop();
    await receiver.stop();
  });

  async function apiAs(auth: Record<string, string>, method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) {
    const res = await platform.api.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  }

  async function deliveriesOf(tenantId: string): Promise<DeliveryRow[]> {
    return (
      await sql<DeliveryRow>`
      SELECT id, event_id, endpoint_id, kind, idempotency_key::text AS idempotency_key, status, attempts
      FROM deliveries WHERE tenant_id = ${tenantId} AND replay_id IS NULL ORDER BY id`.execute(platform.t.db)
    ).rows;
  }

  async function statusCounts(tenantId: string): Promise<Record<string, number>> {
    const { rows } = await sql<{ status: string; n: string }>`SELECT status, count(*) AS n FROM deliveries WHERE tenant_id = ${tenantId} GROUP BY status`.execute(platform.t.db);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Where the work is: delivery states, seals and the relay's lag in Postgres; per-consumer pending and unacked counts in JetStream. */
  async function snapshot(tenantId: string): Promise<string> {
    const db = platform.t.db;
    const counts = await statusCounts(tenantId);
    const more = (
      await sql<{ seals: string; outcomes: string; unrelayed: string }>`
      SELECT (SELECT count(*) FROM attempt_seals s JOIN deliveries d ON d.id = s.delivery_id WHERE d.tenant_id = ${tenantId}) AS seals,
             (SELECT count(*) FROM attempt_outcomes WHERE tenant_id = ${tenantId}) AS outcomes,
             (SELECT count(*) FROM ledger_entries e, relay_cursor c WHERE e.kind = 'event' AND (e.xid, e.seq) > (c.xid, c.seq)) AS unrelayed`.execute(db)
    ).rows[0]!;
    const jsm = await platform.nc.jetstreamManager();
    const consumers = await Promise.all(
      Object.values(HOPS).map(async ({ consumer: c }) => {
        const info = await jsm.consumers.info(streamName(platform.prefix), c).catch(() => undefined);
        return info === undefined ? `${c}=?` : `${c}=${info.num_pending}/${info.num_ack_pending}/${info.num_redelivered}`;
      }),
    );
    return `${JSON.stringify(counts)} seals=${more.seals} outcomes=${more.outcomes} unrelayed=${more.unrelayed} js(pending/unacked/redelivered): ${consumers.join(" ")}`;
  }

  /** Waits until the tenant has `expected` deliveries, all delivered; on timeout says where they are stuck. */
  async function drain(tenantId: string, expected: number, timeoutMs: number): Promise<number> {
    const started = Date.now();
    let lastLog = started;
    try {
      await waitFor(
        async () => {
          stages.restartDead();
          const counts = await statusCounts(tenantId);
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            console.log(`[crash] draining ${Math.round((Date.now() - started) / 1000)} s, ${expected} expected: ${await snapshot(tenantId)}`);
          }
          return counts.delivered === expected && Object.values(counts).reduce((a, b) => a + b, 0) === expected;
        },
        timeoutMs,
        `${expected} deliveries delivered`,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${await snapshot(tenantId)}\n` + `${stages.log.join("\n")}\n${stages.unexpectedExits.join("\n")}\n${stages.outputs()}`);
    }
    return Date.now() - started;
  }

  /**
   * What Postgres and the receiver must agree on for a tenant: one delivery per (event, target), all
   * delivered; every attempt sealed once (1..attempts, no gaps) in a seal batch that the ledger logs,
   * and recorded once (one outcome each) in an outcomes batch that the ledger logs; no batch or
   * batch entry without its members; every request the receiver got is an exact sealed attempt of
   * its delivery, so a duplicate carries the same Idempotency-Key and webhook-id.
   */
  async function checkCustody(tenantId: string, paths: readonly string[], pathOf: (d: DeliveryRow) => string): Promise<{ deliveries: number; received: number; duplicates: number }> {
    const db = platform.t.db;
    const deliveries = await deliveriesOf(tenantId);
    expect(deliveries.filter((d) => d.status !== "delivered")).toEqual([]);

    const keysOf = (
      await sql<{ delivery_id: string; attempt_no: number }>`
      SELECT s.delivery_id, s.attempt_no FROM attempt_seals s JOIN deliveries d ON d.id = s.delivery_id WHERE d.tenant_id = ${tenantId}`.execute(db)
    ).rows;
    const seals = await loadSeals(
      db,
      keysOf.map((k) => ({ deliveryId: k.delivery_id, attemptNo: k.attempt_no })),
    );
    expect(seals).toHaveLength(keysOf.length);
    // Rebuilding each outcome record checks it against the leaf its batch logged.
    const outcomes = await outcomesOf(db, seals);
    const recordedKeys = (
      await sql<{ delivery_id: string; attempt_no: number; outcome: string }>`
      SELECT delivery_id, attempt_no, outcome FROM attempt_outcomes WHERE tenant_id = ${tenantId}`.execute(db)
    ).rows;
    expect(outcomes.size).toBe(recordedKeys.length);

    // No attempt sealed or recorded twice, no batch without its members, no batch entry without its batch.
    for (const [table, members] of [
      ["custody_batches", "attempt_seals"],
      ["outcome_batches", "attempt_outcomes"],
    ] as const) {
      const torn = await sql<{ id: string; size: number; n: string }>`
        SELECT b.id, b.size, (SELECT count(*) FROM ${sql.table(members)} m WHERE m.batch_id = b.id) AS n FROM ${sql.table(table)} b`.execute(db);
      expect(torn.rows.filter((b) => Number(b.n) !== b.size)).toEqual([]);
    }
    const batchEntries = (await sql<{ kind: string; n: string }>`SELECT kind, count(*) AS n FROM ledger_entries WHERE kind IN ('seal', 'outcomes') GROUP BY kind`.execute(db)).rows;
    const batches = (await sql<{ seals: string; outcomes: string }>`SELECT (SELECT count(*) FROM custody_batches) AS seals, (SELECT count(*) FROM outcome_batches) AS outcomes`.execute(db)).rows[0]!;
    expect(Object.fromEntries(batchEntries.map((e) => [e.kind, e.n]))).toEqual({ seal: batches.seals, outcomes: batches.outcomes });
    for (const e of (
      await sql<{ body: Buffer; root: Buffer; leaves: Buffer }>`
      SELECT e.body, b.root, b.leaves FROM custody_batches b JOIN ledger_entries e ON e.id = b.entry_id`.execute(db)
    ).rows) {
      expect(parseEntry(e.body)).toMatchObject({ kind: "seal", batchRoot: toHex(e.root) });
      expect(toHex(batchFromLeafHashes(unpackLeafHashes(e.leaves)).root)).toBe(toHex(e.root));
    }

    const sealsOf = new Map<string, typeof seals>();
    for (const s of seals) sealsOf.set(s.deliveryId, [...(sealsOf.get(s.deliveryId) ?? []), s]);
    const keys = (await listPlatformKeys(db)).map((k) => parseVerifierKey(k.vkey));
    const requests = new Map<string, Received[]>();
    for (const r of receiver.requests.filter((q) => paths.includes(q.path))) {
      const key = `${r.path} ${String(r.headers["webhook-id"])}`;
      requests.set(key, [...(requests.get(key) ?? []), r]);
    }
    const problems: string[] = [];
    let received = 0;
    for (const d of deliveries) {
      const sealed = (sealsOf.get(d.id) ?? []).sort((a, b) => a.attemptNo - b.attemptNo);
      const want = Array.from({ length: d.attempts }, (_, i) => i + 1);
      if (d.attempts < 1 || JSON.stringify(sealed.map((s) => s.attemptNo)) !== JSON.stringify(want)) problems.push(`${d.id}: seals ${sealed.map((s) => s.attemptNo)} for ${d.attempts} attempts`);
      const recorded = want.map((n) => outcomes.get(outcomeKey(d.id, n)));
      if (recorded.some((o) => o === undefined)) problems.push(`${d.id}: an attempt of 1..${d.attempts} has no recorded outcome`);
      if (recorded.at(-1)?.outcome !== "delivered" || recorded.slice(0, -1).some((o) => o?.outcome !== "retry")) problems.push(`${d.id}: outcomes ${recorded.map((o) => o?.outcome)}`);

      const key = `${pathOf(d)} ${d.event_id}`;
      const got = requests.get(key) ?? [];
      requests.delete(key);
      received += got.length;
      if (got.length === 0) problems.push(`${d.id}: ${key} never received`);
      for (const r of got) {
        if (r.headers["idempotency-key"] !== d.idempotency_key) problems.push(`${key}: idempotency-key ${String(r.headers["idempotency-key"])}, delivery has ${d.idempotency_key}`);
        const seal = sealed.find((s) => s.headers["x-custody-record"] === r.headers["x-custody-record"]);
        if (seal === undefined) {
          problems.push(`${key}: x-custody-record is no sealed attempt of ${d.id}`);
          continue;
        }
        // A copy is byte-for-byte the sealed attempt: the same headers (hence the same webhook-id, timestamp, signatures) …
        for (const [name, value] of Object.entries(seal.headers)) {
          if (r.headers[name] !== value) problems.push(`${key} attempt ${seal.attemptNo}: header ${name} is ${String(r.headers[name])}, sealed ${value}`);
        }
        // … and the same bytes, under a custody record that verifies against the platform's key.
        try {
          verifyDelivery({ body: r.body, headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)])), keys });
        } catch (err) {
          problems.push(`${key} attempt ${seal.attemptNo}: custody headers do not verify: ${(err as Error).message}`);
        }
      }
    }
    for (const [key, got] of requests) problems.push(`${key}: ${got.length} requests that match no delivery of the tenant`);
    expect(problems.slice(0, 20)).toEqual([]);
    return { deliveries: deliveries.length, received, duplicates: received - deliveries.length };
  }

  /** Every ledger entry sequenced and checkpointed, the leaves dense, and the audit re-derives it all. */
  async function checkLedger(): Promise<number> {
    const db = platform.t.db;
    const total = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ledger_entries`.execute(db)).rows[0]!.n);
    await waitFor(async () => Number((await db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow()).checkpoint_size) === (await total()), 30_000, "the last checkpoint");
    const n = await total();
    const leaves = (await sql<{ n: string; lo: string | null; hi: string | null }>`SELECT count(*) AS n, min(leaf_index) AS lo, max(leaf_index) AS hi FROM ledger_leaves`.execute(db)).rows[0]!;
    expect(leaves).toEqual({ n: String(n), lo: "0", hi: String(n - 1) });
    const report = await runAudit(db, ORIGIN, () => undefined);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ ok: true, treeSize: n });
    return n;
  }

  it(`delivers ${EVENTS} events to every target at least once while every stage is SIGKILLed and restarted`, async () => {
    const t0 = Date.now();
    const { auth, tenantId } = await platform.tenant("Crash");
    const api = (method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) => apiAs(auth, method, url, payload);
    await api("POST", "/api/v2/event-types", { name: "order.placed", description: "an order", personalDataFields: ["/email"] });
    const a = await api("POST", "/api/v2/webhooks", { url: `${base}/a`, subscriptions: ["*"] });
    const b = await api("POST", "/api/v2/webhooks", { url: `${base}/b`, subscriptions: ["*"] });
    const pathOf = (d: DeliveryRow) => (d.kind === "callback" ? "/cb" : d.endpoint_id === a.id ? "/a" : d.endpoint_id === b.id ? "/b" : `?${d.endpoint_id}`);

    // Load: a steady trickle of batches through the API.
    let loading = true;
    const load = (async () => {
      try {
        for (let batch = 0; batch < BATCHES; batch++) {
          const events = Array.from({ length: PER_BATCH }, (_, i) => {
            const n = batch * PER_BATCH + i;
            return { id: `crash-${n}`, type: "order.placed", data: { n, email: `p${n}@example.com`, total: n * 3 }, ...(hasCallback(n) ? { callbackUrl: `${base}/cb` } : {}) };
          });
          const accepted = await api("POST", "/api/v2/events/batch", { events });
          expect(accepted.results.map((r: { status: number }) => r.status)).toEqual(events.map(() => 201));
          await sleep(BATCH_EVERY_MS);
        }
      } finally {
        loading = false;
      }
    })();

    // The killer: every 0.5–1.2 s a random stage (sometimes two at once) is SIGKILLed and restarted
    // 0–400 ms later. Victims are stages that are up and working — the least killed more often than
    // not, so each is hit mid-load — and now and then one that is still booting. Restarting costs
    // seconds of CPU (tsx), so a faster killer only measures how long processes take to boot.
    const killer = (async () => {
      let stopAt = Infinity;
      while ((loading || STAGES.some((s) => stages.workingKills[s] < 2)) && Date.now() < stopAt && !stages.stopping) {
        if (!loading && stopAt === Infinity) stopAt = Date.now() + 60_000;
        await sleep(500 + Math.random() * 700);
        const booting = STAGES.filter((s) => stages.alive(s) && !stages.ready(s));
        const working = STAGES.filter((s) => stages.ready(s));
        let victims: Stage[];
        if (booting.length > 0 && Math.random() < 0.1) victims = [pick(booting)];
        else {
          if (working.length === 0) continue;
          const fewest = Math.min(...working.map((s) => stages.workingKills[s]));
          const first = Math.random() < 0.6 ? pick(working.filter((s) => stages.workingKills[s] === fewest)) : pick(working);
          const others = working.filter((s) => s !== first);
          victims = others.length > 0 && Math.random() < 0.2 ? [first, pick(others)] : [first];
        }
        await Promise.all(victims.map((s) => stages.kill(s)));
        await sleep(Math.random() * 400);
        for (const s of victims) stages.start(s);
      }
    })();
    const progress = setInterval(() => void snapshot(tenantId).then((s) => console.log(`[crash] loading ${((Date.now() - t0) / 1000).toFixed(0)} s: ${s}`)), 10_000);
    await load;
    await killer;
    clearInterval(progress);
    const loadMs = Date.now() - t0;
    for (const s of STAGES) expect(stages.workingKills[s], `kills of a working ${s}`).toBeGreaterThanOrEqual(2);

    const expected = Array.from({ length: EVENTS }, (_, n) => (hasCallback(n) ? 3 : 2)).reduce((x, y) => x + y, 0);
    const drainMs = await drain(tenantId, expected, 90_000);

    const events = await sql<{ n: string }>`SELECT count(*) AS n FROM events WHERE tenant_id = ${tenantId}`.execute(platform.t.db);
    expect(Number(events.rows[0]!.n)).toBe(EVENTS);
    const perEvent = await sql<{ event_id: string; n: string; endpoints: string; callbacks: string }>`
        SELECT event_id, count(*) AS n, count(DISTINCT endpoint_id) AS endpoints, count(*) FILTER (WHERE kind = 'callback') AS callbacks
        FROM deliveries WHERE tenant_id = ${tenantId} AND replay_id IS NULL GROUP BY event_id`.execute(platform.t.db);
    expect(perEvent.rows).toHaveLength(EVENTS);
    for (const r of perEvent.rows) {
      const n = Number(r.event_id.replace("crash-", ""));
      expect({ event: r.event_id, n: Number(r.n), endpoints: Number(r.endpoints), callbacks: Number(r.callbacks) }).toEqual({
        event: r.event_id,
        n: hasCallback(n) ? 3 : 2,
        endpoints: 2,
        callbacks: hasCallback(n) ? 1 : 0,
      });
    }

    const custody = await checkCustody(tenantId, ["/a", "/b", "/cb"], pathOf);
    expect(custody.deliveries).toBe(expected);
    // The relay has passed every event.
    const unrelayed = await sql<{ n: string }>`
        SELECT count(*) AS n FROM ledger_entries e, relay_cursor c WHERE e.kind = 'event' AND (e.xid, e.seq) > (c.xid, c.seq)`.execute(platform.t.db);
    expect(Number(unrelayed.rows[0]!.n)).toBe(0);
    const ledgerSize = await checkLedger();
    expect(stages.unexpectedExits).toEqual([]);

    console.log(
      `[pipeline-crash] events=${EVENTS} deliveries=${custody.deliveries} received=${custody.received} duplicates=${custody.duplicates} ` +
        `ledger=${ledgerSize} load=${(loadMs / 1000).toFixed(1)}s drain=${(drainMs / 1000).toFixed(1)}s kills: ${stages.summary()}`,
    );
  }, 240_000);

  it("a dispatch process killed while a slow receiver holds its requests open re-sends only exact copies, and every delivery ends delivered", async () => {
    const t0 = Date.now();
    const { auth, tenantId } = await platform.tenant("Slow");
    const api = (method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) => apiAs(auth, method, url, payload);
    await api("POST", "/api/v2/event-types", { name: "slow.thing", description: "slow" });
    await api("POST", "/api/v2/webhooks", { url: `${base}/slow`, subscriptions: ["*"] });
    receiver.respond = (req) => (req.path === "/slow" ? { status: 200, body: "ok", delayMs: 1_500 } : { status: 200, body: "ok" });
    stages.restartDead();

    const COUNT = 30;
    const events = Array.from({ length: COUNT }, (_, n) => ({ id: `slow-${n}`, type: "slow.thing", data: { n } }));
    await api("POST", "/api/v2/events/batch", { events });
    // Requests are in flight (the receiver has them, its answers are 1.5 s away): kill the sender now.
    await waitFor(async () => receiver.on("/slow").length >= 5, 30_000, "slow requests in flight");
    const inFlight = receiver.on("/slow").length;
    await stages.kill("dispatch");
    await sleep(200);
    stages.start("dispatch");

    const drainMs = await drain(tenantId, COUNT, 60_000);
    const custody = await checkCustody(tenantId, ["/slow"], () => "/slow");
    expect(custody.deliveries).toBe(COUNT);
    // The requests cut off by the kill went out again, as exact copies.
    expect(custody.duplicates).toBeGreaterThanOrEqual(1);
    const ledgerSize = await checkLedger();
    expect(stages.unexpectedExits).toEqual([]);
    console.log(
      `[pipeline-crash/slow] events=${COUNT} deliveries=${custody.deliveries} received=${custody.received} duplicates=${custody.duplicates} ` +
        `in-flight-at-kill=${inFlight} ledger=${ledgerSize} drain=${(drainMs / 1000).toFixed(1)}s total=${((Date.now() - t0) / 1000).toFixed(1)}s`,
    );
  }, 120_000);
});

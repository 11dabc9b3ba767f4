/**
 * What every scenario measures once its fault is over: deliveries (lost, duplicates and whether
 * each duplicate is byte-identical, every request verified), what clients were answered (5xx by
 * status and code, inside and outside the outage), recovery, the delivery states in Postgres, and
 * `custody audit` over the whole ledger.
 */
import { verifyDelivery } from "@custody/custody";
import { sql, type Db } from "@custody/db";
import { listPlatformKeys } from "@custody/keys";
import { parseVerifierKey } from "@custody/note";
import { runTs } from "../test/support/processes.js";
import type { Answer, SentEvent } from "./load.js";
import type { Platform } from "./platform.js";
import type { ReceivedRequest } from "./receiver.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The first request answered 2xx per `<path> <event id>`: when each delivery arrived. */
export function deliveredAt(requests: readonly ReceivedRequest[], paths: readonly string[]): Map<string, number> {
  const wanted = new Set(paths);
  const at = new Map<string, number>();
  for (const r of requests) {
    if (!wanted.has(r.path) || r.status === null || r.status < 200 || r.status >= 300) continue;
    const key = `${r.path} ${r.webhookId}`;
    if (!at.has(key)) at.set(key, r.at);
  }
  return at;
}

/** Waits until every (path, event) is delivered; gives up at `timeoutMs`, or after `stallMs` without progress. */
export async function awaitDeliveries(flush: () => Promise<readonly ReceivedRequest[]>, paths: readonly string[], eventIds: readonly string[], timeoutMs: number, stallMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const at = deliveredAt(await flush(), paths);
    let missing = 0;
    for (const p of paths) for (const id of eventIds) if (!at.has(`${p} ${id}`)) missing++;
    if (missing === 0) return true;
    if (missing !== last) {
      last = missing;
      lastChange = Date.now();
    }
    if (Date.now() > deadline || Date.now() - lastChange > stallMs) return false;
    await sleep(250);
  }
}

export interface DeliveryFigures {
  /** Events × endpoints that must arrive. */
  expected: number;
  delivered: number;
  lost: string[];
  /** Requests beyond the first of the same sealed attempt. */
  duplicates: number;
  /** Duplicates whose bytes (body and headers) differ from the first copy: must be none. */
  differing: number;
  /** New attempts sealed for a delivery the receiver had already answered 2xx. */
  afterSuccess: number;
  /** Requests whose Standard Webhooks signature or custody record did not verify. */
  unverified: string[];
}

/**
 * Checks what the receiver got on `paths` for `eventIds` (every event accepted, and any the
 * tenant has in Postgres): each arrived (else lost), each copy is byte-identical, and every distinct
 * request verifies (Standard Webhooks signature in the receiver, custody record and seal here).
 */
export async function deliveryFigures(db: Db, requests: readonly ReceivedRequest[], paths: readonly string[], eventIds: readonly string[]): Promise<DeliveryFigures> {
  const at = deliveredAt(requests, paths);
  const lost: string[] = [];
  for (const p of paths) for (const id of eventIds) if (!at.has(`${p} ${id}`)) lost.push(`${p} ${id}`);
  const wanted = new Set(paths);
  const firstDigest = new Map<string, string>();
  const succeeded = new Set<string>();
  let duplicates = 0;
  let differing = 0;
  let afterSuccess = 0;
  const unverified: string[] = [];
  const keys = (await listPlatformKeys(db)).map((k) => parseVerifierKey(k.vkey));
  for (const r of requests) {
    if (!wanted.has(r.path)) continue;
    const attemptKey = `${r.path} ${r.attempt}`;
    const deliveryKey = `${r.path} ${r.webhookId}`;
    const first = firstDigest.get(attemptKey);
    if (first === undefined) {
      firstDigest.set(attemptKey, r.digest);
      if (succeeded.has(deliveryKey)) afterSuccess++;
    } else {
      duplicates++;
      if (first !== r.digest) differing++;
    }
    if (r.status !== null && r.status >= 200 && r.status < 300) succeeded.add(deliveryKey);
    if (r.signed === false) unverified.push(`${deliveryKey}: Standard Webhooks signature`);
    if (r.full !== undefined) {
      try {
        verifyDelivery({ body: Buffer.from(r.full.body, "base64"), headers: r.full.headers, keys });
      } catch (err) {
        unverified.push(`${deliveryKey}: custody record: ${(err as Error).message}`);
      }
    }
  }
  return { expected: paths.length * eventIds.length, delivered: paths.length * eventIds.length - lost.length, lost, duplicates, differing, afterSuccess, unverified };
}

export interface AnswerFigures {
  total: number;
  accepted: number;
  /** `<status> <code>` → count, for every 5xx. */
  fiveXx: Record<string, number>;
  /** 5xx that are not 503 with a Retry-After, or that came outside an outage window. */
  forbidden: string[];
  noAnswer: number;
}

/** What clients were answered. Inside `outages` (ms windows) only 503 with Retry-After is allowed; outside them no 5xx at all. */
export function answerFigures(answers: readonly Answer[], outages: ReadonlyArray<{ from: number; to: number }>, allowedCodes: readonly string[] = ["DATABASE_UNAVAILABLE"]): AnswerFigures {
  const fiveXx: Record<string, number> = {};
  const forbidden: string[] = [];
  let accepted = 0;
  let noAnswer = 0;
  for (const a of answers) {
    if (a.status === null) {
      noAnswer++;
      continue;
    }
    if (a.status === 200 || a.status === 201) accepted++;
    if (a.status < 500) continue;
    const label = `${a.status} ${a.code ?? "?"}`;
    fiveXx[label] = (fiveXx[label] ?? 0) + 1;
    const inOutage = outages.some((w) => a.at >= w.from && a.at <= w.to);
    const ok = inOutage && a.status === 503 && a.retryAfter !== undefined && a.code !== undefined && allowedCodes.includes(a.code);
    if (!ok && forbidden.length < 20) forbidden.push(`${label}${a.retryAfter === undefined ? " without Retry-After" : ""}${inOutage ? "" : " outside the outage"} at ${new Date(a.at).toISOString()}`);
  }
  return { total: answers.length, accepted, fiveXx, forbidden, noAnswer };
}

/**
 * How long after the fault was lifted (`liftedAt`) the backlog of events accepted before then was
 * delivered everywhere: 0 when none was still waiting.
 */
export function backlogDrainedMs(events: readonly SentEvent[], delivered: Map<string, number>, paths: readonly string[], liftedAt: number): number | undefined {
  let last = liftedAt;
  for (const e of events) {
    if (e.acceptedAt === undefined || e.acceptedAt > liftedAt) continue;
    for (const p of paths) {
      const t = delivered.get(`${p} ${e.id}`);
      if (t === undefined) return undefined;
      last = Math.max(last, t);
    }
  }
  return last - liftedAt;
}

/** The first accepted answer at or after `liftedAt`, as ms after it. */
export function apiBackMs(answers: readonly Answer[], liftedAt: number): number | undefined {
  const first = answers.filter((a) => a.at >= liftedAt && (a.status === 200 || a.status === 201)).sort((a, b) => a.at - b.at)[0];
  return first === undefined ? undefined : first.at - liftedAt;
}

/** The tenant's events of these types in Postgres (an event the client never heard about may have committed). */
export async function storedEventIds(db: Db, tenantId: string, types: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`SELECT id FROM events WHERE tenant_id = ${tenantId} AND type = ANY(${sql.val(types)}::text[])`.execute(db);
  return rows.map((r) => r.id);
}

/** Delivery states of a tenant's endpoints, by endpoint id: { delivered: n, retrying: n, … }. */
export async function deliveryStates(db: Db, tenantId: string): Promise<Record<string, Record<string, number>>> {
  const { rows } = await sql<{ endpoint_id: string | null; status: string; n: string }>`
    SELECT endpoint_id, status, count(*) AS n FROM deliveries WHERE tenant_id = ${tenantId} GROUP BY endpoint_id, status`.execute(db);
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const byStatus = out[r.endpoint_id ?? "callback"] ?? {};
    byStatus[r.status] = Number(r.n);
    out[r.endpoint_id ?? "callback"] = byStatus;
  }
  return out;
}

/**
 * Delivery states by endpoint, read again until every delivery of the given endpoints is delivered
 * or `timeoutMs` has passed. A delivery sent just before its pipeline was killed has no outcome
 * until its message comes back (after the ack wait) and the same bytes are sent again: the receiver
 * already holds it, Postgres catches up seconds later.
 */
export async function settledStates(db: Db, tenantId: string, endpoints: ReadonlySet<string>, timeoutMs: number): Promise<Record<string, Record<string, number>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await retrying(() => deliveryStates(db, tenantId));
    const settled = Object.entries(states).every(([endpointId, counts]) => !endpoints.has(endpointId) || Object.keys(counts).every((s) => s === "delivered"));
    if (settled || Date.now() > deadline) return states;
    await sleep(500);
  }
}

/** Retries a query while the database comes back (the suite's own connection also sees outages). */
export async function retrying<T>(f: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export interface AuditFigures {
  ok: boolean;
  treeSize: number;
  checkpoints: number;
  findings: string[];
  ms: number;
}

/** Waits for the sequencer to checkpoint every entry there is now, then runs `custody audit --json` as a user would. */
export async function audit(db: Db, platform: Platform, timeoutMs = 60_000): Promise<AuditFigures> {
  const started = Date.now();
  const count = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ledger_entries`.execute(db)).rows[0]!.n);
  const target = await retrying(count);
  const deadline = Date.now() + timeoutMs;
  while (Number((await retrying(() => db.selectFrom("ledger_head").select("checkpoint_size").executeTakeFirstOrThrow())).checkpoint_size) < target) {
    if (Date.now() > deadline) {
      const head = await db.selectFrom("ledger_head").selectAll().executeTakeFirst();
      const sequencer = platform
        .output("pipeline")
        .split("\n")
        .filter((l) => l.includes("sequencer"))
        .slice(-5)
        .join("\n");
      const sessions = await sql<Record<string, unknown>>`
        SELECT pid, application_name, state, backend_xid::text, backend_xmin::text, xact_start, state_change, wait_event_type, wait_event, left(query, 120) AS query
        FROM pg_stat_activity WHERE backend_type = 'client backend'`.execute(db);
      return {
        ok: false,
        treeSize: 0,
        checkpoints: 0,
        findings: [`the sequencer did not checkpoint ${target} entries within ${timeoutMs} ms: ledger_head ${JSON.stringify(head)}\n${sequencer}\nsessions: ${JSON.stringify(sessions.rows, null, 1)}`],
        ms: Date.now() - started,
      };
    }
    await sleep(200);
  }
  const run = await runTs("services/cli/src/bin.ts", ["audit", "--json"], platform.envFor({ CUSTODY_LOG_LEVEL: "error" }));
  try {
    const report = JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as { ok: boolean; treeSize: number; checkpointsVerified: number; findings?: Array<{ check: string; message: string }> };
    return {
      ok: report.ok && run.code === 0,
      treeSize: report.treeSize,
      checkpoints: report.checkpointsVerified,
      findings: (report.findings ?? []).slice(0, 5).map((f) => `${f.check}: ${f.message}`),
      ms: Date.now() - started,
    };
  } catch {
    return { ok: false, treeSize: 0, checkpoints: 0, findings: [`custody audit exited ${run.code}: ${run.output.slice(-1_000)}`], ms: Date.now() - started };
  }
}

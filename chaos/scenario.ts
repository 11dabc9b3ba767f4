/**
 * What a scenario is given (the running platform, its infrastructure, the receiver, a connection to
 * the database) and what it hands back (figures and failed assertions), plus the steps most
 * scenarios share: a tenant with endpoints on the receiver, and the closing checks.
 */
import type { Db } from "@custody/db";
import { createTenant } from "@custody/tenancy";
import { request } from "undici";
import { answerFigures, apiBackMs, audit, awaitDeliveries, backlogDrainedMs, deliveredAt, deliveryFigures, retrying, settledStates, storedEventIds, type AuditFigures } from "./checks.js";
import type { ChaosNats, ChaosPostgres, SmallDisk } from "./infra.js";
import type { Load } from "./load.js";
import { ACK_WAIT_MS, PROCESSES, type Exit, type Platform } from "./platform.js";
import type { ReceiverProcess } from "./receiver-client.js";
import type { Behaviour } from "./receiver.js";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Ctx {
  short: boolean;
  pg: ChaosPostgres;
  nats: ChaosNats;
  /** The tmpfs under the NATS store, when one could be mounted; else why not. */
  disk: SmallDisk | string;
  platform: Platform;
  receiver: ReceiverProcess;
  db: Db;
  log(line: string): void;
}

/** The figures every scenario reports (absent when a scenario has no such thing). */
export interface Figures {
  accepted?: number;
  expected?: number;
  delivered?: number;
  lost?: number;
  duplicates?: number;
  /** Duplicates that were not byte-identical (must be 0). */
  duplicatesDiffering?: number;
  fiveXx?: Record<string, number>;
  noAnswer?: number;
  /** Fault lifted → first event accepted again. */
  apiBackMs?: number;
  /** Fault lifted → every event accepted before then delivered. */
  recoverMs?: number;
  audit?: AuditFigures;
  exits?: number;
}

export interface Result {
  name: string;
  title: string;
  passed: boolean;
  ms: number;
  figures: Figures;
  /** Scenario-specific figures, printed as they are. */
  extra: Record<string, string | number>;
  failures: string[];
  /** Said in the report, not a failure (e.g. a scenario that cannot run on this machine). */
  notes: string[];
  skipped?: boolean;
}

export class Run {
  readonly figures: Figures = {};
  readonly extra: Record<string, string | number> = {};
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  readonly startedAt = Date.now();
  skipped = false;

  expect(ok: boolean, failure: string): void {
    if (!ok) this.failures.push(failure);
  }
}

export interface Scenario {
  name: string;
  title: string;
  /** Part of `--short` (CI). */
  inShort: boolean;
  run(ctx: Ctx, run: Run): Promise<void>;
}

export interface EndpointSpec {
  behaviour: Behaviour;
  subscriptions?: string[];
  retryPolicy?: unknown;
}

export interface Tenant {
  tenantId: string;
  apiKey: string;
  /** Endpoint name → its receiver path and id. */
  endpoints: Record<string, { path: string; id: string }>;
}

async function api(ctx: Ctx, apiKey: string, method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await request(`${ctx.platform.apiOrigin}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`);
  return json;
}

export const apiCall = api;

/** A tenant with event types and endpoints on the receiver at `/<name>/<endpoint>`, each behaving as said. */
export async function makeTenant(ctx: Ctx, name: string, types: readonly string[], endpoints: Record<string, EndpointSpec>): Promise<Tenant> {
  const created = await retrying(() => createTenant(ctx.db, `chaos ${name}`));
  for (const type of types) await api(ctx, created.apiKey, "POST", "/api/v2/event-types", { name: type, description: `chaos ${name}` });
  const out: Tenant = { tenantId: created.tenantId, apiKey: created.apiKey, endpoints: {} };
  for (const [endpoint, spec] of Object.entries(endpoints)) {
    const path = `/${name}/${endpoint}`;
    const made = await api(ctx, created.apiKey, "POST", "/api/v2/webhooks", {
      url: `${ctx.receiver.base}${path}`,
      subscriptions: spec.subscriptions ?? ["*"],
      ...(spec.retryPolicy === undefined ? {} : { retryPolicy: spec.retryPolicy }),
    });
    ctx.receiver.configure({ [path]: { ...spec.behaviour, secret: made.secret as string } });
    out.endpoints[endpoint] = { path, id: made.id as string };
  }
  return out;
}

export interface Closing {
  tenant: Tenant;
  loads: Load[];
  /** Endpoints that must get every event (healthy ones). */
  paths: string[];
  types: string[];
  /** Windows in which 503 is allowed (ms since the epoch). */
  outages?: Array<{ from: number; to: number }>;
  /** When the fault was lifted, for the recovery figures. */
  liftedAt?: number;
  drainTimeoutMs?: number;
}

/**
 * The checks every scenario ends with: the loads settle (every event accepted), every event reaches
 * every healthy endpoint, duplicates are byte-identical, every request verifies, clients saw no 5xx
 * but 503 in an outage, no process exited on its own, and the audit passes.
 */
export async function closeScenario(ctx: Ctx, run: Run, c: Closing): Promise<void> {
  for (const load of c.loads) {
    const settled = await load.settle(60_000);
    run.expect(settled, `${load.pending()} events still refused 60 s after the load stopped`);
    run.expect(load.refused.length === 0, `events refused for good: ${JSON.stringify(load.refused.slice(0, 3))}`);
  }
  const sent = c.loads.flatMap((l) => l.events);
  const accepted = c.loads.flatMap((l) => l.accepted());
  const stored = await retrying(() => storedEventIds(ctx.db, c.tenant.tenantId, c.types));
  const storedSet = new Set(stored);
  const missing = accepted.filter((e) => !storedSet.has(e.id));
  run.expect(
    missing.length === 0,
    `${missing.length} accepted events are not in Postgres: ${missing
      .slice(0, 3)
      .map((e) => e.id)
      .join(", ")}`,
  );
  const eventIds = [...new Set([...accepted.map((e) => e.id), ...stored])];

  const flush = async () => {
    await ctx.receiver.flush();
    return ctx.receiver.requests;
  };
  const complete = await awaitDeliveries(flush, c.paths, eventIds, c.drainTimeoutMs ?? 120_000);
  const requests = await flush();
  const d = await retrying(() => deliveryFigures(ctx.db, requests, c.paths, eventIds));
  const answers = c.loads.flatMap((l) => l.answers);
  const a = answerFigures(answers, c.outages ?? []);
  Object.assign(run.figures, {
    accepted: accepted.length,
    expected: d.expected,
    delivered: d.delivered,
    lost: d.lost.length,
    duplicates: d.duplicates,
    duplicatesDiffering: d.differing,
    fiveXx: a.fiveXx,
    noAnswer: a.noAnswer,
  } satisfies Figures);
  run.expect(accepted.length === sent.length, `${sent.length - accepted.length} of ${sent.length} events were never accepted`);
  run.expect(complete && d.lost.length === 0, `${d.lost.length} deliveries lost: ${d.lost.slice(0, 5).join(", ")}`);
  run.expect(d.differing === 0, `${d.differing} duplicates are not byte-identical copies`);
  run.expect(d.afterSuccess === 0, `${d.afterSuccess} new attempts sealed after the receiver had answered 2xx`);
  run.expect(d.unverified.length === 0, `requests that do not verify: ${d.unverified.slice(0, 3).join("; ")}`);
  run.expect(a.forbidden.length === 0, `5xx that should not be: ${a.forbidden.slice(0, 5).join("; ")}`);
  if (c.liftedAt !== undefined) {
    const back = apiBackMs(answers, c.liftedAt);
    const drained = backlogDrainedMs(sent, deliveredAt(requests, c.paths), c.paths, c.liftedAt);
    if (back !== undefined) run.figures.apiBackMs = back;
    if (drained !== undefined) run.figures.recoverMs = Math.max(drained, back ?? 0);
  }
  const healthy = new Set(
    Object.values(c.tenant.endpoints)
      .filter((e) => c.paths.includes(e.path))
      .map((e) => e.id),
  );
  const states = await settledStates(ctx.db, c.tenant.tenantId, healthy, ACK_WAIT_MS + 20_000);
  for (const [endpointId, counts] of Object.entries(states)) {
    if (!healthy.has(endpointId)) continue;
    const other = Object.entries(counts).filter(([s]) => s !== "delivered");
    run.expect(other.length === 0, `endpoint ${endpointId} has deliveries not delivered in Postgres: ${JSON.stringify(counts)}`);
  }
  await closeProcesses(ctx, run);
}

/** No process exited on its own during the scenario (a dead one is restarted for the next), and the ledger audits. */
export async function closeProcesses(ctx: Ctx, run: Run): Promise<void> {
  const exits: Exit[] = ctx.platform.exits.filter((e) => e.at >= run.startedAt);
  run.figures.exits = exits.length;
  for (const e of exits) run.failures.push(`${e.name} (pid ${e.pid}) exited on its own: code ${e.code}, signal ${e.signal}\n${e.output.slice(-1_500)}`);
  for (const name of PROCESSES) if (!ctx.platform.alive(name)) await ctx.platform.start(name);
  run.figures.audit = await audit(ctx.db, ctx.platform);
  run.expect(run.figures.audit.ok, `custody audit failed: ${run.figures.audit.findings.join("; ")}`);
}

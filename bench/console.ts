/**
 * Console benchmark (issue 11): is the operator console fast on a large tenant? A database of its
 * own gets one tenant with `--deliveries` (1,000,000) deliveries over 30 days (two endpoints, four
 * in five delivered, some dead and retrying), then the API runs as `npm start` runs it and serves
 * the console built from source. It measures:
 *
 * - `GET /api/v2/deliveries?limit=50` (the console's table), wall time per page seen by a client:
 *   the first page, pages deep in the table (following cursors), one endpoint, and the unindexed
 *   filters (a status, an event type), each `--samples` (30) times;
 * - with Chromium (`/usr/bin/chromium`; skipped with a note when absent): the console's first
 *   render, from navigation (signed in) to the first page of 50 rows drawn, in a fresh browser
 *   context each time (nothing cached), `--renders` (5) times.
 *
 * The seeded events are real ledgered events (one entry each); each event is delivered to both
 * endpoints and replayed to them a few times, which is how one event makes many deliveries here.
 *
 * Flags (after `npm run bench -- console`): --deliveries=N, --samples=N, --renders=N.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";
import { sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { eventEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createTenant } from "@custody/tenancy";
import { ROOT, spawnTs, waitFor, type Spawned } from "../test/support/processes.js";
import { freePort, median, percentile } from "./pipeline-support.js";
import { progress, type BenchResult } from "./report.js";

const CHROMIUM = "/usr/bin/chromium";
const EVENT_TYPES = ["order.created", "order.paid", "order.shipped", "invoice.paid", "user.deleted"];
const DAYS = 30;
const TARGET_URL = "http://127.0.0.1:9/hooks";
/** Each event goes to both endpoints, then is replayed to them REPLAYS − 1 times. */
const REPLAYS = 5;
const EVENT_BATCH = 2_000;
const DELIVERY_BATCH = 50_000;

interface Options {
  deliveries: number;
  samples: number;
  renders: number;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (m) flags.set(m[1]!, m[2]!);
  }
  const int = (name: string, fallback: number, min: number) => {
    const v = flags.get(name);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return { deliveries: int("deliveries", 1_000_000, 2 * REPLAYS), samples: int("samples", 30, 1), renders: int("renders", 5, 1) };
}

/** Events with their ledger entries, then `total` deliveries of them spread over DAYS days. */
async function seed(t: TestDatabase, tenantId: string, endpoints: readonly string[], total: number): Promise<void> {
  const events = Math.ceil(total / (endpoints.length * REPLAYS));
  const bar = progress("seed events", events);
  const start = Date.now() - DAYS * 86_400_000;
  for (let i = 0; i < events; i += EVENT_BATCH) {
    const n = Math.min(EVENT_BATCH, events - i);
    const rows = Array.from({ length: n }, (_, j) => {
      const payload = Buffer.from(JSON.stringify({ orderId: String(i + j), total: 42 }));
      const sha = createHash("sha256").update(payload).digest();
      const type = EVENT_TYPES[(i + j) % EVENT_TYPES.length]!;
      const occurredAt = new Date(start + ((i + j) / events) * DAYS * 86_400_000);
      return { id: `evt-bench-${i + j}`, type, payload, sha, occurredAt };
    });
    const entries = await appendEntries(
      t.db,
      rows.map((r) => ({ tenantId, document: eventEntry({ tenantId, eventId: r.id, type: r.type, payloadSha256: r.sha, occurredAt: r.occurredAt, supersedes: null }) })),
    );
    await t.db
      .insertInto("events")
      .values(
        rows.map((r, j) => ({
          tenant_id: tenantId,
          id: r.id,
          type: r.type,
          event_type_id: null,
          payload: r.payload,
          payload_sha256: r.sha,
          occurred_at: r.occurredAt,
          supersedes: null,
          metadata: null,
          callback_url: null,
          request_hash: r.sha,
          entry_id: entries[j]!.id,
          created_at: r.occurredAt,
        })),
      )
      .execute();
    bar.update(i + n);
  }
  bar.stop();

  const deliveryBar = progress("seed deliveries", total);
  for (let from = 0; from < total; from += DELIVERY_BATCH) {
    const to = Math.min(total, from + DELIVERY_BATCH) - 1;
    // Delivery i: event i / (endpoints × REPLAYS), endpoint i % endpoints, replay (i / endpoints) % REPLAYS;
    // created in the order of i over DAYS days; 80 % delivered, 1 % dead, 1 % retrying, the rest failed then delivered.
    await sql`
      INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, kind, target_url, idempotency_key, status, attempts,
                              created_at, updated_at, delivered_at, next_attempt_at, last_status_code, dead_reason, shape, removed, replay_id)
      SELECT 'dlv_bench' || lpad(i::text, 12, '0'), ${tenantId},
             'evt-bench-' || (i / ${endpoints.length * REPLAYS}),
             (${sql.val(endpoints)}::text[])[1 + i % ${endpoints.length}], 'endpoint', ${TARGET_URL}, gen_random_uuid(),
             CASE WHEN i % 100 = 7 THEN 'dead' WHEN i % 100 = 13 THEN 'retrying' ELSE 'delivered' END,
             CASE WHEN i % 5 = 0 THEN 2 ELSE 1 END,
             at, at,
             CASE WHEN i % 100 IN (7, 13) THEN NULL ELSE at + interval '40 milliseconds' END,
             CASE WHEN i % 100 = 13 THEN now() + interval '1 hour' END,
             CASE WHEN i % 100 = 7 THEN 500 ELSE 200 END,
             CASE WHEN i % 100 = 7 THEN 'exhausted' END,
             'thin', NULL,
             CASE WHEN (i / ${endpoints.length}) % ${REPLAYS} = 0 THEN NULL ELSE 'rpl_bench' || ((i / ${endpoints.length}) % ${REPLAYS}) END
      FROM generate_series(${from}::bigint, ${to}::bigint) AS i,
           LATERAL (SELECT ${new Date(start).toISOString()}::timestamptz + (i::float8 / ${total}) * interval '${sql.raw(String(DAYS))} days' AS at) t`.execute(t.db);
    deliveryBar.update(to + 1);
  }
  deliveryBar.stop();
  await sql`VACUUM ANALYZE deliveries`.execute(t.db);
  await sql`VACUUM ANALYZE events`.execute(t.db);
}

interface Timing {
  p50: number;
  p95: number;
  max: number;
}

function timing(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), max: r(s[s.length - 1]!) };
}

export async function benchConsole(argv: readonly string[]): Promise<BenchResult> {
  const options = parseOptions(argv);
  const t = await createTestDatabase("bench_console");
  const work = mkdtempSync(join(tmpdir(), "custody-console-bench-"));
  let api: Spawned | undefined;
  try {
    const tenant = await createTenant(t.db, "Bench");
    execFileSync(process.execPath, [join(ROOT, "console/build.mjs"), "--out", join(work, "console")], { stdio: "pipe" });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    api = spawnTs("services/api/src/main.ts", [], {
      DATABASE_URL: t.url,
      CUSTODY_API_PORT: String(port),
      CUSTODY_MASTER_KEY: randomBytes(32).toString("base64"),
      CUSTODY_CONSOLE_DIR: join(work, "console"),
      CUSTODY_LOG_LEVEL: "warn",
      // Nothing is delivered here; the endpoints only need a URL the API accepts without DNS.
      CUSTODY_ALLOW_LOOPBACK_TARGETS: "true",
    });
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, 60_000, `the API on ${base}`);
    const headers = { authorization: `Bearer ${tenant.apiKey}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const endpoints: string[] = [];
    for (const name of ["Customer A", "Customer B"]) endpoints.push((await call("POST", "/api/v2/webhooks", { url: TARGET_URL, displayName: name })).id as string);
    await seed(t, tenant.tenantId, endpoints, options.deliveries);

    type Page = { data: unknown[]; nextCursor: string | null };
    const timePage = async (query: string): Promise<{ ms: number; page: Page }> => {
      const t0 = performance.now();
      const page = (await call("GET", `/api/v2/deliveries?limit=50${query}`)) as Page;
      return { ms: performance.now() - t0, page };
    };
    const sample = async (query: string, label: string): Promise<Timing> => {
      await timePage(query); // warm: plan cache, connection
      const ms: number[] = [];
      const bar = progress(label, options.samples);
      for (let i = 0; i < options.samples; i++) {
        const r = await timePage(query);
        if (r.page.data.length === 0) throw new Error(`${label}: an empty page`);
        ms.push(r.ms);
        bar.update(i + 1);
      }
      bar.stop();
      return timing(ms);
    };
    const first = await sample("", "first page");
    const oneEndpoint = await sample(`&endpointId=${endpoints[0]}`, "one endpoint");
    const dead = await sample("&status=dead", "status=dead");
    const typed = await sample("&eventType=order.paid", "eventType");
    // Deep in the table: follow the cursor through the first 100 pages, timing each.
    const deepMs: number[] = [];
    let cursor: string | null = null;
    const deepBar = progress("100 pages deep", 100);
    for (let i = 0; i < 100; i++) {
      const r: { ms: number; page: Page } = await timePage(cursor === null ? "" : `&cursor=${cursor}`);
      deepMs.push(r.ms);
      cursor = r.page.nextCursor;
      deepBar.update(i + 1);
      if (cursor === null) break;
    }
    deepBar.stop();
    const deep = timing(deepMs);

    const figures: Record<string, number> = {
      deliveries: options.deliveries,
      "GET /deliveries?limit=50, first page: p50 (ms)": first.p50,
      "… p95 (ms)": first.p95,
      "… pages 1–100 by cursor: p50 (ms)": deep.p50,
      "… pages 1–100 by cursor: p95 (ms)": deep.p95,
      "… one endpoint: p50 (ms)": oneEndpoint.p50,
      "… one endpoint: p95 (ms)": oneEndpoint.p95,
      "… status=dead (1 %): p50 (ms)": dead.p50,
      "… status=dead (1 %): p95 (ms)": dead.p95,
      "… eventType (1 in 5): p50 (ms)": typed.p50,
      "… eventType (1 in 5): p95 (ms)": typed.p95,
    };

    if (!existsSync(CHROMIUM)) process.stderr.write(`console bench: ${CHROMIUM} not found, first render not measured (apt-get install chromium)\n`);
    else {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"], headless: true });
      try {
        const renders: number[] = [];
        const bar = progress("first render", options.renders);
        for (let i = 0; i < options.renders; i++) {
          // bypassCSP: the wait below is evaluated by the test, which the page's CSP (script-src 'self') would refuse.
          const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
          // Signed in as the sign-in form leaves it: the credential in sessionStorage.
          await context.addInitScript(`sessionStorage.setItem("custody.credential", ${JSON.stringify(JSON.stringify({ kind: "key", token: tenant.apiKey }))})`);
          const page = await context.newPage();
          const t0 = performance.now();
          await page.goto(`${base}/console#/deliveries`);
          await page.waitForFunction(`document.querySelectorAll("[data-testid=deliveries] tr[data-status]").length >= 50`, undefined, { timeout: 30_000 });
          renders.push(performance.now() - t0);
          await context.close();
          bar.update(i + 1);
        }
        bar.stop();
        const r = timing(renders);
        figures["console first render, 50 rows drawn: median (ms)"] = Math.round(median(renders));
        figures["… max (ms)"] = Math.round(r.max);
      } finally {
        await browser.close();
      }
    }
    return { name: "console", figures };
  } finally {
    if (api !== undefined && api.child.exitCode === null) {
      api.child.kill("SIGTERM");
      await api.exited;
    }
    rmSync(work, { recursive: true, force: true });
    await t.drop();
  }
}

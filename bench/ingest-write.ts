/**
 * Ingest write benchmark: what the API's one ingest statement (`insertPreparedEvents`: the events'
 * ledger entries and events rows) costs the Postgres backend that runs it and the process that
 * sends it, by the number of events it carries. The API's group commit decides that number: about
 * 3 at 1,000 single events/s, tens under saturation. Run back to back on one connection planned
 * as the API's writer is (index plans, prepared), with the services' node:crypto backend, so no
 * other process shares the measurement; a fit over the sizes splits each side's CPU into a cost per
 * statement and a cost per event.
 * Events as the pipeline benchmark sends them: a 1 KiB payload, no metadata, no type, no callback.
 */
import { createHash, randomBytes } from "node:crypto";
import { createDb, sql } from "@custody/db";
import { createTestDatabase } from "@custody/db/testing";
import { insertPreparedEvents, type PreparedEventRow } from "@custody/events";
import { useNativeCrypto } from "@custody/runtime";
import { createTenant } from "@custody/tenancy";
import { processCpuUs } from "./pipeline-probes.js";
import { progress, type BenchResult } from "./report.js";

const SIZES = [1, 3, 8, 32, 128] as const;
/** Events written per size and pass, after a warm-up of a tenth of that. */
const EVENTS_PER_SIZE = 6_000;
/** Passes over the sizes, alternating their order, so a drift of the machine does not favour one size. */
const PASSES = 2;

interface Sample {
  statements: number;
  backendUs: number;
  clientUs: number;
}

export async function benchIngestWrite(): Promise<BenchResult> {
  useNativeCrypto();
  const t = await createTestDatabase("bench_ingest_write");
  const writer = createDb({ url: t.url, poolMax: 1, statementTimeoutMs: 60_000, applicationName: "bench-ingest-write", indexPlans: true });
  try {
    const { tenantId } = await createTenant(t.db, "bench");
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(writer.db);
    const backendPid = rows[0]!.pid;
    const payload = Buffer.from(JSON.stringify({ data: randomBytes(505).toString("hex") }));
    const payloadSha256 = createHash("sha256").update(payload).digest();
    const event = (): PreparedEventRow => ({
      tenantId,
      id: `evt_${randomBytes(12).toString("hex")}`,
      type: "order.created",
      eventTypeId: null,
      payload,
      payloadSha256,
      occurredAt: new Date(),
      supersedes: null,
      metadata: null,
      callbackUrl: null,
      requestHash: randomBytes(32),
    });
    // Built before the clock starts: the client's figure is the write, not making up events.
    const groups = (size: number, events: number) => Array.from({ length: Math.ceil(events / size) }, () => Array.from({ length: size }, event));
    const write = async (batches: PreparedEventRow[][]) => {
      for (const b of batches) await insertPreparedEvents(writer.db, b);
    };

    const samples = new Map<number, Sample>(SIZES.map((s) => [s, { statements: 0, backendUs: 0, clientUs: 0 }]));
    const bar = progress("ingest write", PASSES * SIZES.length);
    for (let pass = 0; pass < PASSES; pass++) {
      for (const size of pass % 2 === 0 ? SIZES : [...SIZES].reverse()) {
        await write(groups(size, EVENTS_PER_SIZE / 10));
        const batches = groups(size, EVENTS_PER_SIZE);
        const backend0 = processCpuUs(backendPid)!;
        const client0 = process.cpuUsage();
        await write(batches);
        const client = process.cpuUsage(client0);
        const s = samples.get(size)!;
        s.statements += batches.length;
        s.backendUs += processCpuUs(backendPid)! - backend0;
        s.clientUs += client.user + client.system;
        bar.update(pass * SIZES.length + SIZES.indexOf(size) + 1);
      }
    }
    bar.stop();

    const figures: Record<string, number> = {};
    for (const size of SIZES) {
      const s = samples.get(size)!;
      figures[`${size} event(s) a statement: Postgres backend, µs per event`] = Math.round(s.backendUs / s.statements / size);
      figures[`${size} event(s) a statement: sending process, µs per event`] = Math.round(s.clientUs / s.statements / size);
    }
    for (const [who, us] of [
      ["Postgres backend", (s: Sample) => s.backendUs],
      ["sending process", (s: Sample) => s.clientUs],
    ] as const) {
      const fit = perStatementAndEvent(SIZES.map((size) => [size, us(samples.get(size)!) / samples.get(size)!.statements / size]));
      figures[`${who}: µs per statement (fit)`] = Math.round(fit.perStatement);
      figures[`${who}: µs per event (fit)`] = Math.round(fit.perEvent);
    }
    return { name: "ingest-write", figures };
  } finally {
    await writer.db.destroy();
    await t.drop();
  }
}

/**
 * Splits a cost per event measured at several statement sizes into a cost per statement and one per
 * event (cost per event = perEvent + perStatement / size), by least squares over 1 / size: each
 * size's figure weighs alike, where a fit of the cost per statement would be the largest sizes'.
 */
function perStatementAndEvent(points: ReadonlyArray<readonly [size: number, usPerEvent: number]>): { perStatement: number; perEvent: number } {
  const xs = points.map(([size]) => 1 / size);
  const ys = points.map(([, y]) => y);
  const mx = xs.reduce((a, x) => a + x, 0) / xs.length;
  const my = ys.reduce((a, y) => a + y, 0) / ys.length;
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const perStatement = sxy / sxx;
  return { perStatement, perEvent: my - perStatement * mx };
}

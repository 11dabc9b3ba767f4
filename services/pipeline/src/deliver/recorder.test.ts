import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { createLogger } from "@custody/log";
import { EndpointDirectory } from "../shared/endpoints.js";
import { OutcomeRecorder, type RecordItem } from "./recorder.js";

/** A delivered first attempt's outcome (no endpoint: no health change, so one statement per write). */
function delivered(deliveryId: string): RecordItem {
  const at = new Date();
  return {
    outcome: {
      tenantId: "ten_recorder",
      deliveryId,
      attemptNo: 1,
      root: randomBytes(32).toString("hex"),
      outcome: "delivered",
      statusCode: 200,
      errorClass: null,
      startedAt: at,
      durationMs: 3,
      responseSha256: null,
      responseExcerpt: null,
      update: { status: "delivered", next_attempt_at: null, last_delay_ms: null, last_status_code: 200, last_error: null, dead_reason: null, delivered_at: at },
    },
  };
}

describe("OutcomeRecorder", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("recorder");
  });
  afterAll(async () => {
    await t.drop();
  });

  const recorderWith = (lingerMs: number) =>
    new OutcomeRecorder({ db: t.db, logger: createLogger({ service: "test", level: "silent", pretty: false }), endpoints: new EndpointDirectory(t.db), disableAfterMs: 3_600_000, now: () => new Date(), lingerMs });
  const batchesOf = async (ids: string[]) => (await sql<{ n: number }>`SELECT count(DISTINCT batch_id)::int AS n FROM attempt_outcomes WHERE delivery_id = ANY(${ids}::text[])`.execute(t.db)).rows[0]!.n;

  it("without a linger, writes the first outcome at once and the ones that came meanwhile in the next write", async () => {
    const recorder = recorderWith(0);
    const ids = Array.from({ length: 6 }, () => newId("dlv"));
    const first = recorder.record(delivered(ids[0]!));
    await new Promise((r) => setImmediate(r));
    await Promise.all([first, ...ids.slice(1).map((id) => recorder.record(delivered(id)))]);
    expect(await batchesOf(ids)).toBe(2);
    await recorder.stop();
  });

  it("with a linger, outcomes finishing within it share one statement and one ledger entry", async () => {
    const recorder = recorderWith(200);
    const ids = Array.from({ length: 6 }, () => newId("dlv"));
    const first = recorder.record(delivered(ids[0]!));
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await Promise.all([first, ...ids.slice(1).map((id) => recorder.record(delivered(id)))]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(await batchesOf(ids)).toBe(1);
    const entries = await sql<{ size: number }>`
      SELECT b.size FROM outcome_batches b WHERE b.id = (SELECT batch_id FROM attempt_outcomes WHERE delivery_id = ${ids[0]!})`.execute(t.db);
    expect(entries.rows).toEqual([{ size: 6 }]);
    await recorder.stop();
  });
});

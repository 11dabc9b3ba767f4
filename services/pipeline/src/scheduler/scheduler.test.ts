import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCustodyRecord, verifyDelivery } from "@custody/custody";
import { newId, sql } from "@custody/db";
import { beginAttempts, loadSeals, queueDeliveries } from "@custody/deliveries";
import { parseEntry } from "@custody/ledger";
import { toHex } from "@custody/encoding";
import { verifierKeyOf } from "@custody/note";
import { HOUR, PipelineFixture } from "../pipeline.fixture.js";
import { RetryScheduler } from "./scheduler.js";

async function until<T>(check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The scheduler with the real deliverer and recorder, against Postgres and a local receiver: what
 * happens to deliveries the API queues, to retries, to endpoints that fail or go away, and to
 * attempts whose sender died.
 */
describe("scheduler, deliverer and recorder", () => {
  const f = new PipelineFixture();
  let scheduler: RetryScheduler;
  const keys = () => [verifierKeyOf(f.signer)];

  beforeAll(async () => {
    await f.start();
    scheduler = new RetryScheduler({
      db: f.t.db,
      logger: f.logger,
      endpoints: f.endpoints,
      secrets: f.secrets,
      signer: async () => f.signer,
      deliverer: f.deliverer,
      intervalMs: 60_000,
      batchSize: 64,
      leaseMs: 60_000,
      parkMs: 1_000,
    });
  });
  afterAll(async () => {
    await f.stop();
  });

  /** Queues one delivery per event to the endpoint (as a replay or a test event would) and returns their ids. */
  async function queue(eventIds: string[], endpoint: { id: string; url: string } | { callback: string }): Promise<string[]> {
    const ids = eventIds.map(() => newId("dlv"));
    await f.t.db.transaction().execute((trx) =>
      queueDeliveries(
        trx,
        eventIds.map((eventId, i) => ({ id: ids[i]!, tenantId: f.tenantId, eventId, endpointId: "id" in endpoint ? endpoint.id : null, targetUrl: "id" in endpoint ? endpoint.url : endpoint.callback })),
        new Date(),
      ),
    );
    return ids;
  }
  const settled = (id: string) => until(async () => (await f.outcomes(id)).length > 0 && ["delivered", "retrying", "dead"].includes((await f.delivery(id)).status));
  const dueNow = (id: string) => sql`UPDATE deliveries SET next_attempt_at = now() WHERE id = ${id}`.execute(f.t.db);

  it("redacts a queued delivery at its first seal, sends it sealed, and records its outcome in a logged batch", async () => {
    const ep = await f.endpoint("/ok-1");
    const [eventId] = await f.events(1, "order.placed", { data: () => ({ n: 1, email: "a@example.com" }) });
    const typeId = newId("ety");
    await f.t.db
      .insertInto("event_types")
      .values({ id: typeId, tenant_id: f.tenantId, name: "order.placed", version: 1, personal_data_fields: ["/email"] })
      .execute();
    await sql`UPDATE events SET event_type_id = ${typeId} WHERE id = ${eventId!}`.execute(f.t.db);
    const [id] = await queue([eventId!], ep);
    expect(await scheduler.tick()).toBe(1);
    await settled(id!);
    const delivery = await f.delivery(id!);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, shape: "thin", next_attempt_at: null, last_status_code: 200 });
    expect((delivery.removed as Array<{ path: string }>).map((r) => r.path)).toEqual(["/email"]);
    const hit = f.receiver.on("/ok-1")[0]!;
    expect(JSON.parse(hit.body.toString())).toMatchObject({ data: { n: 1 }, redacted: ["/email"] });
    const record = verifyDelivery({ body: hit.body, headers: hit.headers, keys: keys() });
    expect(record).toMatchObject({ delivery: id, attempt: 1, previous: null, target: { endpoint: ep.id } });
    const [outcome] = await f.outcomes(id!);
    expect(outcome).toMatchObject({ attempt_no: 1, outcome: "delivered", status_code: 200 });
    const entry = await sql<{ body: Buffer }>`
      SELECT e.body FROM attempt_outcomes o JOIN outcome_batches b ON b.id = o.batch_id JOIN ledger_entries e ON e.id = b.entry_id WHERE o.delivery_id = ${id!}`.execute(f.t.db);
    expect(parseEntry(entry.rows[0]!.body)).toMatchObject({ v: 2, kind: "outcomes", size: 1 });
  });

  it("retries by the endpoint's policy (Retry-After honoured), marks the endpoint failing, and chains the next attempt to the last outcome", async () => {
    const ep = await f.endpoint("/busy-1", { retryPolicy: { kind: "exponential" } });
    const [id] = await queue(await f.events(1), ep);
    await scheduler.tick();
    await settled(id!);
    const first = await f.delivery(id!);
    expect(first).toMatchObject({ status: "retrying", attempts: 1, last_status_code: 503, last_delay_ms: "2000" });
    expect(first.next_attempt_at!.getTime() - f.now.getTime()).toBe(2_000);
    expect((await f.t.db.selectFrom("endpoints").select("failing_since").where("id", "=", ep.id).executeTakeFirstOrThrow()).failing_since).not.toBeNull();

    await dueNow(id!);
    await scheduler.tick();
    await until(async () => (await f.outcomes(id!)).length === 2);
    const [one, two] = await loadSeals(f.t.db, [
      { deliveryId: id!, attemptNo: 1 },
      { deliveryId: id!, attemptNo: 2 },
    ]);
    const outcomeLeaf = await sql<{ leaf: Buffer }>`
      SELECT substring(b.leaves FROM o.batch_index * 32 + 1 FOR 32) AS leaf FROM attempt_outcomes o JOIN outcome_batches b ON b.id = o.batch_id
      WHERE o.delivery_id = ${id!} AND o.attempt_no = 1`.execute(f.t.db);
    expect(parseCustodyRecord(one!.record).previous).toBeNull();
    expect(parseCustodyRecord(two!.record).previous).toBe(toHex(outcomeLeaf.rows[0]!.leaf));
    // Every attempt of a delivery sends the same body; each its own seal.
    const hits = f.receiver.on("/busy-1");
    expect(hits[0]!.body.equals(hits[1]!.body)).toBe(true);
    expect(hits[0]!.headers["x-custody-record"]).not.toBe(hits[1]!.headers["x-custody-record"]);
  });

  it("retries a one-shot callback by the callback schedule (3 minutes first)", async () => {
    const url = `${f.receiver.base}/fail-callback`;
    await f.secret(null);
    const [id] = await queue(await f.events(1), { callback: url });
    await scheduler.tick();
    await settled(id!);
    const d = await f.delivery(id!);
    expect(d).toMatchObject({ status: "retrying", last_status_code: 500, last_delay_ms: String(3 * 60_000) });
  });

  it("dead-letters on 410, disables the endpoint, and tells the tenant with one webhook.endpoint.disabled event", async () => {
    const ep = await f.endpoint("/gone-1");
    const ids = await queue(await f.events(2), ep);
    await scheduler.tick();
    await Promise.all(ids.map(settled));
    for (const id of ids) expect(await f.delivery(id)).toMatchObject({ status: "dead", dead_reason: "gone" });
    const endpoint = await f.t.db.selectFrom("endpoints").select(["disabled_at", "disabled_reason"]).where("id", "=", ep.id).executeTakeFirstOrThrow();
    expect(endpoint.disabled_reason).toMatch(/410/);
    const events = await f.t.db.selectFrom("events").select("payload").where("type", "=", "webhook.endpoint.disabled").execute();
    expect(events.filter((e) => JSON.parse(e.payload!.toString()).endpointId === ep.id)).toHaveLength(1);
  });

  it("disables an endpoint that has failed for longer than the threshold", async () => {
    const ep = await f.endpoint("/fail-long", { failingSince: new Date(Date.now() - 121 * HOUR) });
    const [id] = await queue(await f.events(1), ep);
    await scheduler.tick();
    await settled(id!);
    const endpoint = await f.t.db.selectFrom("endpoints").select(["disabled_at", "disabled_reason"]).where("id", "=", ep.id).executeTakeFirstOrThrow();
    expect(endpoint.disabled_reason).toMatch(/failed continuously for 120 hours/);
  });

  it("does not seal an attempt for a disabled endpoint; an attempt sealed before the endpoint was disabled is recorded as not sent", async () => {
    const ep = await f.endpoint("/ok-disabled");
    const [queued] = await queue(await f.events(1), ep);
    await sql`UPDATE endpoints SET disabled_at = now(), disabled_reason = 'disabled by API' WHERE id = ${ep.id}`.execute(f.t.db);
    await scheduler.tick();
    expect(await f.delivery(queued!)).toMatchObject({ status: "dead", attempts: 0, dead_reason: "endpoint disabled before the attempt was sealed" });

    // Sealed while enabled, then disabled before it went out.
    await sql`UPDATE endpoints SET disabled_at = NULL WHERE id = ${ep.id}`.execute(f.t.db);
    const [id] = await queue(await f.events(1), ep);
    const sent = f.receiver.on("/ok-disabled").length;
    const deliver = f.deliverer.deliver.bind(f.deliverer);
    f.deliverer.deliver = async (a) => {
      await sql`UPDATE endpoints SET disabled_at = now() WHERE id = ${ep.id}`.execute(f.t.db);
      await new Promise((r) => setTimeout(r, 5));
      return deliver(a);
    };
    try {
      await scheduler.tick();
      await settled(id!);
    } finally {
      f.deliverer.deliver = deliver;
    }
    expect(f.receiver.on("/ok-disabled")).toHaveLength(sent);
    expect(await f.outcomes(id!)).toEqual([{ attempt_no: 1, outcome: "dead", status_code: null, error_class: "endpoint_disabled" }]);
    expect(await f.delivery(id!)).toMatchObject({ status: "dead", dead_reason: "endpoint_disabled" });
  });

  it("sends an attempt whose lease ran out again, exactly as sealed, and records it once even when two senders both finish", async () => {
    const ep = await f.endpoint("/ok-lease");
    const [id] = await queue(await f.events(1), ep);
    // A scheduler that sealed the attempt and died before sending it: sealed, delivering, lease run out.
    const deliver = f.deliverer.deliver.bind(f.deliverer);
    const lost: Parameters<typeof deliver>[0][] = [];
    f.deliverer.deliver = async (a) => void lost.push(a);
    try {
      await scheduler.tick();
    } finally {
      f.deliverer.deliver = deliver;
    }
    expect(await f.delivery(id!)).toMatchObject({ status: "delivering", attempts: 1 });
    await dueNow(id!);
    await scheduler.tick();
    await settled(id!);
    // The lost sender comes back to life and sends too: the outcome is recorded once.
    await deliver(lost[0]!);
    const hits = f.receiver.on("/ok-lease");
    expect(hits).toHaveLength(2);
    expect(hits[1]!.headers).toEqual({ ...hits[0]!.headers, connection: hits[1]!.headers.connection });
    expect(hits[1]!.body.equals(hits[0]!.body)).toBe(true);
    expect(await f.outcomes(id!)).toHaveLength(1);
    const leaves = await sql<{ n: string }>`SELECT count(*) AS n FROM attempt_outcomes WHERE delivery_id = ${id!}`.execute(f.t.db);
    expect(leaves.rows[0]!.n).toBe("1");
  });

  it("records the attempt of a delivery that was recalled meanwhile, and leaves it cancelled", async () => {
    const ep = await f.endpoint("/slow-recall");
    const [id] = await queue(await f.events(1), ep);
    await scheduler.tick();
    await until(async () => f.receiver.on("/slow-recall").length === 1);
    // A recall between the seal and the outcome (cancelUnsealed only touches unsealed ones; the
    // API could still cancel by hand): the attempt happened and is recorded regardless.
    await sql`UPDATE deliveries SET status = 'cancelled' WHERE id = ${id!}`.execute(f.t.db);
    await until(async () => (await f.outcomes(id!)).length === 1);
    expect(await f.delivery(id!)).toMatchObject({ status: "cancelled" });
    expect((await f.outcomes(id!))[0]).toMatchObject({ outcome: "delivered" });
  });

  it("cancels instead of sealing the next attempt of a recalled event's delivery, and of a retraction's, yet sends the recall's notice", async () => {
    const ep = await f.endpoint("/busy-recalled", { retryPolicy: { kind: "exponential" } });
    const [eventId] = await f.events(1);
    const [retraction] = await f.events(1, "order.placed", { supersedes: eventId! });
    const [notice] = await f.events(1, "order.recalled", { supersedes: eventId!, fanOut: false });
    const failed = await queue([eventId!, retraction!], ep);
    await scheduler.tick();
    for (const id of failed) await settled(id);
    // The recall commits while both wait to retry (recallEvent's cancelUnsealed would have caught them
    // then; these were in flight when it ran).
    await f.recall(eventId!, notice!);
    const [noticeDelivery] = await queue([notice!], await f.endpoint("/ok-recall-notice"));
    for (const id of failed) await dueNow(id);
    await scheduler.tick();
    await settled(noticeDelivery!);
    expect(await f.delivery(noticeDelivery!)).toMatchObject({ status: "delivered" });
    for (const id of failed) expect(await f.delivery(id)).toMatchObject({ status: "cancelled", attempts: 1, next_attempt_at: null });
    expect(f.receiver.on("/busy-recalled")).toHaveLength(2);
  });

  it("seals an attempt only once when two schedulers race for it", async () => {
    const ep = await f.endpoint("/ok-race");
    const [id] = await queue(await f.events(1), ep);
    const begin = { id: id!, attemptNo: 1, leaseUntil: new Date(Date.now() + 60_000), redaction: { shape: "thin" as const, removed: [] } };
    await f.t.db.transaction().execute((trx) => beginAttempts(trx, [begin]));
    await expect(f.t.db.transaction().execute((trx) => beginAttempts(trx, [begin]))).rejects.toThrow(/begun elsewhere/);
    expect(await f.delivery(id!)).toMatchObject({ status: "delivering", attempts: 1 });
  });

  it("gives the rest of a batch back at once when another scheduler began one of its attempts meanwhile", async () => {
    const ep = await f.endpoint("/ok-race-batch");
    const [raced, other] = await queue(await f.events(2), ep);
    // The other scheduler begins `raced` while this one holds the lease (here: while it fetches its signer).
    const racing = new RetryScheduler({
      db: f.t.db,
      logger: f.logger,
      endpoints: f.endpoints,
      secrets: f.secrets,
      signer: async () => {
        const begin = { id: raced!, attemptNo: 1, leaseUntil: new Date(Date.now() + HOUR), redaction: { shape: "thin" as const, removed: [] } };
        await f.t.db.transaction().execute((trx) => beginAttempts(trx, [begin]));
        return f.signer;
      },
      deliverer: f.deliverer,
      intervalMs: 60_000,
      batchSize: 64,
      leaseMs: HOUR,
      parkMs: 1_000,
    });
    expect(await racing.tick()).toBe(2);
    expect(await f.delivery(raced!)).toMatchObject({ status: "delivering", attempts: 1 });
    const back = await f.delivery(other!);
    expect(back).toMatchObject({ status: "pending", attempts: 0 });
    expect(back.next_attempt_at!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(f.receiver.on("/ok-race-batch")).toHaveLength(0);
    // The next tick seals and sends it.
    await scheduler.tick();
    await settled(other!);
    expect(f.receiver.on("/ok-race-batch")).toHaveLength(1);
  });
});

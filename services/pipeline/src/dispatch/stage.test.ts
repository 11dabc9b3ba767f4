import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announce, streamName, type NatsConnection, type RunningStage } from "@custody/bus";
import { createTestTopology, type TestTopology } from "@custody/bus/testing";
import { verifyDelivery } from "@custody/custody";
import { sql } from "@custody/db";
import { verifierKeyOf } from "@custody/note";
import { PipelineFixture } from "../pipeline.fixture.js";
import { startDispatchStage } from "./stage.js";

async function until<T>(check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dispatch against Postgres, JetStream and a local receiver: fan-out, parking, redelivery and the deliveries that can never go out. */
describe("dispatch stage", () => {
  const f = new PipelineFixture();
  let bus: TestTopology;
  let nc: NatsConnection;
  let prefix: string;
  let stage: RunningStage;

  beforeAll(async () => {
    await f.start();
    bus = await createTestTopology("dispatch-test", 5_000);
    ({ nc, prefix } = bus);
    stage = await startDispatchStage({
      db: f.t.db,
      nc,
      prefix,
      logger: f.logger,
      endpoints: f.endpoints,
      secrets: f.secrets,
      signer: async () => f.signer,
      deliverer: f.deliverer,
      batchSize: 64,
      maxHeld: 1_000,
      parkMs: 60_000,
    });
  });
  afterAll(async () => {
    await stage.stop();
    await bus.drop();
    await f.stop();
  });

  const entriesOf = async (ids: string[]) =>
    (await f.t.db.selectFrom("events").select(["id", "entry_id"]).where("tenant_id", "=", f.tenantId).where("id", "in", ids).execute()).map((e) => ({ tenantId: f.tenantId, eventId: e.id, entryId: e.entry_id }));
  const deliveriesOf = (eventIds: string[]) => f.t.db.selectFrom("deliveries").selectAll().where("event_id", "in", eventIds).execute();
  const pending = async () => {
    const info = await (await nc.jetstreamManager()).consumers.info(streamName(prefix), "dispatch");
    return info.num_pending + info.num_ack_pending;
  };

  it("fans each event out to every subscribed endpoint and its callback, seals and sends them, and acks once all are recorded", async () => {
    const a = await f.endpoint("/ok-a", { subscriptions: ["order.*"] });
    const b = await f.endpoint("/ok-b", { subscriptions: ["order.placed"] });
    await f.endpoint("/ok-c", { subscriptions: ["invoice.*"] });
    await f.secret(null);
    const ids = await f.events(3, "order.placed", { callbackUrl: `${f.receiver.base}/ok-callback` });
    await announce(nc, prefix, "events", await entriesOf(ids));
    await until(async () => (await deliveriesOf(ids)).every((d) => d.status === "delivered") && (await deliveriesOf(ids)).length === 9);
    await until(async () => (await pending()) === 0);
    expect(f.receiver.on("/ok-c")).toHaveLength(0);
    for (const path of ["/ok-a", "/ok-b", "/ok-callback"]) {
      const hits = f.receiver.on(path);
      expect(hits).toHaveLength(3);
      for (const h of hits) verifyDelivery({ body: h.body, headers: h.headers, keys: [verifierKeyOf(f.signer)] });
    }
    // Every seal is in a batch the ledger logs.
    const logged = await sql<{ kind: string }>`
      SELECT DISTINCT e.kind FROM attempt_seals s JOIN deliveries d ON d.id = s.delivery_id JOIN custody_batches b ON b.id = s.batch_id
      JOIN ledger_entries e ON e.id = b.entry_id WHERE d.event_id = ANY(${ids})`.execute(f.t.db);
    expect(logged.rows).toEqual([{ kind: "seal" }]);
    expect((await deliveriesOf(ids)).filter((d) => d.endpoint_id === a.id || d.endpoint_id === b.id)).toHaveLength(6);
  });

  it("handles a batch message as its events, acks it once every one is recorded, and sends nothing again when it returns", async () => {
    await f.endpoint("/slow-batch", { subscriptions: ["batch.*"] });
    const ids = await f.events(3, "batch.test");
    const batch = { events: await entriesOf(ids) };
    await announce(nc, prefix, "events", [batch]);
    // Held while its deliveries are in flight (300 ms each at /slow).
    await until(async () => f.receiver.on("/slow-batch").length === 3);
    expect(await pending()).toBe(1);
    await until(async () => (await deliveriesOf(ids)).filter((d) => d.status === "delivered").length === 3);
    await until(async () => (await pending()) === 0);
    // The same batch again (a relay that lost its cursor and outlived the duplicate window).
    await nc.jetstream().publish(`${prefix}.pipeline.events`, new TextEncoder().encode(JSON.stringify(batch)), { msgID: "again-batch" });
    await until(async () => (await pending()) === 0);
    expect(await deliveriesOf(ids)).toHaveLength(3);
    expect(f.receiver.on("/slow-batch")).toHaveLength(3);
  });

  it("does nothing twice for a redelivered event: no new delivery, no new send", async () => {
    await f.endpoint("/ok-redelivery", { subscriptions: ["redelivery.*"] });
    const ids = await f.events(2, "redelivery.test");
    const messages = await entriesOf(ids);
    await announce(nc, prefix, "events", messages);
    await until(async () => (await deliveriesOf(ids)).filter((d) => d.status === "delivered").length === 2);
    // The same events again (a relay that lost its cursor and outlived the duplicate window).
    await nc.jetstream().publish(`${prefix}.pipeline.events`, new TextEncoder().encode(JSON.stringify(messages[0])), { msgID: "again-1" });
    await until(async () => (await pending()) === 0);
    expect(await deliveriesOf(ids)).toHaveLength(2);
    expect(f.receiver.on("/ok-redelivery")).toHaveLength(2);
  });

  it("parks what a hanging endpoint cannot take, so it holds few messages and slows nobody else", async () => {
    await f.endpoint("/hang-park", { subscriptions: ["park.*"] });
    await f.endpoint("/ok-beside", { subscriptions: ["park.*"] });
    const [first] = await f.events(1, "park.test");
    await announce(nc, prefix, "events", await entriesOf([first!]));
    await until(async () => f.receiver.on("/hang-park").length === 1);
    // Its exchange has run past slowMs (100 ms in the fixture): the endpoint now takes at most 4.
    await new Promise((r) => setTimeout(r, 200));
    const ids = await f.events(10, "park.test");
    await announce(nc, prefix, "events", await entriesOf(ids));
    await until(async () => (await deliveriesOf(ids)).length === 20);
    // The healthy endpoint beside it got everything at once.
    await until(async () => f.receiver.on("/ok-beside").length === 11);
    const hanging = (await deliveriesOf(ids)).filter((d) => d.target_url.endsWith("/hang-park"));
    const parked = hanging.filter((d) => d.status === "pending");
    // 1 in flight + 3 more sealed and queued behind it = the slow queue of 4; the rest wait in Postgres.
    expect(hanging.filter((d) => d.attempts === 1)).toHaveLength(3);
    expect(parked).toHaveLength(7);
    for (const d of parked) expect(d.next_attempt_at!.getTime()).toBeGreaterThan(Date.now());
  });

  it("makes a delivery that can never go out dead, with the reason: no signing secret, payload erased", async () => {
    const ep = await f.endpoint("/ok-never", { subscriptions: ["never.*"] });
    await sql`UPDATE signing_secrets SET expires_at = now() WHERE endpoint_id = ${ep.id}`.execute(f.t.db);
    const [noSecret] = await f.events(1, "never.secret");
    await announce(nc, prefix, "events", await entriesOf([noSecret!]));
    await until(async () => (await deliveriesOf([noSecret!])).length === 1);
    expect((await deliveriesOf([noSecret!]))[0]).toMatchObject({ status: "dead", dead_reason: "no valid signing secret", attempts: 0 });

    await f.secret(ep.id);
    const [erased] = await f.events(1, "never.erased");
    await sql`UPDATE events SET payload = NULL, erased_at = now() WHERE id = ${erased!}`.execute(f.t.db);
    await announce(nc, prefix, "events", await entriesOf([erased!]));
    await until(async () => (await deliveriesOf([erased!])).length === 1);
    expect((await deliveriesOf([erased!]))[0]).toMatchObject({ status: "dead", dead_reason: "payload erased before delivery" });
    expect(f.receiver.on("/ok-never")).toHaveLength(0);
  });

  it("makes no delivery of an event recalled before it was dispatched, nor of its retraction", async () => {
    const ep = await f.endpoint("/ok-recalled", { subscriptions: ["*"] });
    const [recalled] = await f.events(1);
    const [retraction] = await f.events(1, "order.placed", { supersedes: recalled! });
    const [other] = await f.events(1);
    await f.recall(recalled!);
    // Announced by ids alone, as the relay announces a backlog: dispatch reads the events back.
    await announce(nc, prefix, "events", await entriesOf([recalled!, retraction!, other!]));
    await until(async () => (await pending()) === 0);
    expect(await deliveriesOf([recalled!, retraction!])).toHaveLength(0);
    expect((await deliveriesOf([other!])).map((d) => d.endpoint_id)).toContain(ep.id);
    await until(async () => f.receiver.on("/ok-recalled").length === 1);
    expect(f.receiver.on("/ok-recalled")[0]!.headers["webhook-id"]).toBe(other);
  });

  it("leaves platform events made with their deliveries (fan_out false) to the scheduler", async () => {
    await f.endpoint("/ok-platform", { subscriptions: ["*"] });
    const ids = await f.events(1, "webhook.test", { fanOut: false });
    await announce(nc, prefix, "events", await entriesOf(ids));
    await until(async () => (await pending()) === 0);
    expect(await deliveriesOf(ids)).toHaveLength(0);
  });
});

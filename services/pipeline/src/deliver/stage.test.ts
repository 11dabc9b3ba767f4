import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBus, deleteTopology, ensureTopology, msgIds, publishAll, streamName, subjectFor, type NatsConnection, type RunningStage, type SendMessage } from "@custody/bus";
import { loadConfig } from "@custody/config";
import { newId } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { appendEvents } from "@custody/events";
import { custodyEntry, decodeEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { createTenant } from "@custody/tenancy";
import { ENDPOINT_DISABLED_EVENT, startDeliverStage } from "./stage.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });
const HOUR = 3_600_000;
const hex32 = () => randomBytes(32).toString("hex");

async function until<T>(check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("deliver stage (Postgres + NATS + a local receiver)", () => {
  let t: TestDatabase;
  let nc: NatsConnection;
  let tenantId: string;
  let server: Server;
  let base: string;
  let stage: RunningStage;
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const hits = new Map<string, number>();
  const bodies = new Map<string, Buffer>();

  beforeAll(async () => {
    t = await createTestDatabase("deliver");
    nc = await connectBus({ url: loadConfig("cli").NATS_URL, name: "deliver-test" });
    await ensureTopology(nc, prefix);
    tenantId = (await createTenant(t.db, "acme")).tenantId;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        hits.set(path, (hits.get(path) ?? 0) + 1);
        bodies.set(path, Buffer.concat(chunks));
        if (path.startsWith("/slow")) setTimeout(() => res.writeHead(200).end("late"), 400);
        else if (path.startsWith("/ok")) res.writeHead(200, { "content-type": "text/plain" }).end("accepted");
        else if (path.startsWith("/busy")) res.writeHead(503, { "retry-after": "2" }).end("busy");
        else if (path.startsWith("/gone")) res.writeHead(410).end("gone");
        else res.writeHead(500).end("oops");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stage = await startDeliverStage({
      nc,
      prefix,
      db: t.db,
      logger,
      config: {
        CUSTODY_STAGE_BATCH: 32,
        CUSTODY_DELIVER_CONCURRENCY: 16,
        CUSTODY_ENDPOINT_CONCURRENCY: 4,
        CUSTODY_DELIVERY_TIMEOUT_MS: 3_000,
        CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS: 120,
        CUSTODY_ALLOW_LOOPBACK_TARGETS: true,
      },
      random: () => 0.5,
    });
  });

  afterAll(async () => {
    await stage?.stop();
    await deleteTopology(nc, prefix);
    await nc.close();
    server.closeAllConnections();
    server.close();
    await t.drop();
  });

  interface Seeded {
    msg: SendMessage;
    endpointId: string | null;
    custodyEntryId: string;
  }

  /** An event, an endpoint (unless a callback), a delivery in flight on attempt 1, and its seal — the rows the FKs need. */
  async function seed(path: string, opts: { callback?: boolean; retryPolicy?: unknown; status?: "delivering" | "cancelled"; failingSince?: Date; disabled?: boolean } = {}): Promise<Seeded> {
    const url = `${base}${path}`;
    const eventId = newId("evt");
    await appendEvents(t.db, tenantId, [
      {
        id: eventId,
        type: "order.created",
        eventTypeId: null,
        data: { n: 1 },
        occurredAt: new Date(),
        supersedes: null,
        metadata: null,
        callbackUrl: opts.callback ? url : null,
        requestHash: randomBytes(32),
      },
    ]);
    let endpointId: string | null = null;
    if (!opts.callback) {
      endpointId = newId("wh");
      await t.db
        .insertInto("endpoints")
        .values({
          id: endpointId,
          tenant_id: tenantId,
          url,
          subscriptions: ["*"],
          retry_policy: JSON.stringify(opts.retryPolicy ?? { kind: "exponential" }),
          rate_limit_per_second: null,
          disabled_at: opts.disabled ? new Date() : null,
          disabled_reason: opts.disabled ? "deleted by API" : null,
          failing_since: opts.failingSince ?? null,
          receipt_public_key: null,
        })
        .execute();
    }
    const deliveryId = newId("dlv");
    const firstAttemptAt = new Date();
    await t.db
      .insertInto("deliveries")
      .values({
        id: deliveryId,
        tenant_id: tenantId,
        event_id: eventId,
        endpoint_id: endpointId,
        target_url: url,
        idempotency_key: randomUUID(),
        status: opts.status ?? "delivering",
        kind: opts.callback ? "callback" : "endpoint",
        replay_id: null,
        attempts: 1,
        first_attempt_at: firstAttemptAt,
        next_attempt_at: null,
        last_delay_ms: null,
        last_status_code: null,
        last_error: null,
        dead_reason: null,
        delivered_at: null,
      })
      .execute();
    const sealId = newId("seal");
    await t.db.insertInto("seal_batches").values({ id: sealId, size: 1, root: randomBytes(32), note: "test seal", key_id: "k" }).execute();
    const custodyRoot = hex32();
    const [entry] = await appendEntries(t.db, [
      {
        tenantId,
        document: custodyEntry({
          tenantId,
          deliveryId,
          eventId,
          attemptNo: 1,
          endpointId,
          hops: { ingested: hex32(), redacted: hex32(), prepared: hex32(), signed: hex32() },
          custodyRoot,
          seal: { batchRoot: hex32(), size: 1, index: 0, keyId: "k" },
        }),
      },
    ]);
    const headers = { "content-type": "application/json", "webhook-id": deliveryId, "idempotency-key": randomUUID() };
    await t.db
      .insertInto("delivery_seals")
      .values({
        delivery_id: deliveryId,
        attempt_no: 1,
        tenant_id: tenantId,
        seal_batch_id: sealId,
        batch_index: 0,
        custody_root: Buffer.from(custodyRoot, "hex"),
        hops: JSON.stringify({}),
        headers: JSON.stringify(headers),
        target_url: url,
        custody_entry_id: entry!.id,
      })
      .execute();
    const msg: SendMessage = {
      deliveryId,
      attemptNo: 1,
      tenantId,
      eventId,
      endpointId,
      url,
      headers,
      body: Buffer.from(`{"delivery":"${deliveryId}"}`).toString("base64"),
      custodyRoot,
      keyIds: ["whk_0123456789abcdef"],
    };
    return { msg, endpointId, custodyEntryId: entry!.id };
  }

  const publish = (msgs: SendMessage[], suffix = "") =>
    publishAll(
      nc,
      msgs.map((m) => ({ subject: subjectFor(prefix, "deliver"), data: m, msgId: msgIds.send(m.deliveryId, m.attemptNo) + suffix })),
    );

  /** Every published message acked: nothing pending or in flight on the deliver consumer. */
  async function drained(): Promise<void> {
    const jsm = await nc.jetstreamManager();
    await until(async () => {
      const info = await jsm.consumers.info(streamName(prefix), "deliver");
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  }

  const attemptRow = (deliveryId: string) => t.db.selectFrom("delivery_attempts").selectAll().where("delivery_id", "=", deliveryId).execute();
  const delivery = (id: string) => t.db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const endpoint = (id: string) => t.db.selectFrom("endpoints").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const attemptEntries = async () =>
    (await t.db.selectFrom("ledger_entries").select(["id", "body"]).where("kind", "=", "attempt").execute()).map((r) => ({ id: r.id, doc: decodeEntry(new Uint8Array(r.body)) }));

  it("sends, records the attempt, its ledger entry and the delivery's state — and a redelivery records nothing twice", async () => {
    const ok = await seed("/ok/1");
    await publish([ok.msg]);
    const [row] = await until(async () => {
      const rows = await attemptRow(ok.msg.deliveryId);
      return rows.length > 0 ? rows : undefined;
    });
    await drained();
    expect(row).toMatchObject({ attempt_no: 1, tenant_id: tenantId, status_code: 200, response_excerpt: "accepted", error_class: null, key_ids: ["whk_0123456789abcdef"], outcome: "delivered" });
    expect(row!.response_sha256).toEqual(createHash("sha256").update("accepted").digest());
    expect(bodies.get("/ok/1")?.toString()).toBe(`{"delivery":"${ok.msg.deliveryId}"}`);

    const entries = await attemptEntries();
    const entry = entries.find((e) => e.id === row!.attempt_entry_id)!;
    expect(entry.doc).toEqual({
      v: 1,
      kind: "attempt",
      tenant: tenantId,
      delivery: ok.msg.deliveryId,
      attempt: 1,
      root: ok.msg.custodyRoot,
      outcome: "delivered",
      status: 200,
      error: null,
      startedAt: row!.started_at.toISOString(),
      durationMs: row!.duration_ms,
      responseSha256: createHash("sha256").update("accepted").digest("hex"),
    });

    const d = await delivery(ok.msg.deliveryId);
    expect(d).toMatchObject({ status: "delivered", last_status_code: 200, last_error: null, dead_reason: null, next_attempt_at: null });
    expect(d.delivered_at).toBeInstanceOf(Date);
    expect((await endpoint(ok.endpointId!)).failing_since).toBeNull();

    // The same message again (a redelivery after a crash before the ack): nothing is sent or recorded.
    const before = entries.length;
    await publish([ok.msg], ":again");
    await drained();
    expect(hits.get("/ok/1")).toBe(1);
    expect(await attemptRow(ok.msg.deliveryId)).toHaveLength(1);
    expect(await attemptEntries()).toHaveLength(before);
  });

  it("schedules a retry by the endpoint's policy (Retry-After honoured) and marks the endpoint failing", async () => {
    const busy = await seed("/busy/1", { retryPolicy: { kind: "default" } });
    await publish([busy.msg]);
    const [row] = await until(async () => {
      const rows = await attemptRow(busy.msg.deliveryId);
      return rows.length > 0 ? rows : undefined;
    });
    expect(row).toMatchObject({ status_code: 503, outcome: "retry" });
    const d = await delivery(busy.msg.deliveryId);
    expect(d).toMatchObject({ status: "retrying", last_status_code: 503, last_error: "HTTP 503", last_delay_ms: "2000" });
    expect(d.next_attempt_at!.getTime() - d.updated_at.getTime()).toBe(2000);
    const e = await endpoint(busy.endpointId!);
    expect(e.failing_since?.toISOString()).toBe(row!.started_at.toISOString());
    expect(e.disabled_at).toBeNull();
  });

  it("retries a callback by the callback schedule (3 minutes first)", async () => {
    const cb = await seed("/fail/callback", { callback: true });
    await publish([cb.msg]);
    await until(async () => (await attemptRow(cb.msg.deliveryId)).length > 0);
    const d = await delivery(cb.msg.deliveryId);
    expect(d).toMatchObject({ status: "retrying", last_status_code: 500, last_delay_ms: String(3 * 60_000) });
  });

  it("dead-letters on 410 and disables the endpoint with one webhook.endpoint.disabled event", async () => {
    const gone = await seed("/gone/1");
    await publish([gone.msg]);
    await until(async () => (await attemptRow(gone.msg.deliveryId)).length > 0);
    expect(await delivery(gone.msg.deliveryId)).toMatchObject({ status: "dead", dead_reason: "gone", last_status_code: 410 });
    const e = await endpoint(gone.endpointId!);
    expect(e.disabled_at).toBeInstanceOf(Date);
    expect(e.disabled_reason).toBe("the endpoint answered 410 Gone");
    const events = await t.db.selectFrom("events").selectAll().where("type", "=", ENDPOINT_DISABLED_EVENT).execute();
    const mine = events.filter((ev) => JSON.parse(ev.payload!.toString()).endpointId === gone.endpointId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.tenant_id).toBe(tenantId);
    expect(JSON.parse(mine[0]!.payload!.toString())).toEqual({ endpointId: gone.endpointId, reason: "the endpoint answered 410 Gone", disabledAt: e.disabled_at!.toISOString() });
    expect(mine[0]!.request_hash).toEqual(createHash("sha256").update(mine[0]!.payload!).digest());
  });

  it("disables an endpoint that has failed for longer than the threshold", async () => {
    const old = await seed("/fail/old", { failingSince: new Date(Date.now() - 121 * HOUR) });
    await publish([old.msg]);
    await until(async () => (await attemptRow(old.msg.deliveryId)).length > 0);
    const e = await endpoint(old.endpointId!);
    expect(e.disabled_reason).toBe("deliveries failed continuously for 120 hours");
    expect(e.failing_since!.getTime()).toBeLessThan(Date.now() - 120 * HOUR);
    // The delivery itself still follows its policy.
    expect(await delivery(old.msg.deliveryId)).toMatchObject({ status: "retrying" });
  });

  it("sends nothing for a delivery that moved on, and dead-letters one whose endpoint was disabled", async () => {
    const cancelled = await seed("/ok/cancelled", { status: "cancelled" });
    const disabled = await seed("/ok/disabled", { disabled: true });
    const marker = await seed("/ok/marker");
    await publish([cancelled.msg, disabled.msg, marker.msg]);
    await until(async () => (await attemptRow(marker.msg.deliveryId)).length > 0);
    await drained();
    expect(hits.get("/ok/cancelled")).toBeUndefined();
    expect(hits.get("/ok/disabled")).toBeUndefined();
    expect(await attemptRow(cancelled.msg.deliveryId)).toHaveLength(0);
    expect(await attemptRow(disabled.msg.deliveryId)).toHaveLength(0);
    expect(await delivery(cancelled.msg.deliveryId)).toMatchObject({ status: "cancelled" });
    expect(await delivery(disabled.msg.deliveryId)).toMatchObject({ status: "dead", dead_reason: "endpoint_disabled" });
  });

  it("sends a copy that arrives while the original is in flight only once, and records it once", async () => {
    const slow = await seed("/slow/1");
    const entriesBefore = (await attemptEntries()).length;
    await publish([slow.msg]);
    await new Promise((r) => setTimeout(r, 100));
    await publish([slow.msg], ":copy"); // as JetStream would after ack_wait ran out
    await until(async () => (await attemptRow(slow.msg.deliveryId)).length > 0);
    await drained();
    expect(hits.get("/slow/1")).toBe(1);
    expect(await attemptRow(slow.msg.deliveryId)).toHaveLength(1);
    expect((await attemptEntries()).length).toBe(entriesBefore + 1);
  });

  it("records an attempt once when two replicas both send it", async () => {
    const replica = await startDeliverStage({
      nc,
      prefix,
      db: t.db,
      logger,
      config: {
        CUSTODY_STAGE_BATCH: 1,
        CUSTODY_DELIVER_CONCURRENCY: 4,
        CUSTODY_ENDPOINT_CONCURRENCY: 4,
        CUSTODY_DELIVERY_TIMEOUT_MS: 3_000,
        CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS: 120,
        CUSTODY_ALLOW_LOOPBACK_TARGETS: true,
      },
    });
    try {
      const slow = await seed("/slow/2");
      const entriesBefore = (await attemptEntries()).length;
      await publish([slow.msg]);
      await publish([slow.msg], ":copy1");
      await publish([slow.msg], ":copy2");
      await until(async () => (await attemptRow(slow.msg.deliveryId)).length > 0);
      await drained();
      expect(hits.get("/slow/2")).toBeGreaterThanOrEqual(1);
      expect(await attemptRow(slow.msg.deliveryId)).toHaveLength(1);
      expect((await attemptEntries()).length).toBe(entriesBefore + 1);
      expect(await delivery(slow.msg.deliveryId)).toMatchObject({ status: "delivered" });
    } finally {
      await replica.stop();
    }
  });

  it("records a whole batch in one go", async () => {
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => seed(`/ok/many/${i}`)));
    await publish(many.map((m) => m.msg));
    await until(async () => {
      const n = await t.db.selectFrom("delivery_attempts").select((eb) => eb.fn.countAll<string>().as("n")).where("delivery_id", "in", many.map((m) => m.msg.deliveryId)).executeTakeFirstOrThrow();
      return Number(n.n) === 20;
    });
    const statuses = await t.db.selectFrom("deliveries").select("status").where("id", "in", many.map((m) => m.msg.deliveryId)).execute();
    expect(statuses.every((s) => s.status === "delivered")).toBe(true);
  });
});

import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeEventContent, deleteTopology, ensureTopology, EventHopMessage, eventsOf, OFFER_MOST_EVENTS, OptionalBus, streamName } from "@custody/bus";
import { testPrefix } from "@custody/bus/testing";
import { loadConfig } from "@custody/config";
import { newId, sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { EVENTS_CHANNEL } from "@custody/events";
import type { HttpApp } from "@custody/http";
import { createLogger } from "@custody/log";
import { createTenant, type CreatedTenant } from "@custody/tenancy";
import { buildApiApp } from "../app.js";
import { OFFER_CONTENT_MOST_BYTES, OFFER_MESSAGE_CONTENT_MOST_BYTES, offerMessages, type CommittedEvent } from "./announce.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });
const prefix = testPrefix();

let t: TestDatabase;
let bus: OptionalBus;
let tenant: CreatedTenant;
const apps: HttpApp[] = [];

async function build(withBus: boolean): Promise<HttpApp> {
  const app = await buildApiApp({ db: t.db, config: loadConfig("api", { CUSTODY_NATS_PREFIX: prefix }), masterKey: randomBytes(32), logger, readiness: {}, ...(withBus ? { bus } : {}) });
  await app.ready();
  apps.push(app);
  return app;
}

async function postEvent(app: HttpApp, event: object = { type: "order.placed", data: { n: 1 } }): Promise<{ id: string; entryId: string }> {
  const res = await app.inject({ method: "POST", url: "/api/v2/events", headers: { authorization: `Bearer ${tenant.apiKey}` }, payload: event });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

beforeAll(async () => {
  t = await createTestDatabase("announce");
  tenant = await createTenant(t.db, "Acme");
  await t.db
    .insertInto("event_types")
    .values({ id: newId("ety"), tenant_id: tenant.tenantId, name: "order.placed", version: 1, data_schema: null, personal_data_fields: ["/buyer"], archived_at: null })
    .execute();
  bus = new OptionalBus({ url: loadConfig("cli").NATS_URL, name: "announce-test" }, logger);
  await vi.waitFor(() => expect(bus.connection).toBeDefined(), { timeout: 10_000, interval: 10 });
  await ensureTopology(bus.connection!, prefix);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  if (bus.connection !== undefined) await deleteTopology(bus.connection, prefix);
  await bus.close();
  await t?.drop();
});

describe("announcing committed events", () => {
  /** The next `count` messages in the dispatcher's stream, acked, with their Nats-Msg-Id. */
  async function nextMessages(count: number): Promise<Array<{ message: EventHopMessage; msgId: string | undefined }>> {
    const consumer = await bus.connection!.jetstream().consumers.get(streamName(prefix), "dispatch");
    const got: Array<{ message: EventHopMessage; msgId: string | undefined }> = [];
    for await (const m of await consumer.fetch({ max_messages: 10, expires: 2_000 })) {
      got.push({ message: EventHopMessage.parse(m.json()), msgId: m.headers?.get("Nats-Msg-Id") });
      m.ack();
      if (got.length === count) break;
    }
    return got;
  }

  /** What each event of a message says, its content decoded, beside what Postgres holds of it. */
  async function offeredAndStored(message: EventHopMessage) {
    const offered = eventsOf(message).map(({ content, ...ids }) => ({ ids, content: content === undefined ? undefined : decodeEventContent(content) }));
    const stored = await Promise.all(eventsOf(message).map(async ({ tenantId, eventId, entryId }) => ({ ids: { tenantId, eventId, entryId }, content: await storedContent(eventId) })));
    return { offered, stored };
  }

  it("offers each committed event to the dispatcher's stream, under its entry id, with what the ledger holds of it, when NATS is up", async () => {
    const app = await build(true);
    const first = await postEvent(app);
    const posted = [first, await postEvent(app, { type: "order.placed", data: { buyer: "Zoë", n: 2 }, metadata: { b: [1.5], a: "é" }, supersedes: first.id })];
    const got = await nextMessages(posted.length);
    expect(got.map((g) => g.msgId)).toEqual(posted.map((p) => p.entryId));
    for (const { message } of got) {
      const { offered, stored } = await offeredAndStored(message);
      expect(offered).toEqual(stored);
    }
    expect(got.flatMap((g) => eventsOf(g.message).map((e) => e.eventId))).toEqual(posted.map((p) => p.id));
  });

  it("offers the events of one commit in one message, under its first and last entry ids, as the relay cuts its copy", async () => {
    const app = await build(true);
    const events = Array.from({ length: 3 }, (_, n) => ({ type: "order.placed", data: { buyer: `B${n}`, n } }));
    const res = await app.inject({ method: "POST", url: "/api/v2/events/batch", headers: { authorization: `Bearer ${tenant.apiKey}` }, payload: { events } });
    expect(res.statusCode, res.body).toBe(200);
    const [got, ...more] = await nextMessages(2);
    expect(more).toEqual([]);
    const entryIds = eventsOf(got!.message).map((e) => e.entryId);
    expect(entryIds).toHaveLength(3);
    expect(got!.msgId).toBe(`${entryIds[0]}..${entryIds[2]}`);
    const { offered, stored } = await offeredAndStored(got!.message);
    expect(offered).toEqual(stored);
  });

  /** What Postgres holds of an event, in the form an offer's content decodes to. */
  async function storedContent(eventId: string) {
    const { rows } = await sql<{ type: string; occurred_at: Date; supersedes: string | null; metadata: object | null; payload: Buffer; callback_url: string | null; leaf_hash: Buffer; personal_data_fields: string[] }>`
      SELECT e.type, e.occurred_at, e.supersedes, e.metadata, e.payload, e.callback_url, le.leaf_hash, t.personal_data_fields
      FROM events e JOIN ledger_entries le ON le.id = e.entry_id JOIN event_types t ON t.id = e.event_type_id
      WHERE e.tenant_id = ${tenant.tenantId} AND e.id = ${eventId}`.execute(t.db);
    const r = rows[0]!;
    return { type: r.type, occurredAt: r.occurred_at, supersedes: r.supersedes, metadata: r.metadata, payload: r.payload, callbackUrl: r.callback_url, leafHash: r.leaf_hash, personalDataFields: r.personal_data_fields };
  }

  it("offers a payload over OFFER_CONTENT_MOST_BYTES, or past the message's OFFER_MESSAGE_CONTENT_MOST_BYTES, by its ids alone, for dispatch to read back", () => {
    const committed = (size: number, n: number) =>
      ({
        accepted: { type: "order.placed", occurredAt: new Date(), supersedes: null, metadata: null, payload: Buffer.alloc(size, 0x20), callbackTarget: null, personalDataFields: [] },
        stored: { tenantId: "ten_1", id: `evt_${n}`, entryId: `ent_${n}`, leafHash: new Uint8Array(32) },
      }) as unknown as CommittedEvent;
    const carried = (sizes: number[]) => offerMessages(sizes.map(committed)).flatMap((m) => eventsOf(m).map((e) => e.content !== undefined));
    expect(carried([OFFER_CONTENT_MOST_BYTES])).toEqual([true]);
    expect(offerMessages([committed(OFFER_CONTENT_MOST_BYTES + 1, 0)])).toEqual([{ tenantId: "ten_1", eventId: "evt_0", entryId: "ent_0" }]);
    const fill = OFFER_MESSAGE_CONTENT_MOST_BYTES / OFFER_CONTENT_MOST_BYTES;
    expect(carried([...Array<number>(fill).fill(OFFER_CONTENT_MOST_BYTES), 1])).toEqual([...Array<boolean>(fill).fill(true), false]);
    expect(carried([OFFER_CONTENT_MOST_BYTES + 1, 10, OFFER_CONTENT_MOST_BYTES])).toEqual([false, true, true]);
  });

  /** Runs `commit` and resolves once the relay's channel was notified; fails if the stream got a message. */
  async function wakesRelayOnly(commit: () => Promise<unknown>): Promise<void> {
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    try {
      await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
      const woken = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the relay was not woken within 5 s")), 5_000);
        listener.once("notification", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await commit();
      await woken;
      await bus.connection!.flush();
      const info = await (await bus.connection!.jetstreamManager()).consumers.info(streamName(prefix), "dispatch");
      expect(info.num_pending).toBe(0);
    } finally {
      await listener.end();
    }
  }

  it("wakes the relay through Postgres when it has no NATS", async () => {
    const app = await build(false);
    await wakesRelayOnly(() => postEvent(app));
  });

  it("wakes the relay instead of offering a commit of more than OFFER_MOST_EVENTS events", async () => {
    const app = await build(true);
    const events = Array.from({ length: OFFER_MOST_EVENTS + 1 }, (_, n) => ({ type: "order.placed", data: { n } }));
    await wakesRelayOnly(async () => {
      const res = await app.inject({ method: "POST", url: "/api/v2/events/batch", headers: { authorization: `Bearer ${tenant.apiKey}` }, payload: { events } });
      expect(res.statusCode, res.body).toBe(200);
    });
  });
});

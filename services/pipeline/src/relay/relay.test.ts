import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitMessages, EVENT_BATCH_MOST, offer, OFFER_MOST_EVENTS, streamName, type NatsConnection } from "@custody/bus";
import { createTestTopology, type TestTopology } from "@custody/bus/testing";
import { outcomesEntry } from "@custody/ledger";
import { appendEntries, ORIGIN_POSITION, type CommitPosition } from "@custody/ledger-store";
import { PipelineFixture } from "../pipeline.fixture.js";
import { eventMessages, Relay } from "./relay.js";

/** The relay's round against Postgres and JetStream: which entries it announces, in what order, and how far it moves. */
describe("relay", () => {
  const f = new PipelineFixture();
  let bus: TestTopology;
  let nc: NatsConnection;
  let prefix: string;
  let relay: Relay;

  beforeAll(async () => {
    await f.start();
    bus = await createTestTopology("relay-test");
    ({ nc, prefix } = bus);
    relay = new Relay({ databaseUrl: f.t.url, nc, prefix, logger: f.logger, batchSize: 100, pollMs: 50, lockRetryMs: 100 });
  });

  afterAll(async () => {
    await bus.drop();
    await f.stop();
  });

  /** Every message in the stream so far, decoded. */
  async function announced(): Promise<unknown[]> {
    const jsm = await nc.jetstreamManager();
    const { state } = await jsm.streams.info(streamName(prefix));
    const out: unknown[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) out.push((await jsm.streams.getMessage(streamName(prefix), { seq })).json());
    return out;
  }

  const entryIdsOf = async (eventIds: readonly string[]) =>
    (await f.t.db.selectFrom("events").select(["id", "entry_id"]).where("id", "in", eventIds).execute()).reduce((m, r) => m.set(r.id, r.entry_id), new Map<string, string>());

  let position: CommitPosition = ORIGIN_POSITION;

  it("announces the events that fan out, with their entry ids, and moves past every entry it read", async () => {
    const fanOut = await f.events(3);
    await f.events(2, "order.placed", { fanOut: false });
    await appendEntries(f.t.db, [{ tenantId: null, document: outcomesEntry({ batchRoot: randomBytes(32).toString("hex"), size: 1 }) }]);

    const round = await relay.relayBatch(f.t.db, position);
    expect(round.heldBack).toBe(false);
    const { n } = await f.t.db
      .selectFrom("ledger_entries")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    expect(round.moved?.count).toBe(Number(n));
    const entries = await entryIdsOf(fanOut);
    expect(await announced()).toEqual([{ events: fanOut.map((eventId) => ({ tenantId: f.tenantId, eventId, entryId: entries.get(eventId) })) }]);
    const cursor = await f.t.db.selectFrom("relay_cursor").select(["xid", "seq"]).executeTakeFirstOrThrow();
    expect({ xid: String(cursor.xid), seq: String(cursor.seq) }).toEqual(round.moved?.position);
    position = round.moved!.position;

    expect(await relay.relayBatch(f.t.db, position)).toEqual({ heldBack: false });
  });

  it("announces the events of a commit in one message, under the id the API's offer of it has", async () => {
    const before = (await announced()).length;
    const one = await f.events(1);
    const small = await f.events(OFFER_MOST_EVENTS);
    const large = await f.events(OFFER_MOST_EVENTS + 1);
    const entries = await entryIdsOf([...one, ...small, ...large]);
    const ids = (eventIds: string[]) => eventIds.map((eventId) => ({ tenantId: f.tenantId, eventId, entryId: entries.get(eventId)! }));
    // The API's offer of the small commit, already in the stream: the relay's copy is dropped against it.
    offer(nc, prefix, "events", commitMessages(ids(small)));
    await nc.flush();
    const round = await relay.relayBatch(f.t.db, position);
    position = round.moved!.position;
    expect((await announced()).slice(before)).toEqual([{ events: ids(small) }, ...ids(one), { events: ids(large) }]);
  });

  it("holds back an event committed after an older transaction that is still open, then announces both in commit-safe order", async () => {
    const before = (await announced()).length;
    // The older transaction takes its xid with its insert, then stays open while a newer one commits.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let inserted!: (ids: string[]) => void;
    const older = new Promise<string[]>((r) => (inserted = r));
    const olderTx = f.t.db.transaction().execute(async (trx) => {
      inserted(await f.events(1, "order.placed", { trx }));
      await released;
    });
    const olderIds = await older;
    const newer = await f.events(1);

    const held = await relay.relayBatch(f.t.db, position);
    expect(held.heldBack).toBe(true);
    expect(held.moved).toBeUndefined();
    expect((await announced()).length).toBe(before);

    release();
    await olderTx;
    const round = await relay.relayBatch(f.t.db, position);
    expect(round.heldBack).toBe(false);
    expect(round.moved?.count).toBe(2);
    const ids = (await announced()).slice(before).map((m) => (m as { eventId: string }).eventId);
    expect(ids).toEqual([...olderIds, ...newer]);
  });
});

describe("eventMessages", () => {
  let seq = 0;
  const rows = (xid: string, n: number, kind: "event" | "seal" = "event") =>
    Array.from({ length: n }, () => {
      const id = `ent_${++seq}`;
      return { xid, seq: String(seq), id, kind, leaf_hash: Buffer.alloc(32), final: true, event_tenant: kind === "event" ? "ten_1" : null, event_id: kind === "event" ? `evt_${seq}` : null };
    });
  const sizes = (messages: ReturnType<typeof eventMessages>) => messages.map((m) => ("events" in m ? m.events.length : 0));

  it("announces each commit in batches of at most EVENT_BATCH_MOST, a batch of one as a single message", () => {
    const page = [...rows("10", OFFER_MOST_EVENTS), ...rows("11", 2 * EVENT_BATCH_MOST + 1), ...rows("12", 1), ...rows("13", 2)];
    expect(sizes(eventMessages(page))).toEqual([OFFER_MOST_EVENTS, EVENT_BATCH_MOST, EVENT_BATCH_MOST, 0, 0, 2]);
    const events = eventMessages(page).flatMap((m) => ("events" in m ? m.events : [m]));
    expect(events.map((e) => e.entryId)).toEqual(page.map((r) => r.id));
  });

  it("counts only the events of a commit that fan out, and skips its other entries", () => {
    const page = [...rows("20", 2), ...rows("20", 3, "seal"), ...rows("20", 1), ...rows("21", 5, "seal"), ...rows("22", 1), ...rows("22", 1, "seal")];
    expect(sizes(eventMessages(page))).toEqual([3, 0]);
  });
});

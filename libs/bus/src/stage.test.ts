import { AckPolicy } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@custody/log";
import { announce, ensureTopology, eventsOf, offer, runStage, streamName, subjectOf, type EventHopMessage, type NatsConnection, type StageRunnerOptions } from "./index.js";
import { createTestTopology, type TestTopology } from "./testing.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const event = (i: number) => ({ tenantId: "ten_1", eventId: `evt_${i}`, entryId: `ent_${i}` });
/** The event ids a message names. */
const idsOf = (m: EventHopMessage) => eventsOf(m).map((e) => e.eventId);

/** A promise that resolves when `release` is called. */
function held(): { gate: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { gate, release };
}

describe("runStage", () => {
  let bus: TestTopology;
  let nc: NatsConnection;
  let prefix: string;
  const pendingCount = async () => {
    const info = await (await nc.jetstreamManager()).consumers.info(streamName(prefix), "dispatch");
    return info.num_pending + info.num_ack_pending;
  };

  beforeAll(async () => {
    bus = await createTestTopology("bus-test");
    ({ nc, prefix } = bus);
    await ensureTopology(nc, prefix); // idempotent
  });
  afterAll(() => bus.drop());
  const start = (o: Pick<StageRunnerOptions<"events">, "handle" | "batchSize" | "concurrency" | "maxHeld">) => runStage({ nc, prefix, hop: "events", logger, ...o });

  it("removes consumers no hop names, so a renamed stage cannot strand messages", async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(streamName(prefix), { durable_name: "fanout", ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.pipeline.redact` });
    await ensureTopology(nc, prefix);
    const names: string[] = [];
    for await (const c of await jsm.consumers.list(streamName(prefix))) names.push(c.name);
    expect(names).toEqual(["dispatch"]);
  });

  it("delivers each message once in batches, drops re-published duplicates, and terminates malformed ones", async () => {
    const messages = Array.from({ length: 500 }, (_, i) => event(i));
    await announce(nc, prefix, "events", messages);
    await announce(nc, prefix, "events", messages.slice(0, 100)); // a relay that crashed after publishing, before moving its cursor
    await nc.jetstream().publish(subjectOf(prefix, "events"), new TextEncoder().encode('{"tenantId":1}'));
    const seen: string[] = [];
    const sizes: number[] = [];
    const stage = await start({
      handle: async (batch) => {
        sizes.push(batch.length);
        seen.push(...batch.flatMap((b) => idsOf(b.data)));
        await new Promise((r) => setTimeout(r, 5));
      },
      batchSize: 64,
      concurrency: 2,
      maxHeld: 1_000,
    });
    await until(() => seen.length >= 500);
    await until(() => false, 200).catch(() => undefined);
    await stage.stop();
    expect(seen.sort()).toEqual(messages.map((m) => m.eventId).sort());
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(await pendingCount()).toBe(0);
  });

  it("counts a batch message as its events: batches and held work are bounded in events, a heavier message goes alone", async () => {
    const batchOf = (from: number, n: number) => ({ events: Array.from({ length: n }, (_, i) => event(from + i)) });
    const messages = [batchOf(5000, 5), event(5005), batchOf(5006, 5), batchOf(5011, 5), batchOf(5016, 30), event(5046), batchOf(5047, 5)];
    await announce(nc, prefix, "events", messages);
    await announce(nc, prefix, "events", [batchOf(5000, 5)]); // the same batch again: dropped by its id
    const batches: number[][] = [];
    const seen: string[] = [];
    const { gate, release } = held();
    const stage = await start({
      handle: async (batch) => {
        batches.push(batch.map((b) => eventsOf(b.data).length));
        seen.push(...batch.flatMap((b) => idsOf(b.data)));
        return batch.map(() => gate);
      },
      batchSize: 12,
      concurrency: 8,
      maxHeld: 20,
    });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    await until(() => seen.length >= 20);
    await until(() => false, 300).catch(() => undefined);
    // While their work is held, batches stop once 20 events are out: the last one handed out crossed it.
    const out = sum(batches.map(sum));
    expect(out - sum(batches[batches.length - 1]!)).toBeLessThan(20);
    release();
    await until(() => seen.length >= 52);
    await until(() => false, 200).catch(() => undefined);
    await stage.stop();
    for (const b of batches) expect(b.length === 1 || sum(b) <= 12, `batch ${JSON.stringify(b)}`).toBe(true);
    expect(batches).toContainEqual([30]);
    expect(seen.sort()).toEqual(Array.from({ length: 52 }, (_, i) => `evt_${5000 + i}`).sort());
    expect(await pendingCount()).toBe(0);
  });

  it("stores an offered message once, and drops its announcement after it was handled", async () => {
    // An offer that reaches the stream twice (say, re-sent by the client after a reconnect) …
    offer(nc, prefix, "events", [event(3001), event(3001)]);
    await nc.flush();
    const seen: string[] = [];
    const stage = await start({ handle: async (batch) => void seen.push(...batch.flatMap((b) => idsOf(b.data))), batchSize: 10, concurrency: 1, maxHeld: 100 });
    await until(() => seen.length >= 1);
    await until(() => false, 200).catch(() => undefined);
    await stage.stop();
    expect(seen).toEqual(["evt_3001"]);
    expect(await pendingCount()).toBe(0);
    // … and the relay, following the ledger, announces it again after dispatch acked it.
    await announce(nc, prefix, "events", [event(3001)]);
    expect(await pendingCount()).toBe(0);
  });

  it("acks each message when its own work completes, and redelivers the one whose work failed", async () => {
    await announce(nc, prefix, "events", [event(1001), event(1002)]);
    const tries = new Map<string, number>();
    const { gate, release } = held();
    const stage = await start({
      handle: async (batch) =>
        batch.map(async (b) => {
          const [id] = idsOf(b.data);
          const n = (tries.get(id!) ?? 0) + 1;
          tries.set(id!, n);
          await gate;
          if (id === "evt_1002" && n === 1) throw new Error("its endpoint write failed");
        }),
      batchSize: 10,
      concurrency: 1,
      maxHeld: 100,
    });
    await until(() => tries.size === 2);
    // Both are held (not acked) while their work is outstanding.
    expect(await pendingCount()).toBe(2);
    release();
    await until(() => tries.get("evt_1002") === 2);
    await until(() => false, 200).catch(() => undefined);
    await stage.stop();
    expect(tries.get("evt_1001")).toBe(1);
    expect(await pendingCount()).toBe(0);
  });

  it("redelivers a batch whose handler failed", async () => {
    await announce(nc, prefix, "events", [event(2001)]);
    const attempts: number[] = [];
    const stage = await start({
      handle: async (batch) => {
        attempts.push(batch[0]!.deliveryCount);
        if (attempts.length === 1) throw new Error("database went away");
      },
      batchSize: 10,
      concurrency: 1,
      maxHeld: 100,
    });
    await until(() => attempts.length >= 2);
    await stage.stop();
    expect(attempts).toEqual([1, 2]);
  });
});

import { DiscardPolicy, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { announce, subjectOf } from "./hops.js";
import { streamName } from "./topology.js";
import { createTestTopology, testPrefix, type TestTopology } from "./testing.js";

const event = (i: number) => ({ tenantId: "ten_1", eventId: `evt_${i}`, entryId: `ent_${i}` });

describe("announce", () => {
  let bus: TestTopology;
  let nc: NatsConnection;
  const streams: string[] = [];

  beforeAll(async () => {
    bus = await createTestTopology("hops-test");
    nc = bus.nc;
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await bus.drop();
  });

  it("resolves once the stream has stored every message, a duplicate stored once", async () => {
    const jsm = await nc.jetstreamManager();
    const name = streamName(bus.prefix);
    const messages = Array.from({ length: 300 }, (_, i) => event(i));
    await announce(nc, bus.prefix, "events", messages);
    await announce(nc, bus.prefix, "events", messages.slice(0, 10));
    expect((await jsm.streams.info(name)).state.messages).toBe(300);
    const first = await jsm.streams.getMessage(name, { seq: 1 });
    expect(first.header.get("Nats-Msg-Id")).toBe("ent_0");
    expect(first.json()).toEqual(event(0));
  });

  it("refuses at once when no stream takes the subject", async () => {
    const started = Date.now();
    await expect(announce(nc, testPrefix(), "events", [event(1)])).rejects.toThrow(/did not store .* ent_1: 503/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("refuses when the stream answers a publish with an error", async () => {
    const prefix = testPrefix();
    const name = `hops_${prefix}`;
    streams.push(name);
    await (await nc.jetstreamManager()).streams.add({ name, subjects: [`${prefix}.pipeline.>`], max_msgs: 2, discard: DiscardPolicy.New });
    await expect(announce(nc, prefix, "events", [event(1), event(2), event(3)])).rejects.toThrow(/did not store .*: .*maximum messages/);
  });

  it("refuses after its timeout when nothing acknowledges", async () => {
    const prefix = testPrefix();
    // A plain subscriber takes the subject, so the server has a responder, but it never answers.
    const sub = nc.subscribe(subjectOf(prefix, "events"));
    try {
      await expect(announce(nc, prefix, "events", [event(1), event(2)], 300)).rejects.toThrow("acknowledged 0 of 2");
    } finally {
      sub.unsubscribe();
    }
  });
});

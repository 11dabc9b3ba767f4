import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@custody/errors";
import { deleteTopology, ensureTopology, replicasRefused, streamConfig, streamName, type NatsConnection } from "./index.js";
import { connectTestBus, testPrefix } from "./testing.js";

describe("streamConfig", () => {
  it("always names its replica count, so an update by an R1 process is explicit rather than a silent default", () => {
    expect(streamConfig("custody", 1).num_replicas).toBe(1);
    expect(streamConfig("custody", 3)).toMatchObject({ name: "CUSTODY_PIPELINE", subjects: ["custody.pipeline.>"], num_replicas: 3 });
  });

  it("refuses counts JetStream cannot hold", () => {
    for (const bad of [0, 6, 2.5, -1]) expect(() => streamConfig("custody", bad)).toThrowError(/1 to 5 replicas/);
  });
});

describe("replicasRefused", () => {
  it("names the stream, both counts, the server's reason and the setting to change", () => {
    const err = replicasRefused("CUSTODY_PIPELINE", 1, 3, new Error("replicas > 1 not supported in non-clustered mode"));
    expect(isAppError(err) && err.code).toBe("DEPENDENCY_UNAVAILABLE");
    expect(err.message).toMatch(/CUSTODY_PIPELINE with 3 replica\(s\) \(it has 1\): replicas > 1 not supported/);
    expect(err.message).toMatch(/CUSTODY_NATS_REPLICAS must not exceed/);
    expect(replicasRefused("S", undefined, 3, new Error("x")).message).toMatch(/\(creating it\)/);
  });
});

// Against the single test server: R1 is what it holds; R3 is refused with the setting's name, and the
// stream is left as it was. Rescaling in a cluster is exercised by the chaos scenario `nats-cluster`.
describe("ensureTopology replicas on a single server", () => {
  let nc: NatsConnection;
  const prefix = testPrefix();

  beforeAll(async () => {
    nc = await connectTestBus("topology-test");
  });
  afterAll(async () => {
    await deleteTopology(nc, prefix);
    await nc.close();
  });

  it("creates the stream at R1, and refuses R3 clearly without touching it", async () => {
    await ensureTopology(nc, prefix, 5_000, 1);
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(streamName(prefix))).config.num_replicas).toBe(1);
    await expect(ensureTopology(nc, prefix, 5_000, 3)).rejects.toThrowError(/with 3 replica\(s\) \(it has 1\).*CUSTODY_NATS_REPLICAS/);
    expect((await jsm.streams.info(streamName(prefix))).config.num_replicas).toBe(1);
    await ensureTopology(nc, prefix, 5_000, 1);
  });

  it("refuses to create a stream at R3 on a single server, naming the setting", async () => {
    const other = `${prefix}x`;
    try {
      await expect(ensureTopology(nc, other, 5_000, 3)).rejects.toThrowError(/\(creating it\).*CUSTODY_NATS_REPLICAS/);
    } finally {
      await deleteTopology(nc, other);
    }
  });
});

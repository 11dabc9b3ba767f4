import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { connectBus, deleteTopology, ensureTopology, publishAll, runStage, subjectFor, type NatsConnection } from "./index.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("runStage", () => {
  let nc: NatsConnection;
  const prefix = `t${randomBytes(5).toString("hex")}`;
  beforeAll(async () => {
    nc = await connectBus({ url: loadConfig("cli").NATS_URL, name: "bus-test" });
    await ensureTopology(nc, prefix);
    await ensureTopology(nc, prefix); // idempotent
  });
  afterAll(async () => {
    await deleteTopology(nc, prefix);
    await nc.close();
  });

  it("delivers each message once in batches, drops re-published duplicates, and terminates malformed ones", async () => {
    const subject = subjectFor(prefix, "redact");
    const messages = Array.from({ length: 500 }, (_, i) => ({ subject, data: { n: i }, msgId: `m${i}` }));
    await publishAll(nc, messages);
    await publishAll(nc, messages.slice(0, 100)); // a relay that crashed after publishing, before marking
    await publishAll(nc, [{ subject, data: { n: "not a number" }, msgId: "bad" }]);
    const seen: number[] = [];
    const sizes: number[] = [];
    const stage = await runStage<{ n: number }>({
      nc,
      prefix,
      stage: "redact",
      logger,
      decode: (v) => {
        const n = (v as { n: unknown }).n;
        if (typeof n !== "number") throw new Error("n must be a number");
        return { n };
      },
      handle: async (batch) => {
        sizes.push(batch.length);
        seen.push(...batch.map((b) => b.data.n));
      },
      batchSize: 64,
      maxWaitMs: 2,
      concurrency: 2,
    });
    await until(() => seen.length >= 500);
    await new Promise((r) => setTimeout(r, 200));
    await stage.stop();
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(500).keys()]);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    const info = await (await nc.jetstreamManager()).consumers.info(`${prefix.toUpperCase()}_PIPELINE`, "redact");
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it("redelivers a batch whose handler failed", async () => {
    const subject = subjectFor(prefix, "seal");
    await publishAll(nc, [{ subject, data: { n: 1 }, msgId: "r1" }]);
    const attempts: number[] = [];
    const stage = await runStage<{ n: number }>({
      nc,
      prefix,
      stage: "seal",
      logger,
      decode: (v) => v as { n: number },
      handle: async (batch) => {
        attempts.push(batch[0]!.deliveryCount);
        if (attempts.length === 1) throw new Error("database went away");
      },
      batchSize: 10,
      maxWaitMs: 0,
      concurrency: 1,
    });
    await until(() => attempts.length >= 2);
    await stage.stop();
    expect(attempts).toEqual([1, 2]);
  });
});

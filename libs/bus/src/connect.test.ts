import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { OptionalBus } from "./connect.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

describe("OptionalBus", () => {
  let bus: OptionalBus | undefined;
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  it("has a connection once NATS answers, and none after close", async () => {
    bus = new OptionalBus({ url: loadConfig("cli").NATS_URL, name: "optional-bus-test" }, logger);
    await vi.waitFor(() => expect(bus?.connection).toBeDefined(), { timeout: 10_000, interval: 10 });
    expect(bus.connection?.isClosed()).toBe(false);
    await bus.close();
    expect(bus.connection).toBeUndefined();
  });

  it("connects again when its connection closes without being asked to", async () => {
    bus = new OptionalBus({ url: loadConfig("cli").NATS_URL, name: "optional-bus-test" }, logger, 50);
    await vi.waitFor(() => expect(bus?.connection).toBeDefined(), { timeout: 10_000, interval: 10 });
    const first = bus.connection!;
    await first.close();
    await vi.waitFor(() => expect(bus?.connection).not.toBe(first), { timeout: 10_000, interval: 10 });
    await vi.waitFor(() => expect(bus?.connection?.isClosed()).toBe(false), { timeout: 10_000, interval: 10 });
  });

  it("has none while NATS does not answer, and neither throws nor waits for it", async () => {
    // Nothing listens on port 9 (discard) here: the background connect keeps retrying.
    bus = new OptionalBus({ url: "nats://127.0.0.1:9", name: "optional-bus-test" }, logger);
    await new Promise((r) => setTimeout(r, 300));
    expect(bus.connection).toBeUndefined();
  });
});

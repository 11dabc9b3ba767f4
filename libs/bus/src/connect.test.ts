import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { OptionalBus } from "./connect.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("OptionalBus", () => {
  let bus: OptionalBus | undefined;
  afterEach(async () => {
    await bus?.close();
    bus = undefined;
  });

  it("has a connection once NATS answers, and none after close", async () => {
    bus = new OptionalBus({ url: loadConfig("cli").NATS_URL, name: "optional-bus-test" }, logger);
    await until(() => bus?.connection !== undefined);
    expect(bus.connection?.isClosed()).toBe(false);
    await bus.close();
    expect(bus.connection).toBeUndefined();
  });

  it("has none while NATS does not answer, and neither throws nor waits for it", async () => {
    // Nothing listens on port 9 (discard) here: the background connect keeps retrying.
    bus = new OptionalBus({ url: "nats://127.0.0.1:9", name: "optional-bus-test" }, logger);
    await new Promise((r) => setTimeout(r, 300));
    expect(bus.connection).toBeUndefined();
  });
});

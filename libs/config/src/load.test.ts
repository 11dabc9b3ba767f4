import { describe, expect, it } from "vitest";
import { loadConfig } from "./index.js";

describe("loadConfig", () => {
  it("applies defaults and freezes the result", () => {
    const config = loadConfig("api", {});
    expect(config.CUSTODY_API_PORT).toBe(3000);
    expect(config.CUSTODY_API_HOST).toBe("127.0.0.1");
    expect(config.DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/custody");
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("coerces numbers and booleans from strings", () => {
    const config = loadConfig("pipeline", { CUSTODY_SEQUENCER_BATCH: "200", CUSTODY_ALLOW_LOOPBACK_TARGETS: "true" });
    expect(config.CUSTODY_SEQUENCER_BATCH).toBe(200);
    expect(config.CUSTODY_ALLOW_LOOPBACK_TARGETS).toBe(true);
  });

  it("names the variable and what was expected", () => {
    expect(() => loadConfig("api", { CUSTODY_API_PORT: "seventy" })).toThrowError(/CUSTODY_API_PORT/);
    expect(() => loadConfig("api", { CUSTODY_MASTER_KEY: "short" })).toThrowError(/CUSTODY_MASTER_KEY: base64 of exactly 32 bytes/);
  });

  it("does not read variables the service does not use", () => {
    const config = loadConfig("proofs", { CUSTODY_API_PORT: "not-a-port" });
    expect(config).not.toHaveProperty("CUSTODY_API_PORT");
  });

  it("refuses production without a master key, and loopback targets in production", () => {
    expect(() => loadConfig("api", { CUSTODY_ENV: "production" })).toThrowError(/CUSTODY_MASTER_KEY is required/);
    const key = Buffer.alloc(32, 7).toString("base64");
    expect(loadConfig("api", { CUSTODY_ENV: "production", CUSTODY_MASTER_KEY: key }).CUSTODY_ENV).toBe("production");
    expect(() => loadConfig("api", { CUSTODY_ENV: "production", CUSTODY_MASTER_KEY: key, CUSTODY_ALLOW_LOOPBACK_TARGETS: "1" })).toThrowError(/CUSTODY_ALLOW_LOOPBACK_TARGETS/);
  });

  it("reads CUSTODY_NATS_REPLICAS in the pipeline only, 1 by default, 1 to 5", () => {
    expect(loadConfig("pipeline", {}).CUSTODY_NATS_REPLICAS).toBe(1);
    expect(loadConfig("pipeline", { CUSTODY_NATS_REPLICAS: "3" }).CUSTODY_NATS_REPLICAS).toBe(3);
    for (const bad of ["0", "6", "2.5", "three"]) expect(() => loadConfig("pipeline", { CUSTODY_NATS_REPLICAS: bad })).toThrowError(/CUSTODY_NATS_REPLICAS/);
    expect(loadConfig("api", { CUSTODY_NATS_REPLICAS: "9" })).not.toHaveProperty("CUSTODY_NATS_REPLICAS");
  });

  it("refuses a peer TTL shorter than two heartbeats, in the API and the pipeline", () => {
    for (const service of ["api", "pipeline"] as const) {
      expect(loadConfig(service, { CUSTODY_PEER_HEARTBEAT_MS: "500", CUSTODY_PEER_TTL_MS: "1000" }).CUSTODY_PEER_TTL_MS).toBe(1000);
      expect(() => loadConfig(service, { CUSTODY_PEER_HEARTBEAT_MS: "1000", CUSTODY_PEER_TTL_MS: "1500" })).toThrowError(/CUSTODY_PEER_TTL_MS/);
    }
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig("api", { CUSTODY_API_PORT: "" }).CUSTODY_API_PORT).toBe(3000);
  });
});

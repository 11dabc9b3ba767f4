import { describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createDb } from "@custody/db";
import { createLogger } from "@custody/log";
import { buildProofsApp } from "./app.js";

describe("the proof service without its database", () => {
  it("answers 503 DATABASE_UNAVAILABLE with Retry-After, public and authenticated routes alike", async () => {
    const { db } = createDb({ url: "postgres://postgres@127.0.0.1:1/custody", poolMax: 2, statementTimeoutMs: 1_000, applicationName: "test-outage" });
    const app = await buildProofsApp({ db, config: loadConfig("proofs", {}), logger: createLogger({ service: "test", level: "silent", pretty: false }), readiness: {} });
    try {
      for (const url of ["/api/v2/proofs/checkpoint", "/api/v2/proofs/consistency?first=1&second=2", "/api/v2/webhooks/events/evt_1/chain-of-custody"]) {
        const res = await app.inject({ url, headers: { authorization: `Bearer ck_test_${"A".repeat(43)}` } });
        expect([res.statusCode, res.headers["retry-after"], res.json()], url).toEqual([503, "5", { error: { code: "DATABASE_UNAVAILABLE", message: "the database is unavailable; retry in 5 s" } }]);
      }
    } finally {
      await app.close();
      await db.destroy();
    }
  });
});

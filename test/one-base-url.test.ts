import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createLogger } from "@custody/log";
import { buildProofsApp } from "../services/proofs/src/app.js";
import { auth, newTenant, startTestApi, type TestApi } from "../services/api/src/shared/test-app.fixture.js";

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("onebase");
});

afterAll(async () => {
  await api.close();
});

describe("one base URL", () => {
  it("lists every route of the proof service in the API's OpenAPI document, as the proof service does", async () => {
    const proofs = await buildProofsApp({ db: api.t.db, config: loadConfig("proofs", {}), logger: createLogger({ service: "test", level: "silent", pretty: false }), readiness: {} });
    try {
      const ours = (await api.app.inject({ url: "/openapi.json" })).json().paths as Record<string, Record<string, unknown>>;
      const theirs = (await proofs.inject({ url: "/openapi.json" })).json().paths as Record<string, Record<string, unknown>>;
      expect(Object.keys(theirs).length).toBeGreaterThan(5);
      for (const [path, methods] of Object.entries(theirs)) {
        for (const [method, op] of Object.entries(methods)) expect(ours[path]?.[method], `${method} ${path}`).toEqual(op);
      }
    } finally {
      await proofs.close();
    }
  });

  it("answers the proof routes with the API's auth and errors: public keys without a key, a tenant's recall only with one", async () => {
    const keys = await api.app.inject({ url: "/api/v2/proofs/keys" });
    expect(keys.statusCode).toBe(200);
    expect(keys.json()).toMatchObject({ keys: expect.any(Array) });
    const anonymous = await api.app.inject({ method: "POST", url: "/api/v2/webhooks/events/evt_0000000000000000/recall", payload: { reason: "test" } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe("UNAUTHENTICATED");
    const acme = await newTenant(api);
    const unknown = await api.app.inject({ url: "/api/v2/webhooks/events/evt_0000000000000000/chain-of-custody", headers: auth(acme.key) });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
  });
});

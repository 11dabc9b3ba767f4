import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  api = await startTestApi("apikeys");
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
});

afterAll(async () => {
  await api.close();
});

async function create(tenant: TestTenant, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api.app.inject({ method: "POST", url: "/api/v2/api-keys", headers: auth(tenant.key, headers), payload: body });
}

describe("API keys", () => {
  it("creates a key, shown once, that works with exactly its scopes", async () => {
    const res = await create(acme, { name: "CI publisher", environment: "live", scopes: ["read", "publish", "read"] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^ck_live_[A-Za-z0-9_-]{43}$/),
      prefix: body.key.slice(0, 16),
      name: "CI publisher",
      environment: "live",
      scopes: ["publish", "read"],
      createdAt: expect.any(String),
    });
    expect((await api.app.inject({ url: "/api/v2/webhooks", headers: auth(body.key) })).statusCode).toBe(200);
    const forbidden = await api.app.inject({ method: "POST", url: "/api/v2/api-keys", headers: auth(body.key), payload: { environment: "test", scopes: ["admin"] } });
    expect([forbidden.statusCode, forbidden.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);

    const test = (await create(acme, { environment: "test", scopes: ["admin"] })).json();
    expect(test).toMatchObject({ key: expect.stringMatching(/^ck_test_/), name: "" });
  });

  it("lists keys by prefix only, never the key or its hash, page by page", async () => {
    const tenant = await newTenant(api, "Lister");
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await create(tenant, { name: `k${i}`, environment: "test", scopes: ["read"] })).json());
    const first = await api.app.inject({ url: "/api/v2/api-keys?limit=2", headers: auth(tenant.key) });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.data).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await api.app.inject({ url: `/api/v2/api-keys?limit=2&cursor=${page1.nextCursor}`, headers: auth(tenant.key) })).json();
    expect(page2.nextCursor).toBeNull();
    const all = [...page1.data, ...page2.data];
    expect(all.map((k: { id: string }) => k.id)).toEqual([tenant.keyId, ...made.map((k) => k.id)]);
    expect(all[1]).toEqual({ id: made[0].id, name: "k0", prefix: made[0].prefix, environment: "test", scopes: ["read"], createdAt: made[0].createdAt, revokedAt: null, lastUsedAt: null });
    const text = JSON.stringify(all);
    for (const k of made) expect(text).not.toContain(k.key.slice(16));
    expect(text).not.toMatch(/hash/i);
  });

  it("revokes a key, which then stops working; revoking again changes nothing", async () => {
    const made = (await create(acme, { environment: "test", scopes: ["read"] })).json();
    const res = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${made.id}`, headers: auth(acme.key) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: made.id, revokedAt: expect.any(String) });
    expect((await api.app.inject({ url: "/api/v2/webhooks", headers: auth(made.key) })).statusCode).toBe(401);
    const again = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${made.id}`, headers: auth(acme.key) });
    expect(again.json().revokedAt).toBe(res.json().revokedAt);
  });

  it("lets a key revoke itself, but never the tenant's last admin key", async () => {
    const tenant = await newTenant(api, "Solo");
    const last = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${tenant.keyId}`, headers: auth(tenant.key) });
    expect(last.statusCode).toBe(409);
    expect(last.json().error).toMatchObject({ code: "CONFLICT", field: "params.id" });

    const second = (await create(tenant, { environment: "test", scopes: ["admin"] })).json();
    const self = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${tenant.keyId}`, headers: auth(tenant.key) });
    expect(self.statusCode).toBe(200);
    expect((await api.app.inject({ url: "/api/v2/api-keys", headers: auth(tenant.key) })).statusCode).toBe(401);
    const nowLast = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${second.id}`, headers: auth(second.key) });
    expect(nowLast.json().error.code).toBe("CONFLICT");
  });

  it("keeps one admin key when two are revoked at once", async () => {
    const tenant = await newTenant(api, "Racing");
    const second = (await create(tenant, { environment: "test", scopes: ["admin", "read"] })).json();
    const results = await Promise.all([tenant.keyId, second.id].map((id) => api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${id}`, headers: auth(second.key) })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const active = await api.t.db.selectFrom("api_keys").select("id").where("tenant_id", "=", tenant.tenantId).where("revoked_at", "is", null).execute();
    expect(active).toHaveLength(1);
  });

  it("answers 404 for another tenant's key and leaves it working", async () => {
    const theirs = (await create(globex, { environment: "test", scopes: ["read"] })).json();
    for (const id of [theirs.id, "key_doesnotexist00000000"]) {
      const res = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${id}`, headers: auth(acme.key) });
      expect([res.statusCode, res.json().error.code]).toEqual([404, "NOT_FOUND"]);
    }
    expect((await api.app.inject({ url: "/api/v2/webhooks", headers: auth(theirs.key) })).statusCode).toBe(200);
    const listed = (await api.app.inject({ url: "/api/v2/api-keys?limit=100", headers: auth(acme.key) })).json();
    expect(listed.data.map((k: { id: string }) => k.id)).not.toContain(theirs.id);
  });

  it("validates the request", async () => {
    for (const [body, field] of [
      [{ environment: "prod", scopes: ["read"] }, "body.environment"],
      [{ environment: "test", scopes: [] }, "body.scopes"],
      [{ environment: "test", scopes: ["root"] }, "body.scopes.0"],
      [{ environment: "test", scopes: ["read"], name: "n".repeat(201) }, "body.name"],
    ] as const) {
      const res = await create(acme, body);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field });
    }
  });

  it("replays a create without the key, and refuses the key for another body", async () => {
    const headers = { "idempotency-key": "new-key-1" };
    const first = await create(acme, { environment: "test", scopes: ["read"] }, headers);
    const again = await create(acme, { environment: "test", scopes: ["read"] }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual({ ...first.json(), key: null });
    const stored = await api.t.db.selectFrom("idempotency_records").select("response").where("key", "=", "new-key-1").executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.response)).not.toContain(first.json().key);
    const conflict = await create(acme, { environment: "live", scopes: ["read"] }, headers);
    expect([conflict.statusCode, conflict.json().error.code]).toEqual([409, "IDEMPOTENCY_KEY_CONFLICT"]);

    const made = (await create(acme, { environment: "test", scopes: ["read"] })).json();
    const revokeHeaders = auth(acme.key, { "idempotency-key": "revoke-key-1" });
    const revoked = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${made.id}`, headers: revokeHeaders });
    const replay = await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${made.id}`, headers: revokeHeaders });
    expect([replay.statusCode, replay.headers["idempotent-replayed"]]).toEqual([200, "true"]);
    expect(replay.json()).toEqual(revoked.json());
  });

  it("needs a valid admin key to manage keys and read to list them", async () => {
    expect((await api.app.inject({ url: "/api/v2/api-keys" })).statusCode).toBe(401);
    expect((await api.app.inject({ url: "/api/v2/api-keys", headers: { authorization: "Basic abc" } })).statusCode).toBe(401);
    expect((await api.app.inject({ url: "/api/v2/api-keys", headers: auth("ck_live_nope") })).statusCode).toBe(401);
    const reader = await keyWith(api, acme, ["read"]);
    expect((await api.app.inject({ url: "/api/v2/api-keys", headers: auth(reader) })).statusCode).toBe(200);
    for (const res of [
      await api.app.inject({ method: "POST", url: "/api/v2/api-keys", headers: auth(reader), payload: { environment: "test", scopes: ["read"] } }),
      await api.app.inject({ method: "DELETE", url: `/api/v2/api-keys/${acme.keyId}`, headers: auth(reader) }),
    ]) {
      expect([res.statusCode, res.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);
    }
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { newId } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import type { HttpApp } from "@custody/http";
import { decryptSecret } from "@custody/keys";
import { createLogger } from "@custody/log";
import { secretKeyId } from "@custody/signing";
import { createTenant, insertApiKey, type CreatedTenant } from "@custody/tenancy";
import { buildApiApp } from "../app.js";

let t: TestDatabase;
let app: HttpApp;
const masterKey = randomBytes(32);

beforeAll(async () => {
  t = await createTestDatabase("callbacksecret");
  app = await buildApiApp({
    db: t.db,
    config: loadConfig("api", { CUSTODY_ALLOW_LOOPBACK_TARGETS: "true", CUSTODY_SECRET_OVERLAP_HOURS: "6" }),
    masterKey,
    logger: createLogger({ service: "test", level: "silent", pretty: false }),
    readiness: {},
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const headers = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });
const status = (key: string) => app.inject({ method: "GET", url: "/api/v2/callback-secret", headers: headers(key) });
const rotate = (key: string, extra: Record<string, string> = {}) => app.inject({ method: "POST", url: "/api/v2/callback-secret/rotate", headers: headers(key, extra) });
const rows = (tenantId: string) => t.db.selectFrom("signing_secrets").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();

async function tenantWithType(name: string): Promise<CreatedTenant> {
  const tenant = await createTenant(t.db, name);
  await t.db
    .insertInto("event_types")
    .values({ id: newId("ety"), tenant_id: tenant.tenantId, name: "case.note", version: 1, data_schema: null, archived_at: null })
    .execute();
  return tenant;
}

describe("callback secret", () => {
  it("reports none, and creates none, until there is one", async () => {
    const tenant = await createTenant(t.db, "Fresh");
    const res = await status(tenant.apiKey);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ currentKeyId: null, createdAt: null, previousKeyId: null, previousValidUntil: null });
    expect(await rows(tenant.tenantId)).toHaveLength(0);
  });

  it("rotates: shows the new secret once, stores it encrypted, keeps the previous one for the overlap", async () => {
    const tenant = await createTenant(t.db, "Rotator");
    const first = await rotate(tenant.apiKey);
    expect(first.statusCode, first.body).toBe(200);
    const a = first.json();
    expect(a).toEqual({ secret: expect.stringMatching(/^whsec_/), currentKeyId: secretKeyId(a.secret), createdAt: expect.any(String), previousKeyId: null, previousValidUntil: null });
    const [row] = await rows(tenant.tenantId);
    expect(row).toMatchObject({ key_id: a.currentKeyId, endpoint_id: null, expires_at: null });
    expect(row!.secret_enc.toString("latin1")).not.toContain(a.secret.slice(6));
    expect(decryptSecret(masterKey, row!.secret_enc, `signing-secret:${a.currentKeyId}`).toString("utf8")).toBe(a.secret);

    const read = (await status(tenant.apiKey)).json();
    expect(read).toEqual({ currentKeyId: a.currentKeyId, createdAt: a.createdAt, previousKeyId: null, previousValidUntil: null });
    expect(JSON.stringify(read)).not.toContain(a.secret);

    const b = (await rotate(tenant.apiKey)).json();
    expect(b.currentKeyId).not.toBe(a.currentKeyId);
    expect(b.previousKeyId).toBe(a.currentKeyId);
    const overlap = Date.parse(b.previousValidUntil) - Date.parse(b.createdAt);
    expect(overlap).toBe(6 * 3600 * 1000);

    // A third rotation ends the first secret's life at once: only two are ever valid.
    const c = (await rotate(tenant.apiKey)).json();
    expect(c.previousKeyId).toBe(b.currentKeyId);
    const all = await rows(tenant.tenantId);
    expect(all).toHaveLength(3);
    expect(all[0]!.expires_at!.getTime()).toBeLessThanOrEqual(Date.now());
    expect((await status(tenant.apiKey)).json()).toMatchObject({ currentKeyId: c.currentKeyId, previousKeyId: b.currentKeyId });
  });

  it("replays an Idempotency-Key rotation without the secret", async () => {
    const tenant = await createTenant(t.db, "Careful");
    const first = await rotate(tenant.apiKey, { "idempotency-key": "rotate-1" });
    const again = await rotate(tenant.apiKey, { "idempotency-key": "rotate-1" });
    expect(again.statusCode).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual({ ...first.json(), secret: null });
    expect(await rows(tenant.tenantId)).toHaveLength(1);
  });

  it("needs admin to rotate and read to see the status", async () => {
    const tenant = await createTenant(t.db, "Scoped");
    const publisher = await insertApiKey(t.db, tenant.tenantId, { environment: "test", scopes: ["publish", "read"], name: "publisher" });
    const res = await rotate(publisher.key);
    expect([res.statusCode, res.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);
    expect((await status(publisher.key)).statusCode).toBe(200);
    const writer = await insertApiKey(t.db, tenant.tenantId, { environment: "test", scopes: ["publish"], name: "writer" });
    expect((await status(writer.key)).statusCode).toBe(403);
    expect((await app.inject({ method: "GET", url: "/api/v2/callback-secret" })).statusCode).toBe(401);
  });

  it("is created once by the first callback events, even concurrent ones, and is the tenant's own", async () => {
    const tenant = await tenantWithType("First callbacks");
    const other = await tenantWithType("Bystander");
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => app.inject({ method: "POST", url: "/api/v2/events", headers: headers(tenant.apiKey), payload: { type: "case.note", data: { i }, callbackUrl: `http://127.0.0.1:9/cb/${i}` } })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const created = await rows(tenant.tenantId);
    expect(created).toHaveLength(1);
    expect((await status(tenant.apiKey)).json()).toMatchObject({ currentKeyId: created[0]!.key_id, previousKeyId: null });
    expect((await status(other.apiKey)).json().currentKeyId).toBeNull();

    // The tenant learns a secret by rotating; the automatic one then signs alongside during the overlap.
    const rotated = (await rotate(tenant.apiKey)).json();
    expect(rotated.previousKeyId).toBe(created[0]!.key_id);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { authenticate, createTenant } from "./index.js";

describe("tenants and keys", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("tenancy");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("creates a tenant whose first key authenticates, and stores only the key's hash", async () => {
    const created = await createTenant(t.db, "  Acme  ");
    expect(created.tenantId).toMatch(/^ten_[A-Za-z0-9]{22}$/);
    expect(created.apiKey).toMatch(/^ck_test_[A-Za-z0-9_-]{43}$/);
    expect(created.name).toBe("Acme");
    const principal = await authenticate(t.db, created.apiKey);
    expect(principal).toMatchObject({ tenantId: created.tenantId, environment: "test", scopes: ["admin", "publish", "read"] });
    const stored = await t.db.selectFrom("api_keys").selectAll().where("tenant_id", "=", created.tenantId).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(created.apiKey.slice(16));
  });

  it("rejects unknown, malformed and revoked keys alike", async () => {
    const created = await createTenant(t.db, "Revoked Inc", "live");
    await t.db.updateTable("api_keys").set({ revoked_at: new Date() }).where("id", "=", created.apiKeyId).execute();
    for (const key of [created.apiKey, "ck_live_" + "A".repeat(43), "nonsense"]) {
      await expect(authenticate(t.db, key)).rejects.toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    }
  });

  it("validates the name", async () => {
    await expect(createTenant(t.db, "   ")).rejects.toMatchObject({ code: "VALIDATION_FAILED", field: "name" });
  });
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, type DeliveryStatus } from "@custody/db";
import { decryptSecret } from "@custody/keys";
import { secretKeyId } from "@custody/signing";
import { auth, fakeResolver, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";
import { insertEvent } from "../shared/deliveries.fixture.js";
import { secretAad } from "./secret-store.js";

const HOOKS = "https://hooks.example.com/custody";
const OTHER = "https://other.example.com/in";
/** RFC 8032 test vector 1's public key: a usable receipt key. */
const RECEIPT_KEY = Buffer.from("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "hex").toString("base64");
/** The eight points of order dividing 8 (RFC 8032 §5.1.2): under ZIP-215 each accepts the all-zero signature for anything. */
const SMALL_ORDER_KEYS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
].map((h) => Buffer.from(h, "hex").toString("base64"));
/** y ≥ p: y = p (the order-4 point's y, 0, unreduced), y = p + 1 (the identity's), y = p + 2, and y = p + 1 with the sign bit. */
const NON_CANONICAL_KEYS = [
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
].map((h) => Buffer.from(h, "hex").toString("base64"));

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  api = await startTestApi("webhooks", {
    resolver: fakeResolver({ "hooks.example.com": ["93.184.215.14"], "other.example.com": ["93.184.215.15", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"] }),
  });
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
});

afterAll(async () => {
  await api.close();
});

async function call(key: string, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return api.app.inject({ method, url, headers: auth(key, headers), ...(payload === undefined ? {} : { payload: payload as object }) });
}

async function createEndpoint(tenant: TestTenant, body: Record<string, unknown> = {}) {
  const res = await call(tenant.key, "POST", "/api/v2/webhooks", { url: HOOKS, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function createEventType(tenant: TestTenant, name: string, personalDataFields: string[]) {
  const res = await call(tenant.key, "POST", "/api/v2/event-types", { name, description: name, personalDataFields });
  expect(res.statusCode, res.body).toBe(201);
}

/** A delivery row needs an event, and the event its ledger entry. */
async function insertDelivery(tenantId: string, endpointId: string, targetUrl: string, status: DeliveryStatus): Promise<string> {
  const eventId = await insertEvent(api.t.db, tenantId);
  const id = newId("dlv");
  await api.t.db.insertInto("deliveries").values({ id, tenant_id: tenantId, event_id: eventId, endpoint_id: endpointId, target_url: targetUrl, idempotency_key: randomUUID(), status }).execute();
  return id;
}

async function validSecrets(endpointId: string) {
  return api.t.db
    .selectFrom("signing_secrets")
    .selectAll()
    .where("endpoint_id", "=", endpointId)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", new Date())]))
    .orderBy("created_at")
    .execute();
}

describe("create", () => {
  it("creates a thin endpoint with the documented defaults and shows the secret once", async () => {
    const created = await createEndpoint(acme, { displayName: "CRM" });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^wh_[A-Za-z0-9]{22}$/),
      url: HOOKS,
      displayName: "CRM",
      subscriptions: ["*.final", "*.retracted", "*.recalled"],
      defaultPayloadShape: "thin",
      fatEventsAcknowledgment: { fieldsAcknowledged: [] },
      counterSignedReceipts: false,
      receiptPublicKey: null,
      retryPolicy: { kind: "default", maxAttempts: 14 },
      rateLimit: null,
      disabled: false,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(created.secretStatus).toEqual({ currentKeyId: secretKeyId(created.secret), createdAt: expect.any(String), previousKeyId: null, previousValidUntil: null });

    const read = await call(acme.key, "GET", `/api/v2/webhooks/${created.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty("secret");
    expect(read.body).not.toContain(created.secret.slice(6));
    const { secret: _secret, ...withoutSecret } = created;
    expect(read.json()).toEqual(withoutSecret);
  });

  it("stores the secret encrypted, bound to its key id", async () => {
    const created = await createEndpoint(acme);
    const [row] = await validSecrets(created.id);
    expect(row!.key_id).toBe(created.secretStatus.currentKeyId);
    expect(row!.secret_enc.toString("latin1")).not.toContain(created.secret);
    expect(decryptSecret(api.masterKey, row!.secret_enc, secretAad(row!.key_id)).toString("utf8")).toBe(created.secret);
    expect(() => decryptSecret(api.masterKey, row!.secret_enc, secretAad("whk_0000000000000000"))).toThrow();
  });

  it("takes every setting, normalising the URL and de-duplicating subscriptions", async () => {
    const created = await createEndpoint(acme, {
      url: "https://HOOKS.example.com:443/a/../b?x=1",
      subscriptions: ["identity.*", "identity.*", "token.transfer.final"],
      counterSignedReceipts: true,
      receiptPublicKey: RECEIPT_KEY,
      retryPolicy: { kind: "custom", delaysSeconds: [5, 60] },
      rateLimit: 25,
    });
    expect(created).toMatchObject({
      url: "https://hooks.example.com/b?x=1",
      subscriptions: ["identity.*", "token.transfer.final"],
      counterSignedReceipts: true,
      receiptPublicKey: RECEIPT_KEY,
      retryPolicy: { kind: "custom", maxAttempts: 3, delaysSeconds: [5, 60], windowSeconds: 65, jitter: { kind: "none" } },
      rateLimit: 25,
    });
  });

  it("refuses fat at creation with 422 VALIDATION_FAILED", async () => {
    const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, defaultPayloadShape: "fat" });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.defaultPayloadShape" });
  });

  it("needs a 32-byte receipt key for counter-signed receipts", async () => {
    const missing = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, counterSignedReceipts: true });
    expect([missing.statusCode, missing.json().error.code, missing.json().error.field]).toEqual([400, "VALIDATION_FAILED", "body.receiptPublicKey"]);
    for (const bad of [Buffer.alloc(31).toString("base64"), "not base64!", Buffer.alloc(32, 1).toString("base64url").replace(/=*$/, "")]) {
      const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, counterSignedReceipts: true, receiptPublicKey: bad });
      expect(res.json().error, bad).toMatchObject({ code: "VALIDATION_FAILED", field: "body.receiptPublicKey" });
    }
  });

  it("refuses receipt keys strict verification could never accept: small-order and non-canonical", async () => {
    const created = await createEndpoint(acme);
    for (const bad of [...SMALL_ORDER_KEYS, ...NON_CANONICAL_KEYS]) {
      const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, counterSignedReceipts: true, receiptPublicKey: bad });
      expect([res.statusCode, res.json().error.code, res.json().error.field], bad).toEqual([400, "VALIDATION_FAILED", "body.receiptPublicKey"]);
      const patched = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { counterSignedReceipts: true, receiptPublicKey: bad });
      expect([patched.statusCode, patched.json().error.field], bad).toEqual([400, "body.receiptPublicKey"]);
    }
    const good = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { counterSignedReceipts: true, receiptPublicKey: RECEIPT_KEY });
    expect(good.json()).toMatchObject({ counterSignedReceipts: true, receiptPublicKey: RECEIPT_KEY });
  });

  it("refuses invalid retry policies with INVALID_RETRY_POLICY", async () => {
    for (const [policy, field] of [
      [{ kind: "sometimes" }, "body.retryPolicy.kind"],
      [{ kind: "custom", delaysSeconds: [] }, "body.retryPolicy.delaysSeconds"],
      [{ kind: "default", delaySeconds: [1] }, "body.retryPolicy.delaySeconds"],
      ["fast", "body.retryPolicy"],
    ] as const) {
      const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, retryPolicy: policy });
      expect(res.statusCode, JSON.stringify(policy)).toBe(422);
      expect(res.json().error).toMatchObject({ code: "INVALID_RETRY_POLICY", field });
    }
  });

  it("validates lengths, patterns and ranges", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: `https://hooks.example.com/${"a".repeat(2048)}` }, "body.url"],
      [{ displayName: "x".repeat(201) }, "body.displayName"],
      [{ subscriptions: [] }, "body.subscriptions"],
      [{ subscriptions: ["Identity.*"] }, "body.subscriptions.0"],
      [{ subscriptions: ["a".repeat(201)] }, "body.subscriptions.0"],
      [{ subscriptions: Array.from({ length: 101 }, (_, i) => `t${i}.final`) }, "body.subscriptions"],
      [{ rateLimit: 0 }, "body.rateLimit"],
      [{ rateLimit: 10_001 }, "body.rateLimit"],
    ];
    for (const [body, field] of cases) {
      const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, ...body });
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field });
    }
  });
});

describe("list", () => {
  it("pages with an opaque cursor and filters by disabled and subscription", async () => {
    const tenant = await newTenant(api, "Lister");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createEndpoint(tenant, { subscriptions: i % 2 === 0 ? ["even.final"] : ["odd.final"] })).id);
    await call(tenant.key, "DELETE", `/api/v2/webhooks/${ids[1]}`);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(tenant.key, "GET", `/api/v2/webhooks?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((e: { id: string }) => e.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    const disabled = (await call(tenant.key, "GET", "/api/v2/webhooks?disabled=true")).json();
    expect(disabled.data.map((e: { id: string }) => e.id)).toEqual([ids[1]]);
    const enabled = (await call(tenant.key, "GET", "/api/v2/webhooks?disabled=false")).json();
    expect(enabled.data.map((e: { id: string }) => e.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    const odd = (await call(tenant.key, "GET", "/api/v2/webhooks?subscription=odd.final")).json();
    expect(odd.data.map((e: { id: string }) => e.id)).toEqual([ids[1], ids[3]]);
    const list = (await call(tenant.key, "GET", "/api/v2/webhooks")).json();
    expect(JSON.stringify(list)).not.toContain("whsec_");
  });

  it("refuses a forged cursor and an out-of-range limit", async () => {
    const forged = await call(acme.key, "GET", "/api/v2/webhooks?cursor=bm9wZQ");
    expect(forged.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "query.cursor" });
    const big = await call(acme.key, "GET", "/api/v2/webhooks?limit=101");
    expect(big.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "querystring.limit" });
    const flag = await call(acme.key, "GET", "/api/v2/webhooks?disabled=yes");
    expect(flag.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "querystring.disabled" });
  });

  it("never shows another tenant's endpoints", async () => {
    await createEndpoint(globex);
    const tenant = await newTenant(api, "Empty");
    expect((await call(tenant.key, "GET", "/api/v2/webhooks")).json()).toEqual({ data: [], nextCursor: null });
  });
});

describe("patch", () => {
  it("updates plain settings and leaves the rest alone", async () => {
    const created = await createEndpoint(acme);
    const res = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, {
      displayName: "renamed",
      subscriptions: ["identity.*"],
      retryPolicy: { kind: "exponential" },
      rateLimit: 5,
      counterSignedReceipts: true,
      receiptPublicKey: RECEIPT_KEY,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      url: HOOKS,
      displayName: "renamed",
      subscriptions: ["identity.*"],
      retryPolicy: { kind: "exponential", maxAttempts: 5, delaysSeconds: [1, 2, 4, 8] },
      rateLimit: 5,
      counterSignedReceipts: true,
      receiptPublicKey: RECEIPT_KEY,
      secretStatus: created.secretStatus,
    });
    expect(res.json()).not.toHaveProperty("secret");
    expect(Date.parse(res.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const cleared = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { rateLimit: null, counterSignedReceipts: false, receiptPublicKey: null });
    expect(cleared.json()).toMatchObject({ rateLimit: null, counterSignedReceipts: false, receiptPublicKey: null, displayName: "renamed" });
    const orphan = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { counterSignedReceipts: true });
    expect(orphan.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.receiptPublicKey" });
    const badPolicy = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { retryPolicy: { kind: "custom", delaysSeconds: [-1] } });
    expect(badPolicy.json().error).toMatchObject({ code: "INVALID_RETRY_POLICY", field: "body.retryPolicy.delaysSeconds.0" });
  });

  it("disables and re-enables", async () => {
    const created = await createEndpoint(acme);
    const off = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { disabled: true });
    expect(off.json()).toMatchObject({ disabled: true, disabledReason: "disabled by API" });
    const on = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { disabled: false });
    expect(on.json()).toMatchObject({ disabled: false, disabledReason: null });
  });

  it("refuses an unsafe new URL like create does", async () => {
    const created = await createEndpoint(acme);
    const res = await call(acme.key, "PATCH", `/api/v2/webhooks/${created.id}`, { url: "https://169.254.169.254/latest" });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "TARGET_REFUSED", field: "body.url" });
  });

  describe("fat payloads", () => {
    let tenant: TestTenant;
    const identity = ["identity.registration.final.name", "identity.registration.final.result/taxId"];
    const role = ["access.role.final.email"];
    const transfer = ["token.transfer.recalled.from/iban"];

    beforeAll(async () => {
      tenant = await newTenant(api, "Fat");
      await createEventType(tenant, "identity.registration.final", ["/result/taxId", "/name"]);
      await createEventType(tenant, "access.role.final", ["/email"]);
      await createEventType(tenant, "token.transfer.recalled", ["/from/iban"]);
      await createEventType(tenant, "asset.issuance.final", []);
    });

    it("switches to fat only with exactly the required acknowledgement", async () => {
      const ep = await createEndpoint(tenant, { subscriptions: ["*.final"] });
      const url = `/api/v2/webhooks/${ep.id}`;

      const none = await call(tenant.key, "PATCH", url, { defaultPayloadShape: "fat" });
      expect(none.statusCode).toBe(422);
      expect(none.json().error).toMatchObject({ code: "FAT_ACK_INCOMPLETE", field: "body.fatEventsAcknowledgment.fieldsAcknowledged", details: { missing: [...role, ...identity], extra: [] } });

      const wrong = await call(tenant.key, "PATCH", url, {
        defaultPayloadShape: "fat",
        fatEventsAcknowledgment: { fieldsAcknowledged: ["identity.registration.final.name", "bogus.type.field", ...transfer] },
      });
      expect(wrong.statusCode).toBe(422);
      expect(wrong.json().error.details).toEqual({ missing: ["access.role.final.email", "identity.registration.final.result/taxId"], extra: ["bogus.type.field", ...transfer] });
      expect((await call(tenant.key, "GET", url)).json().defaultPayloadShape).toBe("thin");

      const ok = await call(tenant.key, "PATCH", url, { defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: [...identity, ...role].reverse() } });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: [...role, ...identity] } });

      // Unrelated changes do not re-open the acknowledgement.
      expect((await call(tenant.key, "PATCH", url, { displayName: "still fat" })).json().fatEventsAcknowledgment.fieldsAcknowledged).toEqual([...role, ...identity]);
    });

    it("trims the acknowledgement when subscriptions shrink and asks for a new one when they grow", async () => {
      const ep = await createEndpoint(tenant, { subscriptions: ["*.final"] });
      const url = `/api/v2/webhooks/${ep.id}`;
      await call(tenant.key, "PATCH", url, { defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: [...identity, ...role] } });

      const shrunk = await call(tenant.key, "PATCH", url, { subscriptions: ["identity.*"] });
      expect(shrunk.statusCode, shrunk.body).toBe(200);
      expect(shrunk.json().fatEventsAcknowledgment.fieldsAcknowledged).toEqual(identity);

      const grown = await call(tenant.key, "PATCH", url, { subscriptions: ["*"] });
      expect(grown.statusCode).toBe(422);
      expect(grown.json().error).toMatchObject({ code: "FAT_ACK_INCOMPLETE", details: { missing: [...role, ...transfer], extra: [] } });
      expect((await call(tenant.key, "GET", url)).json().subscriptions).toEqual(["identity.*"]);

      const acked = await call(tenant.key, "PATCH", url, { subscriptions: ["*"], fatEventsAcknowledgment: { fieldsAcknowledged: [...role, ...identity, ...transfer] } });
      expect(acked.statusCode, acked.body).toBe(200);
      expect(acked.json().fatEventsAcknowledgment.fieldsAcknowledged).toEqual([...role, ...identity, ...transfer]);

      // A new acknowledgement sent with unchanged subscriptions must be exact too.
      const partial = await call(tenant.key, "PATCH", url, { fatEventsAcknowledgment: { fieldsAcknowledged: identity } });
      expect(partial.json().error).toMatchObject({ code: "FAT_ACK_INCOMPLETE", details: { missing: [...role, ...transfer], extra: [] } });

      const thin = await call(tenant.key, "PATCH", url, { defaultPayloadShape: "thin" });
      expect(thin.json()).toMatchObject({ defaultPayloadShape: "thin", fatEventsAcknowledgment: { fieldsAcknowledged: [] } });
      const stray = await call(tenant.key, "PATCH", url, { fatEventsAcknowledgment: { fieldsAcknowledged: identity } });
      expect([stray.statusCode, stray.json().error.code, stray.json().error.field]).toEqual([400, "VALIDATION_FAILED", "body.fatEventsAcknowledgment.fieldsAcknowledged"]);
    });

    it("leaves archived event types out of what must be acknowledged", async () => {
      const own = await newTenant(api, "Archiver");
      await createEventType(own, "identity.registration.final", ["/name"]);
      await createEventType(own, "access.role.final", ["/email"]);
      expect((await call(own.key, "POST", "/api/v2/event-types/access.role.final/archive")).statusCode).toBe(200);
      const ep = await createEndpoint(own, { subscriptions: ["*.final"] });
      const res = await call(own.key, "PATCH", `/api/v2/webhooks/${ep.id}`, { defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: ["identity.registration.final.name"] } });
      expect(res.statusCode, res.body).toBe(200);
    });

    it("uses the latest version of each event type", async () => {
      const own = await newTenant(api, "Versioned");
      await createEventType(own, "identity.registration.final", ["/name"]);
      await call(own.key, "POST", "/api/v2/event-types/identity.registration.final/versions", { personalDataFields: ["/name", "/dob"] });
      const ep = await createEndpoint(own, { subscriptions: ["*.final"] });
      const res = await call(own.key, "PATCH", `/api/v2/webhooks/${ep.id}`, { defaultPayloadShape: "fat" });
      expect(res.json().error.details).toEqual({ missing: ["identity.registration.final.dob", "identity.registration.final.name"], extra: [] });
    });
  });

  describe("URL change with queued deliveries", () => {
    it("needs acknowledgePending=true, then retargets exactly the queued deliveries", async () => {
      const ep = await createEndpoint(acme);
      const url = `/api/v2/webhooks/${ep.id}`;
      const queued = await Promise.all((["pending", "delivering", "retrying"] as const).map((s) => insertDelivery(acme.tenantId, ep.id, HOOKS, s)));
      const done = await Promise.all((["delivered", "dead", "cancelled"] as const).map((s) => insertDelivery(acme.tenantId, ep.id, HOOKS, s)));

      const refused = await call(acme.key, "PATCH", url, { url: OTHER, displayName: "moved" });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatchObject({ code: "PENDING_DELIVERIES", details: { pendingDeliveries: 3 } });
      expect((await call(acme.key, "GET", url)).json()).toMatchObject({ url: HOOKS, displayName: "" });

      const explicitNo = await call(acme.key, "PATCH", `${url}?acknowledgePending=false`, { url: OTHER });
      expect(explicitNo.statusCode).toBe(409);

      // The same URL is no change, so nothing is pending against it.
      expect((await call(acme.key, "PATCH", url, { url: HOOKS, displayName: "same" })).statusCode).toBe(200);

      const moved = await call(acme.key, "PATCH", `${url}?acknowledgePending=true`, { url: OTHER });
      expect(moved.statusCode, moved.body).toBe(200);
      expect(moved.json().url).toBe(OTHER);
      const rows = await api.t.db.selectFrom("deliveries").select(["id", "target_url"]).where("endpoint_id", "=", ep.id).execute();
      const target = new Map(rows.map((r) => [r.id, r.target_url]));
      for (const id of queued) expect(target.get(id)).toBe(OTHER);
      for (const id of done) expect(target.get(id)).toBe(HOOKS);
    });

    it("changes the URL freely when nothing is queued", async () => {
      const ep = await createEndpoint(acme);
      await insertDelivery(acme.tenantId, ep.id, HOOKS, "delivered");
      const res = await call(acme.key, "PATCH", `/api/v2/webhooks/${ep.id}`, { url: OTHER });
      expect([res.statusCode, res.json().url]).toEqual([200, OTHER]);
    });
  });
});

describe("delete", () => {
  it("disables the endpoint and keeps it, its history and its secret", async () => {
    const ep = await createEndpoint(acme);
    await insertDelivery(acme.tenantId, ep.id, HOOKS, "delivered");
    const res = await call(acme.key, "DELETE", `/api/v2/webhooks/${ep.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ep.id, disabled: true, disabledReason: "deleted by API", secretStatus: ep.secretStatus });
    expect((await call(acme.key, "GET", `/api/v2/webhooks/${ep.id}`)).json().disabled).toBe(true);
    expect(await api.t.db.selectFrom("deliveries").select("id").where("endpoint_id", "=", ep.id).execute()).toHaveLength(1);
    expect(await validSecrets(ep.id)).toHaveLength(1);
    // Deleting again is harmless, and PATCH can bring it back.
    expect((await call(acme.key, "DELETE", `/api/v2/webhooks/${ep.id}`)).json().disabledReason).toBe("deleted by API");
    expect((await call(acme.key, "PATCH", `/api/v2/webhooks/${ep.id}`, { disabled: false })).json().disabled).toBe(false);
  });

  it("overrides an earlier disabling reason", async () => {
    const ep = await createEndpoint(acme);
    await call(acme.key, "PATCH", `/api/v2/webhooks/${ep.id}`, { disabled: true });
    expect((await call(acme.key, "DELETE", `/api/v2/webhooks/${ep.id}`)).json().disabledReason).toBe("deleted by API");
  });
});

describe("secret rotation", () => {
  it("keeps the previous secret valid for the overlap, never more than two, and revoking ends it", async () => {
    const ep = await createEndpoint(acme);
    const url = `/api/v2/webhooks/${ep.id}`;
    const first = ep.secret as string;

    const rotated = await call(acme.key, "POST", `${url}/rotate-secret`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const second = rotated.json().secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    const status = rotated.json().secretStatus;
    expect(status).toMatchObject({ currentKeyId: secretKeyId(second), previousKeyId: secretKeyId(first) });
    expect(Math.abs(Date.parse(status.previousValidUntil) - (Date.now() + 24 * 3600_000))).toBeLessThan(60_000);
    expect((await call(acme.key, "GET", url)).json().secretStatus).toEqual(status);

    let valid = await validSecrets(ep.id);
    expect(valid.map((r) => r.key_id)).toEqual([secretKeyId(first), secretKeyId(second)]);
    const current = valid.find((r) => r.expires_at === null)!;
    expect(decryptSecret(api.masterKey, current.secret_enc, secretAad(current.key_id)).toString("utf8")).toBe(second);

    const third = (await call(acme.key, "POST", `${url}/rotate-secret`)).json();
    expect(third.secretStatus).toMatchObject({ currentKeyId: secretKeyId(third.secret), previousKeyId: secretKeyId(second) });
    valid = await validSecrets(ep.id);
    expect(valid.map((r) => r.key_id)).toEqual([secretKeyId(second), secretKeyId(third.secret)]);
    const newest = valid.find((r) => r.expires_at === null)!;
    expect(decryptSecret(api.masterKey, newest.secret_enc, secretAad(newest.key_id)).toString("utf8")).toBe(third.secret);

    const revoked = await call(acme.key, "POST", `${url}/revoke-previous-secret`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toEqual({ secretStatus: { currentKeyId: secretKeyId(third.secret), createdAt: third.secretStatus.createdAt, previousKeyId: null, previousValidUntil: null } });
    expect((await validSecrets(ep.id)).map((r) => r.key_id)).toEqual([secretKeyId(third.secret)]);
    // All three stay on record.
    expect(await api.t.db.selectFrom("signing_secrets").select("key_id").where("endpoint_id", "=", ep.id).execute()).toHaveLength(3);

    // Nothing left to revoke: a no-op.
    expect((await call(acme.key, "POST", `${url}/revoke-previous-secret`)).json().secretStatus.previousKeyId).toBeNull();
  });

  it("honours CUSTODY_SECRET_OVERLAP_HOURS", async () => {
    const short = await startTestApi("webhooks_overlap", { env: { CUSTODY_SECRET_OVERLAP_HOURS: "2" } });
    try {
      const tenant = await newTenant(short);
      const ep = (await short.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url: "https://127.0.0.1/hook" } })).json();
      const rotated = (await short.app.inject({ method: "POST", url: `/api/v2/webhooks/${ep.id}/rotate-secret`, headers: auth(tenant.key) })).json();
      expect(Math.abs(Date.parse(rotated.secretStatus.previousValidUntil) - (Date.now() + 2 * 3600_000))).toBeLessThan(60_000);
    } finally {
      await short.close();
    }
  });
});

describe("idempotency", () => {
  it("replays a create without the secret, and refuses the key for a different body", async () => {
    const headers = { "idempotency-key": `create-${randomUUID()}` };
    const first = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, displayName: "once" }, headers);
    expect(first.statusCode).toBe(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const again = await call(acme.key, "POST", "/api/v2/webhooks", { displayName: "once", url: HOOKS }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual({ ...first.json(), secret: null });
    const count = await api.t.db.selectFrom("endpoints").select("id").where("tenant_id", "=", acme.tenantId).where("display_name", "=", "once").execute();
    expect(count).toHaveLength(1);
    const stored = await api.t.db.selectFrom("idempotency_records").select("response").where("key", "=", headers["idempotency-key"]).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.response)).not.toContain(first.json().secret);

    const conflict = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, displayName: "twice" }, headers);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: "IDEMPOTENCY_KEY_CONFLICT", field: "headers.idempotency-key" });

    // Keys belong to a tenant: another tenant's same key is a request of its own.
    const other = await call(globex.key, "POST", "/api/v2/webhooks", { url: HOOKS, displayName: "once" }, headers);
    expect(other.statusCode).toBe(201);
    expect(other.json().secret).toMatch(/^whsec_/);
    expect(other.json().id).not.toBe(first.json().id);
  });

  it("runs a concurrent retry once", async () => {
    const headers = { "idempotency-key": `race-${randomUUID()}` };
    const results = await Promise.all([0, 1, 2].map(() => call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS, displayName: "race" }, headers)));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    expect(results.filter((r) => r.json().secret !== null)).toHaveLength(1);
  });

  it("replays rotate, patch, delete and revoke-previous without doing them twice", async () => {
    const ep = await createEndpoint(acme);
    const url = `/api/v2/webhooks/${ep.id}`;
    const rotateKey = { "idempotency-key": "rotate-1" };
    const rotated = await call(acme.key, "POST", `${url}/rotate-secret`, undefined, rotateKey);
    const replayed = await call(acme.key, "POST", `${url}/rotate-secret`, undefined, rotateKey);
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toEqual({ secret: null, secretStatus: rotated.json().secretStatus });
    expect((await call(acme.key, "GET", url)).json().secretStatus.currentKeyId).toBe(secretKeyId(rotated.json().secret));

    // The key is scoped to route and object: the same key rotates another endpoint.
    const other = await createEndpoint(acme);
    expect((await call(acme.key, "POST", `/api/v2/webhooks/${other.id}/rotate-secret`, undefined, rotateKey)).json().secret).toMatch(/^whsec_/);

    const patchKey = { "idempotency-key": "patch-1" };
    const patched = await call(acme.key, "PATCH", url, { displayName: "p1" }, patchKey);
    await call(acme.key, "PATCH", url, { displayName: "p2" });
    const patchReplay = await call(acme.key, "PATCH", url, { displayName: "p1" }, patchKey);
    expect(patchReplay.json()).toEqual(patched.json());
    expect((await call(acme.key, "GET", url)).json().displayName).toBe("p2");
    const patchConflict = await call(acme.key, "PATCH", `${url}?acknowledgePending=true`, { displayName: "p1" }, patchKey);
    expect(patchConflict.json().error.code).toBe("IDEMPOTENCY_KEY_CONFLICT");

    const revokeKey = { "idempotency-key": "revoke-1" };
    const revoked = await call(acme.key, "POST", `${url}/revoke-previous-secret`, undefined, revokeKey);
    expect((await call(acme.key, "POST", `${url}/revoke-previous-secret`, undefined, revokeKey)).json()).toEqual(revoked.json());

    const deleteKey = { "idempotency-key": "delete-1" };
    const deleted = await call(acme.key, "DELETE", url, undefined, deleteKey);
    await call(acme.key, "PATCH", url, { disabled: false });
    const deleteReplay = await call(acme.key, "DELETE", url, undefined, deleteKey);
    expect(deleteReplay.json()).toEqual(deleted.json());
    expect((await call(acme.key, "GET", url)).json().disabled).toBe(false);
  });

  it("records nothing for a failed request, so the key can be retried", async () => {
    const headers = { "idempotency-key": "fails-first" };
    const failed = await call(acme.key, "POST", "/api/v2/webhooks", { url: "https://10.0.0.1/" }, headers);
    expect(failed.json().error.code).toBe("TARGET_REFUSED");
    const ok = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS }, headers);
    expect(ok.statusCode).toBe(201);
  });

  it("validates the header", async () => {
    for (const key of ["", "k".repeat(256), "tab\there"]) {
      const res = await call(acme.key, "POST", "/api/v2/webhooks", { url: HOOKS }, { "idempotency-key": key });
      expect(res.statusCode, JSON.stringify(key)).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "headers.idempotency-key" });
    }
  });
});

describe("access", () => {
  it("answers 404 for another tenant's endpoint on every route, and changes nothing", async () => {
    const ep = await createEndpoint(acme);
    const url = `/api/v2/webhooks/${ep.id}`;
    const attempts = [
      call(globex.key, "GET", url),
      call(globex.key, "PATCH", url, { displayName: "hijacked" }),
      call(globex.key, "DELETE", url),
      call(globex.key, "POST", `${url}/rotate-secret`),
      call(globex.key, "POST", `${url}/revoke-previous-secret`),
      call(globex.key, "GET", "/api/v2/webhooks/wh_doesnotexist0000000000"),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toMatchObject({ code: "NOT_FOUND", field: "params.id" });
    }
    const after = (await call(acme.key, "GET", url)).json();
    expect(after).toMatchObject({ displayName: "", disabled: false, secretStatus: ep.secretStatus });
  });

  it("needs a valid key, and admin for changes", async () => {
    const ep = await createEndpoint(acme);
    const none = await api.app.inject({ method: "GET", url: "/api/v2/webhooks" });
    expect([none.statusCode, none.json().error.code, none.headers["www-authenticate"]]).toEqual([401, "UNAUTHENTICATED", "Bearer"]);
    const bad = await call("ck_test_" + "A".repeat(43), "GET", "/api/v2/webhooks");
    expect([bad.statusCode, bad.json().error.code]).toEqual([401, "UNAUTHENTICATED"]);

    const reader = await keyWith(api, acme, ["read"]);
    expect((await call(reader, "GET", `/api/v2/webhooks/${ep.id}`)).statusCode).toBe(200);
    expect((await call(reader, "GET", "/api/v2/webhooks")).statusCode).toBe(200);
    for (const res of await Promise.all([
      call(reader, "POST", "/api/v2/webhooks", { url: HOOKS }),
      call(reader, "PATCH", `/api/v2/webhooks/${ep.id}`, { displayName: "x" }),
      call(reader, "DELETE", `/api/v2/webhooks/${ep.id}`),
      call(reader, "POST", `/api/v2/webhooks/${ep.id}/rotate-secret`),
      call(reader, "POST", `/api/v2/webhooks/${ep.id}/revoke-previous-secret`),
    ])) {
      expect([res.statusCode, res.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);
    }
    const publisher = await keyWith(api, acme, ["publish"]);
    expect((await call(publisher, "GET", "/api/v2/webhooks")).json().error.code).toBe("FORBIDDEN_SCOPE");
  });
});

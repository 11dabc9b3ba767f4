import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@custody/db";
import { createEndpoint, insertAttempt, insertBody, insertDelivery, insertEvent, insertSealedAttempt } from "../shared/deliveries.fixture.js";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  api = await startTestApi("deliveries");
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
});

afterAll(async () => {
  await api.close();
});

async function call(key: string, method: "GET" | "POST", url: string, headers: Record<string, string> = {}) {
  return api.app.inject({ method, url, headers: auth(key, headers) });
}

const list = (key: string, endpointId: string, query = "") => call(key, "GET", `/api/v2/webhooks/${endpointId}/deliveries${query}`);
const read = (key: string, endpointId: string, deliveryId: string) => call(key, "GET", `/api/v2/webhooks/${endpointId}/deliveries/${deliveryId}`);
const retry = (key: string, endpointId: string, deliveryId: string, headers: Record<string, string> = {}) => call(key, "POST", `/api/v2/webhooks/${endpointId}/deliveries/${deliveryId}/retries`, headers);

const ago = (ms: number) => new Date(Date.now() - ms);
const MINUTE = 60_000;

describe("GET /api/v2/webhooks/{id}/deliveries", () => {
  let endpointId: string;
  const ids = { oldest: "", dead: "", retrying: "", pending: "", newest: "" };

  beforeAll(async () => {
    endpointId = (await createEndpoint(api, acme)).id;
    const db = api.t.db;
    // Five deliveries, one minute apart (oldest first), plus noise that must never be listed.
    ids.oldest = (await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "delivered", createdAt: ago(50 * MINUTE), deliveredAt: ago(49 * MINUTE), attempts: 1 })).id;
    ids.dead = (await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "dead", createdAt: ago(40 * MINUTE), attempts: 3, deadReason: "exhausted", lastError: "HTTP 503", lastStatusCode: 503 })).id;
    ids.retrying = (
      await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "retrying", eventType: "billing.invoice.paid", createdAt: ago(30 * MINUTE), attempts: 1, nextAttemptAt: new Date(Date.now() + 10 * MINUTE) })
    ).id;
    ids.pending = (await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "pending", createdAt: ago(20 * MINUTE) })).id;
    ids.newest = (await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "delivered", eventType: "billing.invoice.paid", createdAt: ago(10 * MINUTE), deliveredAt: ago(9 * MINUTE), attempts: 2 })).id;
    const other = await createEndpoint(api, acme);
    await insertDelivery(db, { tenantId: acme.tenantId, endpointId: other.id, status: "delivered", createdAt: ago(15 * MINUTE) });
    await insertDelivery(db, { tenantId: acme.tenantId, endpointId: null, status: "delivered", createdAt: ago(15 * MINUTE) });
  });

  it("lists the endpoint's deliveries newest first, in the documented shape", async () => {
    const res = await list(acme.key, endpointId);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.nextCursor).toBeNull();
    expect(body.data.map((d: { id: string }) => d.id)).toEqual([ids.newest, ids.pending, ids.retrying, ids.dead, ids.oldest]);
    const dead = body.data.find((d: { id: string }) => d.id === ids.dead);
    expect(Object.keys(dead).sort()).toEqual(
      ["id", "eventId", "eventType", "status", "attempts", "nextAttemptAt", "lastStatusCode", "lastError", "deadReason", "deliveredAt", "createdAt", "updatedAt", "idempotencyKey", "replayId"].sort(),
    );
    expect(dead).toMatchObject({
      eventId: expect.stringMatching(/^evt-/),
      eventType: "identity.registration.final",
      status: "dead",
      attempts: 3,
      nextAttemptAt: null,
      lastStatusCode: 503,
      lastError: "HTTP 503",
      deadReason: "exhausted",
      deliveredAt: null,
      idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
      replayId: null,
    });
    const retrying = body.data.find((d: { id: string }) => d.id === ids.retrying);
    expect(retrying.nextAttemptAt).toEqual(expect.any(String));
    expect(retrying.eventType).toBe("billing.invoice.paid");
  });

  it("pages with an opaque cursor, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(acme.key, endpointId, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((d: { id: string }) => d.id));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.newest, ids.pending, ids.retrying, ids.dead, ids.oldest]);
  });

  it("keeps the order stable for deliveries created in the same instant (id breaks ties)", async () => {
    const e = (await createEndpoint(api, acme)).id;
    const at = ago(5 * MINUTE);
    const same = [];
    for (let i = 0; i < 3; i++) same.push((await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId: e, status: "pending", createdAt: at })).id);
    const first = (await list(acme.key, e, "?limit=2")).json();
    const second = (await list(acme.key, e, `?limit=2&cursor=${first.nextCursor}`)).json();
    expect([...first.data, ...second.data].map((d: { id: string }) => d.id)).toEqual([...same].sort().reverse());
  });

  it("filters by status, event type and creation time", async () => {
    const ofStatus = (await list(acme.key, endpointId, "?status=delivered")).json();
    expect(ofStatus.data.map((d: { id: string }) => d.id)).toEqual([ids.newest, ids.oldest]);

    const ofType = (await list(acme.key, endpointId, "?eventType=billing.invoice.paid")).json();
    expect(ofType.data.map((d: { id: string }) => d.id)).toEqual([ids.newest, ids.retrying]);

    const both = (await list(acme.key, endpointId, "?eventType=billing.invoice.paid&status=retrying")).json();
    expect(both.data.map((d: { id: string }) => d.id)).toEqual([ids.retrying]);

    // from inclusive, to exclusive
    const created = await api.t.db.selectFrom("deliveries").select(["id", "created_at"]).where("id", "in", [ids.dead, ids.pending]).execute();
    const at = (id: string) => created.find((c) => c.id === id)!.created_at.toISOString();
    const window = (await list(acme.key, endpointId, `?from=${encodeURIComponent(at(ids.dead))}&to=${encodeURIComponent(at(ids.pending))}`)).json();
    expect(window.data.map((d: { id: string }) => d.id)).toEqual([ids.retrying, ids.dead]);

    const none = (await list(acme.key, endpointId, "?status=cancelled")).json();
    expect(none).toEqual({ data: [], nextCursor: null });
  });

  it("rejects an unknown status, a bad timestamp and a forged cursor", async () => {
    expect((await list(acme.key, endpointId, "?status=lost")).statusCode).toBe(400);
    expect((await list(acme.key, endpointId, "?from=yesterday")).statusCode).toBe(400);
    const forged = await list(acme.key, endpointId, `?cursor=${Buffer.from('["x"]').toString("base64url")}`);
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "query.cursor" });
    expect((await list(acme.key, endpointId, "?limit=0")).statusCode).toBe(400);
  });

  it("is 404 for another tenant's endpoint and for an unknown one", async () => {
    const res = await list(globex.key, endpointId);
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: "NOT_FOUND", field: "params.id" });
    expect((await list(acme.key, "wh_doesnotexist00000000")).statusCode).toBe(404);
  });

  it("needs the read scope", async () => {
    expect((await api.app.inject({ method: "GET", url: `/api/v2/webhooks/${endpointId}/deliveries` })).statusCode).toBe(401);
    const publishOnly = await keyWith(api, acme, ["publish"]);
    const forbidden = await list(publishOnly, endpointId);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe("FORBIDDEN_SCOPE");
    const readOnly = await keyWith(api, acme, ["read"]);
    expect((await list(readOnly, endpointId)).statusCode).toBe(200);
  });
});

describe("GET /api/v2/webhooks/{id}/deliveries/{deliveryId}", () => {
  it("shows every recorded attempt with its custody root, and the redacted paths only", async () => {
    const endpointId = (await createEndpoint(api, acme)).id;
    const db = api.t.db;
    const { id, eventId } = await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "delivered", attempts: 2, deliveredAt: new Date(), lastStatusCode: 200 });
    await insertBody(db, id, "thin", ["/taxId", "/address/street"]);
    const common = { tenantId: acme.tenantId, deliveryId: id, eventId, endpointId };
    const root1 = await insertAttempt(db, {
      ...common,
      attemptNo: 1,
      startedAt: ago(2 * MINUTE),
      durationMs: 30_000,
      statusCode: null,
      errorClass: "timeout",
      outcome: "retry",
      keyIds: ["whk_aaaaaaaaaaaaaaaa", "whk_bbbbbbbbbbbbbbbb"],
    });
    const root2 = await insertAttempt(db, { ...common, attemptNo: 2, startedAt: ago(MINUTE), durationMs: 120, statusCode: 200, responseExcerpt: "ok", outcome: "delivered" });

    const res = await read(acme.key, endpointId, id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id, eventId, eventType: "identity.registration.final", status: "delivered", sealedAttempts: 2, lastStatusCode: 200, deliveredAt: expect.any(String) });
    expect(body.attempts).toEqual([
      {
        attempt: 1,
        startedAt: expect.any(String),
        durationMs: 30_000,
        statusCode: null,
        responseExcerpt: null,
        errorClass: "timeout",
        keyIds: ["whk_aaaaaaaaaaaaaaaa", "whk_bbbbbbbbbbbbbbbb"],
        outcome: "retry",
        custodyRoot: root1,
      },
      { attempt: 2, startedAt: expect.any(String), durationMs: 120, statusCode: 200, responseExcerpt: "ok", errorClass: null, keyIds: ["whk_0123456789abcdef"], outcome: "delivered", custodyRoot: root2 },
    ]);
    // Paths only: no salts, no commitments.
    expect(body.redaction).toEqual({ shape: "thin", removed: [{ path: "/taxId" }, { path: "/address/street" }] });
  });

  it("lists a sealed attempt only once its outcome is recorded; redaction is null before the body exists", async () => {
    const endpointId = (await createEndpoint(api, acme)).id;
    const db = api.t.db;
    const pending = await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "pending" });
    const before = (await read(acme.key, endpointId, pending.id)).json();
    expect(before).toMatchObject({ status: "pending", sealedAttempts: 0, attempts: [], redaction: null });

    const inFlight = await insertDelivery(db, { tenantId: acme.tenantId, endpointId, status: "delivering", attempts: 1 });
    await insertBody(db, inFlight.id, "fat", []);
    await insertAttempt(db, { tenantId: acme.tenantId, deliveryId: inFlight.id, eventId: inFlight.eventId, endpointId, attemptNo: 1, durationMs: 0, outcome: "delivered" }, { recorded: false });
    const during = (await read(acme.key, endpointId, inFlight.id)).json();
    expect(during).toMatchObject({ status: "delivering", sealedAttempts: 1, attempts: [], redaction: { shape: "fat", removed: [] } });
  });

  it("is 404 for another tenant, another endpoint's delivery and an unknown id", async () => {
    const endpointId = (await createEndpoint(api, acme)).id;
    const sibling = (await createEndpoint(api, acme)).id;
    const { id } = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId, status: "pending" });
    expect((await read(acme.key, endpointId, id)).statusCode).toBe(200);
    const foreign = await read(globex.key, endpointId, id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.field).toBe("params.id");
    const wrongEndpoint = await read(acme.key, sibling, id);
    expect(wrongEndpoint.statusCode).toBe(404);
    expect(wrongEndpoint.json().error.field).toBe("params.deliveryId");
    expect((await read(acme.key, endpointId, "dlv_doesnotexist00000000")).statusCode).toBe(404);

    // Globex's own endpoint does not open Acme's delivery either.
    const globexEndpoint = (await createEndpoint(api, globex)).id;
    expect((await read(globex.key, globexEndpoint, id)).statusCode).toBe(404);
  });

  it("needs the read scope", async () => {
    const endpointId = (await createEndpoint(api, acme)).id;
    const { id } = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId, status: "pending" });
    expect((await read(await keyWith(api, acme, ["publish"]), endpointId, id)).statusCode).toBe(403);
    expect((await read(await keyWith(api, acme, ["read"]), endpointId, id)).statusCode).toBe(200);
  });
});

describe("POST /api/v2/webhooks/{id}/deliveries/{deliveryId}/retries", () => {
  let endpointId: string;

  beforeAll(async () => {
    endpointId = (await createEndpoint(api, acme)).id;
  });

  /** The retry scheduler's pick: `status = 'retrying' AND next_attempt_at <= now()` (services/pipeline/src/scheduler). */
  async function dueForScheduler(id: string): Promise<boolean> {
    const { rows } = await sql<{ id: string }>`SELECT id FROM deliveries WHERE status = 'retrying' AND next_attempt_at <= now() AND id = ${id}`.execute(api.t.db);
    return rows.length === 1;
  }

  async function deadWithBody(extra: { deadReason?: string; attempts?: number } = {}) {
    const d = await insertDelivery(api.t.db, {
      tenantId: acme.tenantId,
      endpointId,
      status: "dead",
      attempts: extra.attempts ?? 3,
      deadReason: extra.deadReason ?? "exhausted",
      lastError: "HTTP 500",
      lastStatusCode: 500,
      createdAt: ago(60 * MINUTE),
    });
    await insertBody(api.t.db, d.id, "thin", []);
    return d;
  }

  it("moves a dead delivery back to retrying, due now, and the scheduler's query picks it", async () => {
    const { id } = await deadWithBody();
    expect(await dueForScheduler(id)).toBe(false);
    const res = await retry(acme.key, endpointId, id);
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ id, status: "retrying", attempts: 3, deadReason: null, lastError: "HTTP 500", lastStatusCode: 500, nextAttemptAt: expect.any(String) });
    expect(Date.parse(body.nextAttemptAt)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(body.updatedAt)).toBeGreaterThan(Date.now() - MINUTE);

    const row = await api.t.db.selectFrom("deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "retrying", dead_reason: null, attempts: 3 });
    expect(row.next_attempt_at!.getTime()).toBeLessThanOrEqual(Date.now());
    // The scheduler then seals attempt attempts + 1 = 4.
    expect(await dueForScheduler(id)).toBe(true);
  });

  it("brings a retrying delivery's next attempt forward to now", async () => {
    const d = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId, status: "retrying", attempts: 1, nextAttemptAt: new Date(Date.now() + 60 * MINUTE) });
    await insertBody(api.t.db, d.id, "thin", []);
    expect(await dueForScheduler(d.id)).toBe(false);
    const res = await retry(acme.key, endpointId, d.id);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: "retrying", attempts: 1 });
    expect(await dueForScheduler(d.id)).toBe(true);
  });

  it("retries a dead delivery whose attempt was sealed but never sent (endpoint was disabled, since re-enabled)", async () => {
    const d = await deadWithBody({ deadReason: "endpoint_disabled", attempts: 1 });
    await insertSealedAttempt(api.t.db, { tenantId: acme.tenantId, deliveryId: d.id, eventId: d.eventId, endpointId, attemptNo: 1, durationMs: 0, statusCode: null, errorClass: "endpoint_disabled", outcome: "dead" });
    expect((await retry(acme.key, endpointId, d.id)).statusCode).toBe(202);
    expect(await dueForScheduler(d.id)).toBe(true);
  });

  it("is 409 CONFLICT for a delivery sealed under evidence format 1, pointing at replay", async () => {
    const d = await deadWithBody({ deadReason: "endpoint_disabled", attempts: 1 });
    await insertAttempt(api.t.db, { tenantId: acme.tenantId, deliveryId: d.id, eventId: d.eventId, endpointId, attemptNo: 1, durationMs: 0, outcome: "dead" }, { recorded: false });
    const res = await retry(acme.key, endpointId, d.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "CONFLICT", field: "params.deliveryId" });
    expect(res.json().error.message).toContain("replay its event instead");
    expect(await dueForScheduler(d.id)).toBe(false);
  });

  it.each(["delivered", "cancelled", "pending", "delivering"] as const)("is 409 CONFLICT for a %s delivery, saying so", async (status) => {
    const d = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId, status, attempts: status === "pending" ? 0 : 1 });
    await insertBody(api.t.db, d.id, "thin", []);
    const res = await retry(acme.key, endpointId, d.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "CONFLICT", details: { status } });
    expect(res.json().error.message).toContain(`it is ${status}`);
    const row = await api.t.db.selectFrom("deliveries").select("status").where("id", "=", d.id).executeTakeFirstOrThrow();
    expect(row.status).toBe(status);
  });

  it("is 409 for a delivery dead-lettered before its body was prepared (payload erased)", async () => {
    const eventId = await insertEvent(api.t.db, acme.tenantId, { erased: true });
    const d = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId, eventId, status: "dead", deadReason: "payload erased before delivery" });
    const res = await retry(acme.key, endpointId, d.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "CONFLICT", details: { status: "dead", deadReason: "payload erased before delivery" } });
    expect(await dueForScheduler(d.id)).toBe(false);
  });

  it("is 409 while the endpoint is disabled", async () => {
    const disabled = (await createEndpoint(api, acme)).id;
    const d = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId: disabled, status: "dead", attempts: 1, deadReason: "endpoint_disabled" });
    await insertBody(api.t.db, d.id, "thin", []);
    const del = await api.app.inject({ method: "DELETE", url: `/api/v2/webhooks/${disabled}`, headers: auth(acme.key) });
    expect(del.statusCode).toBe(200);
    const res = await retry(acme.key, disabled, d.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "CONFLICT", details: { endpointDisabled: true } });
  });

  it("replays the first response for the same Idempotency-Key", async () => {
    const { id } = await deadWithBody();
    const first = await retry(acme.key, endpointId, id, { "idempotency-key": "retry-once" });
    expect(first.statusCode).toBe(202);
    // Meanwhile the pipeline seals the attempt: a second retry without the key would be 409.
    await api.t.db.updateTable("deliveries").set({ status: "delivering", attempts: 4, next_attempt_at: null }).where("id", "=", id).execute();
    const again = await retry(acme.key, endpointId, id, { "idempotency-key": "retry-once" });
    expect(again.statusCode).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(first.json());
    expect((await retry(acme.key, endpointId, id)).statusCode).toBe(409);
  });

  it("is 404 across tenants and endpoints, and needs the admin scope", async () => {
    const { id } = await deadWithBody();
    const foreign = await retry(globex.key, endpointId, id);
    expect(foreign.statusCode).toBe(404);
    const sibling = (await createEndpoint(api, acme)).id;
    expect((await retry(acme.key, sibling, id)).statusCode).toBe(404);
    expect((await retry(acme.key, endpointId, "dlv_doesnotexist00000000")).statusCode).toBe(404);

    const readOnly = await keyWith(api, acme, ["read", "publish"]);
    const forbidden = await retry(readOnly, endpointId, id);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe("FORBIDDEN_SCOPE");
    const row = await api.t.db.selectFrom("deliveries").select("status").where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.status).toBe("dead");
  });
});

describe("OpenAPI", () => {
  it("documents the delivery routes with summary, tags, security and the idempotency header on the retry", async () => {
    const doc = (await api.app.inject({ url: "/openapi.json" })).json();
    const paths: Array<[string, string]> = [
      ["/api/v2/webhooks/{id}/deliveries", "get"],
      ["/api/v2/webhooks/{id}/deliveries/{deliveryId}", "get"],
      ["/api/v2/webhooks/{id}/deliveries/{deliveryId}/retries", "post"],
    ];
    for (const [path, method] of paths) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.summary).toEqual(expect.any(String));
      expect(op.tags).toEqual(["Deliveries"]);
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403", "404"]));
    }
    const retryOp = doc.paths["/api/v2/webhooks/{id}/deliveries/{deliveryId}/retries"].post;
    expect(retryOp.parameters.some((p: { in: string; name: string }) => p.in === "header" && p.name === "idempotency-key")).toBe(true);
    expect(Object.keys(retryOp.responses)).toEqual(expect.arrayContaining(["202", "409"]));
  });
});

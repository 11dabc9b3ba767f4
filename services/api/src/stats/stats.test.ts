import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryStatus } from "@custody/db";
import { createEndpoint, insertAttempt, insertDelivery } from "../shared/deliveries.fixture.js";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;
let a: string;
let b: string;
let c: string;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms);

/**
 * Hand-made history (latencies: deliveredAt − createdAt; attempts: duration):
 *   endpoint A, 10 min ago: delivered 100, 200, 300, 400 ms; dead; pending — attempts 10, 20, 30, 40 ms (5 min ago)
 *   endpoint A, 2 h ago:    delivered 1000 ms; retrying; cancelled; delivering
 *   endpoint A, 3 days ago: delivered 5000 ms; dead — an attempt of 9999 ms started 2 days ago
 *   endpoint B, 10 min ago: delivered 50 ms — an attempt of 100 ms; 2 h ago: dead, dead
 *   endpoint C:             nothing
 *   callback,   10 min ago: delivered 700 ms — an attempt of 1000 ms
 *   Globex, 10 min ago:     delivered and dead, an attempt: never counted for Acme
 */
beforeAll(async () => {
  api = await startTestApi("stats");
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
  a = (await createEndpoint(api, acme)).id;
  b = (await createEndpoint(api, acme)).id;
  c = (await createEndpoint(api, acme)).id;
  const db = api.t.db;

  async function delivery(tenantId: string, endpointId: string | null, status: DeliveryStatus, createdAgo: number, latencyMs?: number, attemptMs?: number, attemptAgo = 5 * MINUTE) {
    const createdAt = ago(createdAgo);
    const d = await insertDelivery(db, {
      tenantId,
      endpointId,
      status,
      createdAt,
      attempts: attemptMs === undefined ? 0 : 1,
      deliveredAt: latencyMs === undefined ? null : new Date(createdAt.getTime() + latencyMs),
    });
    if (attemptMs !== undefined) {
      await insertAttempt(db, {
        tenantId,
        deliveryId: d.id,
        eventId: d.eventId,
        endpointId,
        attemptNo: 1,
        startedAt: ago(attemptAgo),
        durationMs: attemptMs,
        outcome: status === "delivered" ? "delivered" : "dead",
      });
    }
  }

  const recent = 10 * MINUTE;
  await delivery(acme.tenantId, a, "delivered", recent, 100, 10);
  await delivery(acme.tenantId, a, "delivered", recent, 200, 20);
  await delivery(acme.tenantId, a, "delivered", recent, 300, 30);
  await delivery(acme.tenantId, a, "delivered", recent, 400, 40);
  await delivery(acme.tenantId, a, "dead", recent);
  await delivery(acme.tenantId, a, "pending", recent);
  await delivery(acme.tenantId, a, "delivered", 2 * HOUR, 1000);
  await delivery(acme.tenantId, a, "retrying", 2 * HOUR);
  await delivery(acme.tenantId, a, "cancelled", 2 * HOUR);
  await delivery(acme.tenantId, a, "delivering", 2 * HOUR);
  await delivery(acme.tenantId, a, "delivered", 3 * DAY, 5000, 9999, 2 * DAY);
  await delivery(acme.tenantId, a, "dead", 3 * DAY);
  await delivery(acme.tenantId, b, "delivered", recent, 50, 100);
  await delivery(acme.tenantId, b, "dead", 2 * HOUR);
  await delivery(acme.tenantId, b, "dead", 2 * HOUR);
  await delivery(acme.tenantId, null, "delivered", recent, 700, 1000);

  const foreign = (await createEndpoint(api, globex)).id;
  await delivery(globex.tenantId, foreign, "delivered", recent, 1, 1);
  await delivery(globex.tenantId, foreign, "dead", recent);
});

afterAll(async () => {
  await api.close();
});

const stats = (key: string, query = "") => api.app.inject({ url: `/api/v2/webhooks/stats${query}`, headers: auth(key) });

const zeros = { total: 0, pending: 0, delivering: 0, retrying: 0, delivered: 0, dead: 0, cancelled: 0 };
const none = { count: 0, p50: null, p95: null, p99: null };

describe("GET /api/v2/webhooks/stats", () => {
  it("per endpoint and overall over the last day (the default): counts, success rate, latency percentiles", async () => {
    const res = await stats(acme.key);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.window).toBe("day");
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(DAY);
    expect(Math.abs(Date.parse(body.to) - Date.now())).toBeLessThan(MINUTE);

    expect(body.endpoints.map((e: { endpointId: string }) => e.endpointId)).toEqual([a, b, c]);
    const [ea, eb, ec] = body.endpoints;
    expect(ea.deliveries).toEqual({ total: 10, pending: 1, delivering: 1, retrying: 1, delivered: 5, dead: 1, cancelled: 1 });
    expect(ea.successRate).toBeCloseTo(5 / 6, 10);
    // [100, 200, 300, 400, 1000]: p95 at rank 3.8 → 400 + 0.8 × 600
    expect(ea.deliveryLatencyMs).toEqual({ count: 5, p50: 300, p95: 880, p99: 976 });
    // [10, 20, 30, 40]: the 2-day-old attempt is outside the window
    expect(ea.attemptLatencyMs).toEqual({ count: 4, p50: 25, p95: 38.5, p99: 39.7 });

    expect(eb).toEqual({
      endpointId: b,
      deliveries: { ...zeros, total: 3, delivered: 1, dead: 2 },
      successRate: 1 / 3,
      deliveryLatencyMs: { count: 1, p50: 50, p95: 50, p99: 50 },
      attemptLatencyMs: { count: 1, p50: 100, p95: 100, p99: 100 },
    });
    expect(ec).toEqual({ endpointId: c, deliveries: zeros, successRate: null, deliveryLatencyMs: none, attemptLatencyMs: none });

    // Overall adds the one-shot callback delivery; Globex's rows never count.
    expect(body.overall.deliveries).toEqual({ total: 14, pending: 1, delivering: 1, retrying: 1, delivered: 7, dead: 3, cancelled: 1 });
    expect(body.overall.successRate).toBeCloseTo(0.7, 10);
    // [50, 100, 200, 300, 400, 700, 1000]
    expect(body.overall.deliveryLatencyMs).toEqual({ count: 7, p50: 300, p95: 910, p99: 982 });
    // [10, 20, 30, 40, 100, 1000]
    expect(body.overall.attemptLatencyMs).toEqual({ count: 6, p50: 35, p95: 775, p99: 955 });
  });

  it("over the last hour and the last week", async () => {
    const hour = (await stats(acme.key, "?window=hour")).json();
    expect(hour.window).toBe("hour");
    expect(Date.parse(hour.to) - Date.parse(hour.from)).toBe(HOUR);
    const ha = hour.endpoints[0];
    expect(ha.deliveries).toEqual({ ...zeros, total: 6, delivered: 4, dead: 1, pending: 1 });
    expect(ha.successRate).toBeCloseTo(0.8, 10);
    expect(ha.deliveryLatencyMs).toEqual({ count: 4, p50: 250, p95: 385, p99: 397 });
    expect(hour.endpoints[1].deliveries).toEqual({ ...zeros, total: 1, delivered: 1 });
    expect(hour.endpoints[1].successRate).toBe(1);

    const week = (await stats(acme.key, "?window=week")).json();
    expect(Date.parse(week.to) - Date.parse(week.from)).toBe(7 * DAY);
    const wa = week.endpoints[0];
    expect(wa.deliveries).toEqual({ total: 12, pending: 1, delivering: 1, retrying: 1, delivered: 6, dead: 2, cancelled: 1 });
    expect(wa.successRate).toBeCloseTo(0.75, 10);
    // [100, 200, 300, 400, 1000, 5000]
    expect(wa.deliveryLatencyMs).toEqual({ count: 6, p50: 350, p95: 4000, p99: 4800 });
    // [10, 20, 30, 40, 9999]
    expect(wa.attemptLatencyMs).toMatchObject({ count: 5, p50: 30 });
  });

  it("for one endpoint: overall is that endpoint's, and another tenant's endpoint is 404", async () => {
    const res = await stats(acme.key, `?endpointId=${b}&window=day`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.endpoints).toHaveLength(1);
    const { endpointId, ...block } = body.endpoints[0];
    expect(endpointId).toBe(b);
    expect(body.overall).toEqual(block);
    expect(body.overall.deliveries.total).toBe(3);

    const quiet = (await stats(acme.key, `?endpointId=${c}`)).json();
    expect(quiet.overall).toEqual({ deliveries: zeros, successRate: null, deliveryLatencyMs: none, attemptLatencyMs: none });

    const foreign = await stats(globex.key, `?endpointId=${a}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toMatchObject({ code: "NOT_FOUND", field: "query.endpointId" });
  });

  it("sees only the caller's tenant", async () => {
    const body = (await stats(globex.key)).json();
    expect(body.endpoints).toHaveLength(1);
    expect(body.overall.deliveries).toEqual({ ...zeros, total: 2, delivered: 1, dead: 1 });
    expect(body.overall.successRate).toBe(0.5);
    expect(body.overall.attemptLatencyMs).toEqual({ count: 1, p50: 1, p95: 1, p99: 1 });
    const empty = await newTenant(api, "Initech");
    expect((await stats(empty.key)).json()).toMatchObject({ endpoints: [], overall: { deliveries: zeros, successRate: null } });
  });

  it("rejects an unknown window, and needs the read scope", async () => {
    expect((await stats(acme.key, "?window=month")).statusCode).toBe(400);
    expect((await api.app.inject({ url: "/api/v2/webhooks/stats" })).statusCode).toBe(401);
    const publishOnly = await keyWith(api, acme, ["publish"]);
    expect((await stats(publishOnly)).statusCode).toBe(403);
    expect((await stats(await keyWith(api, acme, ["read"]))).statusCode).toBe(200);
  });

  it("is documented in the OpenAPI document", async () => {
    const doc = (await api.app.inject({ url: "/openapi.json" })).json();
    const op = doc.paths["/api/v2/webhooks/stats"].get;
    expect(op.summary).toEqual(expect.any(String));
    expect(op.tags).toHaveLength(1);
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["endpointId", "window"]));
  });
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, sql } from "@custody/db";
import { createEndpoint, HOOK_URL } from "../shared/deliveries.fixture.js";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  api = await startTestApi("testevents");
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
});

afterAll(async () => {
  await api.close();
});

const send = (key: string, endpointId: string, headers: Record<string, string> = {}) => api.app.inject({ method: "POST", url: `/api/v2/webhooks/${endpointId}/test-events`, headers: auth(key, headers) });

async function countEvents(tenantId: string): Promise<number> {
  const row = await api.t.db
    .selectFrom("events")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("POST /api/v2/webhooks/{id}/test-events", () => {
  it("appends a webhook.test event and its one delivery to this endpoint, all in one transaction", async () => {
    // Default subscriptions (*.final, *.retracted, *.recalled) do not match webhook.test: the test event goes anyway.
    const endpoint = await createEndpoint(api, acme);
    const before = Date.now();
    const res = await send(acme.key, endpoint.id);
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body).toEqual({ eventId: expect.stringMatching(/^evt_/), deliveryId: expect.stringMatching(/^dlv_/) });

    const db = api.t.db;
    const event = await db.selectFrom("events").selectAll().where("tenant_id", "=", acme.tenantId).where("id", "=", body.eventId).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ type: "webhook.test", event_type_id: null, callback_url: null, supersedes: null, erased_at: null, fan_out: false });
    const data = JSON.parse(event.payload!.toString("utf8"));
    expect(data).toEqual({ endpointId: endpoint.id, message: "This is a test event from Custody.", sentAt: expect.any(String) });
    expect(Date.parse(data.sentAt)).toBeGreaterThanOrEqual(before - 1000);

    const entry = await db.selectFrom("ledger_entries").select(["kind", "tenant_id"]).where("id", "=", event.entry_id).executeTakeFirstOrThrow();
    expect(entry).toEqual({ kind: "event", tenant_id: acme.tenantId });

    const deliveries = await db.selectFrom("deliveries").selectAll().where("tenant_id", "=", acme.tenantId).where("event_id", "=", body.eventId).execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      id: body.deliveryId,
      kind: "endpoint",
      endpoint_id: endpoint.id,
      target_url: endpoint.url,
      status: "pending",
      replay_id: null,
      attempts: 0,
      // Queued for the scheduler, due now.
      next_attempt_at: expect.any(Date),
      idempotency_key: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });

    // xmin is the id of the transaction that inserted a row: one value means one transaction.
    const xmins = await sql<{ xmin: string }>`
      SELECT xmin::text AS xmin FROM ledger_entries WHERE id = ${event.entry_id}
      UNION SELECT xmin::text FROM events WHERE tenant_id = ${acme.tenantId} AND id = ${body.eventId}
      UNION SELECT xmin::text FROM deliveries WHERE id = ${body.deliveryId}`.execute(db);
    expect(xmins.rows).toHaveLength(1);
  });

  it("reaches only this endpoint: the fan-out's insert for it is a no-op against the one-per-(event, endpoint) index", async () => {
    const target = await createEndpoint(api, acme, { subscriptions: ["*"] });
    const catchAll = await createEndpoint(api, acme, { subscriptions: ["*"] });
    const webhookStar = await createEndpoint(api, acme, { subscriptions: ["webhook.*"] });
    const { eventId, deliveryId } = (await send(acme.key, target.id)).json();

    // What the fan-out stage inserts for this endpoint (ON CONFLICT DO NOTHING) finds the row already there.
    const inserted = await api.t.db
      .insertInto("deliveries")
      .values({ id: newId("dlv"), tenant_id: acme.tenantId, event_id: eventId, endpoint_id: target.id, kind: "endpoint", target_url: target.url, idempotency_key: randomUUID() })
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .execute();
    expect(inserted).toEqual([]);

    const rows = await api.t.db.selectFrom("deliveries").select(["id", "endpoint_id"]).where("tenant_id", "=", acme.tenantId).where("event_id", "=", eventId).execute();
    expect(rows).toEqual([{ id: deliveryId, endpoint_id: target.id }]);
    expect(rows.map((r) => r.endpoint_id)).not.toContain(catchAll.id);
    expect(rows.map((r) => r.endpoint_id)).not.toContain(webhookStar.id);
  });

  it("shows up in the endpoint's deliveries and in the event read", async () => {
    const endpoint = await createEndpoint(api, acme);
    const { eventId, deliveryId } = (await send(acme.key, endpoint.id)).json();
    const listed = (await api.app.inject({ url: `/api/v2/webhooks/${endpoint.id}/deliveries`, headers: auth(acme.key) })).json();
    expect(listed.data).toEqual([expect.objectContaining({ id: deliveryId, eventId, eventType: "webhook.test", status: "pending", attempts: 0 })]);
    const event = (await api.app.inject({ url: `/api/v2/events/${eventId}`, headers: auth(acme.key) })).json();
    expect(event).toMatchObject({ id: eventId, type: "webhook.test", deliveries: [{ id: deliveryId, endpointId: endpoint.id, targetUrl: HOOK_URL, status: "pending" }] });
  });

  it("is 409 CONFLICT for a disabled endpoint, and writes nothing", async () => {
    const endpoint = await createEndpoint(api, acme);
    const disabled = await api.app.inject({ method: "PATCH", url: `/api/v2/webhooks/${endpoint.id}`, headers: auth(acme.key), payload: { disabled: true } });
    expect(disabled.statusCode).toBe(200);
    const events = await countEvents(acme.tenantId);
    const res = await send(acme.key, endpoint.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "CONFLICT", field: "params.id", details: { disabledReason: "disabled by API" } });
    expect(await countEvents(acme.tenantId)).toBe(events);

    const enabled = await api.app.inject({ method: "PATCH", url: `/api/v2/webhooks/${endpoint.id}`, headers: auth(acme.key), payload: { disabled: false } });
    expect(enabled.statusCode).toBe(200);
    expect((await send(acme.key, endpoint.id)).statusCode).toBe(202);
  });

  it("replays the first response for the same Idempotency-Key instead of sending a second test event", async () => {
    const endpoint = await createEndpoint(api, acme);
    const events = await countEvents(acme.tenantId);
    const first = await send(acme.key, endpoint.id, { "idempotency-key": "ping-1" });
    const again = await send(acme.key, endpoint.id, { "idempotency-key": "ping-1" });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(first.json());
    expect(await countEvents(acme.tenantId)).toBe(events + 1);
    const other = await send(acme.key, endpoint.id, { "idempotency-key": "ping-2" });
    expect(other.json().eventId).not.toBe(first.json().eventId);
  });

  it("is 404 for another tenant's or an unknown endpoint, and needs the admin scope", async () => {
    const endpoint = await createEndpoint(api, acme);
    const events = await countEvents(globex.tenantId);
    const foreign = await send(globex.key, endpoint.id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toMatchObject({ code: "NOT_FOUND", field: "params.id" });
    expect(await countEvents(globex.tenantId)).toBe(events);
    expect((await send(acme.key, "wh_doesnotexist00000000")).statusCode).toBe(404);

    for (const scopes of [["read"], ["publish"], ["read", "publish"]] as const) {
      const res = await send(await keyWith(api, acme, [...scopes]), endpoint.id);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe("FORBIDDEN_SCOPE");
    }
    expect((await api.app.inject({ method: "POST", url: `/api/v2/webhooks/${endpoint.id}/test-events` })).statusCode).toBe(401);
  });

  it("is documented in the OpenAPI document", async () => {
    const doc = (await api.app.inject({ url: "/openapi.json" })).json();
    const op = doc.paths["/api/v2/webhooks/{id}/test-events"].post;
    expect(op.summary).toEqual(expect.any(String));
    expect(op.tags).toHaveLength(1);
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["202", "400", "401", "403", "404", "409"]));
    expect(op.parameters.some((p: { in: string; name: string }) => p.in === "header" && p.name === "idempotency-key")).toBe(true);
  });
});

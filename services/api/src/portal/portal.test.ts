import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, insertDelivery } from "../shared/deliveries.fixture.js";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

/*
 * Portal sessions (issue 11): a cpt_ token sees its endpoints only, does only what its capabilities
 * allow, never reaches a tenant-wide route, expires and can be revoked — enforced by the server.
 */
describe("portal sessions", () => {
  let api: TestApi;
  let acme: TestTenant;
  let other: TestTenant;
  let mine: { id: string };
  let theirs: { id: string };
  let foreign: { id: string };
  let myDelivery: { id: string; eventId: string };
  let theirDelivery: { id: string; eventId: string };

  beforeAll(async () => {
    api = await startTestApi("portal");
    acme = await newTenant(api, "Acme");
    other = await newTenant(api, "Other");
    mine = await createEndpoint(api, acme, { displayName: "customer A" });
    theirs = await createEndpoint(api, acme, { displayName: "customer B" });
    foreign = await createEndpoint(api, other);
    myDelivery = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId: mine.id, status: "dead", deadReason: "exhausted" });
    theirDelivery = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId: theirs.id, status: "delivered" });
  });
  afterAll(() => api.close());

  async function session(body: Record<string, unknown>, key = acme.key) {
    const res = await api.app.inject({ method: "POST", url: "/api/v2/portal-sessions", headers: auth(key, { host: "custody.example" }), payload: body });
    return res;
  }

  it("creates a link whose token is shown once and stored hashed", async () => {
    const res = await session({ endpointIds: [mine.id], expiresInSeconds: 600, capabilities: ["retry"], theme: { accent: "#aa0055", radius: "2px" } });
    expect(res.statusCode, res.body).toBe(201);
    const s = res.json();
    expect(s.token).toMatch(/^cpt_[A-Za-z0-9_-]{43}$/);
    expect(s.url).toBe(`http://custody.example/console/portal#token=${s.token}`);
    expect(s).toMatchObject({ endpointIds: [mine.id], capabilities: ["retry"], theme: { accent: "#aa0055", radius: "2px" }, revokedAt: null });
    const row = await api.t.db.selectFrom("portal_sessions").selectAll().where("id", "=", s.id).executeTakeFirstOrThrow();
    expect(row.token_hash.length).toBe(32);
    expect(JSON.stringify(row)).not.toContain(s.token.slice(4));
    const listed = await api.app.inject({ method: "GET", url: "/api/v2/portal-sessions", headers: auth(acme.key) });
    expect(listed.json().data.map((x: { id: string }) => x.id)).toContain(s.id);
    expect(listed.body).not.toContain(s.token);
  });

  it("refuses endpoints of another tenant, bad themes, and keys without admin", async () => {
    expect((await session({ endpointIds: [foreign.id] })).json().error).toMatchObject({ code: "NOT_FOUND", field: "body.endpointIds" });
    expect((await session({ endpointIds: [mine.id], theme: { accent: "red; background:url(x)" } })).json().error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect((await session({ endpointIds: [mine.id], expiresInSeconds: 8 * 24 * 3600 })).statusCode).toBe(400);
    const reader = await keyWith(api, acme, ["read"]);
    expect((await session({ endpointIds: [mine.id] }, reader)).json().error.code).toBe("FORBIDDEN_SCOPE");
  });

  it("sees only its endpoints, their deliveries and attempts; everything else is 404 or 403", async () => {
    const { token } = (await session({ endpointIds: [mine.id], capabilities: ["retry", "proofs"] })).json();
    const as = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
      api.app.inject({ method, url, headers: auth(token), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

    const me = await as("GET", "/api/v2/portal-session");
    expect(me.json()).toMatchObject({ endpointIds: [mine.id], capabilities: ["retry", "proofs"] });

    const list = await as("GET", "/api/v2/webhooks");
    expect(list.json().data.map((e: { id: string }) => e.id)).toEqual([mine.id]);
    expect((await as("GET", `/api/v2/webhooks/${mine.id}`)).statusCode).toBe(200);
    expect((await as("GET", `/api/v2/webhooks/${mine.id}/deliveries/${myDelivery.id}`)).statusCode).toBe(200);
    const all = await as("GET", "/api/v2/deliveries");
    expect(all.json().data.map((d: { id: string }) => d.id)).toEqual([myDelivery.id]);

    // Another endpoint of the same tenant, and another tenant's: not found, as if they did not exist.
    for (const url of [
      `/api/v2/webhooks/${theirs.id}`,
      `/api/v2/webhooks/${theirs.id}/deliveries`,
      `/api/v2/webhooks/${theirs.id}/deliveries/${theirDelivery.id}`,
      `/api/v2/webhooks/${theirs.id}/deliveries/${theirDelivery.id}/body`,
      `/api/v2/webhooks/${foreign.id}`,
      `/api/v2/deliveries?endpointId=${theirs.id}`,
      `/api/v2/webhooks/events/${theirDelivery.eventId}/chain-of-custody`,
      `/api/v2/webhooks/events/${myDelivery.eventId}/chain-of-custody?endpointId=${theirs.id}`,
    ]) {
      const res = await as("GET", url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe("NOT_FOUND");
    }
    expect((await as("POST", `/api/v2/webhooks/${theirs.id}/deliveries/${theirDelivery.id}/retries`)).statusCode).toBe(404);
    // A delivery of another endpoint under its own endpoint's path: the delivery is not found.
    expect((await as("GET", `/api/v2/webhooks/${mine.id}/deliveries/${theirDelivery.id}`)).json().error.field).toBe("params.deliveryId");

    // Tenant-wide routes: forbidden.
    for (const [method, url] of [
      ["GET", "/api/v2/events"],
      ["GET", `/api/v2/events/${myDelivery.eventId}`],
      ["GET", "/api/v2/webhooks/stats"],
      ["GET", "/api/v2/api-keys"],
      ["GET", "/api/v2/event-types"],
      ["GET", "/api/v2/portal-sessions"],
      ["POST", "/api/v2/webhooks"],
      ["DELETE", `/api/v2/webhooks/${mine.id}`],
      ["POST", `/api/v2/webhooks/${mine.id}/test-events`],
      ["POST", `/api/v2/webhooks/events/${myDelivery.eventId}/recall`],
    ] as const) {
      const res = await as(method, url, method === "POST" && url.endsWith("recall") ? { reason: "x" } : method === "POST" && url === "/api/v2/webhooks" ? { url: "https://x.example" } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code, `${method} ${url}`).toBe("FORBIDDEN_SCOPE");
    }

    // Capabilities it was not given: forbidden, even on its own endpoint.
    expect((await as("POST", `/api/v2/webhooks/${mine.id}/rotate-secret`)).json().error.code).toBe("FORBIDDEN_SCOPE");
    expect((await as("PATCH", `/api/v2/webhooks/${mine.id}`, { defaultPayloadShape: "thin" })).json().error.code).toBe("FORBIDDEN_SCOPE");
    expect((await as("POST", `/api/v2/webhooks/${mine.id}/replays`, { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() })).statusCode).toBe(403);
    // The one it was given works.
    const retried = await as("POST", `/api/v2/webhooks/${mine.id}/deliveries/${myDelivery.id}/retries`);
    expect(retried.statusCode, retried.body).toBe(202);
  });

  it("lets payloadShape change the shape and nothing else", async () => {
    const { token } = (await session({ endpointIds: [mine.id], capabilities: ["payloadShape", "rotateSecret"] })).json();
    const patch = (payload: Record<string, unknown>) => api.app.inject({ method: "PATCH", url: `/api/v2/webhooks/${mine.id}`, headers: auth(token), payload });
    const url = await patch({ url: "https://elsewhere.example/hook" });
    expect(url.json().error).toMatchObject({ code: "FORBIDDEN_SCOPE", field: "body.url" });
    const fat = await patch({ defaultPayloadShape: "fat", fatEventsAcknowledgment: { fieldsAcknowledged: [] } });
    expect(fat.statusCode, fat.body).toBe(200);
    expect(fat.json().defaultPayloadShape).toBe("fat");
    expect((await patch({ defaultPayloadShape: "thin" })).json().defaultPayloadShape).toBe("thin");
    const rotated = await api.app.inject({ method: "POST", url: `/api/v2/webhooks/${mine.id}/rotate-secret`, headers: auth(token) });
    expect(rotated.json().secret).toMatch(/^whsec_/);
  });

  it("stops working when revoked or expired, and is unknown to another tenant", async () => {
    const { id, token } = (await session({ endpointIds: [mine.id] })).json();
    const read = () => api.app.inject({ method: "GET", url: "/api/v2/webhooks", headers: auth(token) });
    expect((await read()).statusCode).toBe(200);
    expect((await api.app.inject({ method: "DELETE", url: `/api/v2/portal-sessions/${id}`, headers: auth(other.key) })).statusCode).toBe(404);
    const revoked = await api.app.inject({ method: "DELETE", url: `/api/v2/portal-sessions/${id}`, headers: auth(acme.key) });
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await read()).json().error.code).toBe("UNAUTHENTICATED");

    const short = (await session({ endpointIds: [mine.id], expiresInSeconds: 60 })).json();
    await api.t.db
      .updateTable("portal_sessions")
      .set({ created_at: new Date(Date.now() - 7200_000), expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", short.id)
      .execute();
    const expired = await api.app.inject({ method: "GET", url: "/api/v2/webhooks", headers: auth(short.token) });
    expect(expired.statusCode).toBe(401);
    expect((await api.app.inject({ method: "GET", url: "/api/v2/webhooks", headers: auth(`cpt_${"A".repeat(43)}`) })).statusCode).toBe(401);
  });

  it("answers /api/v2/portal-session only for a portal session", async () => {
    const res = await api.app.inject({ method: "GET", url: "/api/v2/portal-session", headers: auth(acme.key) });
    expect(res.json().error.code).toBe("FORBIDDEN_SCOPE");
  });
});

describe("GET /api/v2/deliveries", () => {
  let api: TestApi;
  let acme: TestTenant;
  let a: { id: string };
  let b: { id: string };

  beforeAll(async () => {
    api = await startTestApi("dlvsearch");
    acme = await newTenant(api);
    a = await createEndpoint(api, acme);
    b = await createEndpoint(api, acme);
    const base = Date.now() - 3600_000;
    for (let i = 0; i < 12; i++) {
      await insertDelivery(api.t.db, {
        tenantId: acme.tenantId,
        endpointId: i % 2 === 0 ? a.id : b.id,
        status: i % 5 === 0 ? "dead" : "delivered",
        eventType: i % 3 === 0 ? "order.paid" : "order.created",
        createdAt: new Date(base + i * 1000),
      });
    }
  });
  afterAll(() => api.close());

  const page = async (query: string) => {
    const res = await api.app.inject({ method: "GET", url: `/api/v2/deliveries?${query}`, headers: auth(acme.key) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: Array<{ id: string; endpointId: string; status: string; eventType: string; createdAt: string }>; nextCursor: string | null; searchedTo: string | null };
  };

  it("pages newest first across endpoints without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    const created: string[] = [];
    do {
      const p = await page(`limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...p.data.map((d) => d.id));
      created.push(...p.data.map((d) => d.createdAt));
      cursor = p.nextCursor;
    } while (cursor !== null);
    expect(seen.length).toBe(12);
    expect(new Set(seen).size).toBe(12);
    expect([...created].sort().reverse()).toEqual(created);
  });

  it("filters by endpoint, status, event type and time", async () => {
    expect((await page(`endpointId=${a.id}`)).data.every((d) => d.endpointId === a.id)).toBe(true);
    expect((await page(`endpointId=${a.id}&endpointId=${b.id}`)).data.length).toBe(12);
    const dead = await page("status=dead");
    expect(dead.data.map((d) => d.status)).toEqual(["dead", "dead", "dead"]);
    expect(dead.nextCursor).toBeNull();
    expect((await page("eventType=order.paid")).data.length).toBe(4);
    const all = await page("");
    const mid = all.data[5]!.createdAt;
    expect((await page(`to=${encodeURIComponent(mid)}`)).data.length).toBe(6);
    const other = await newTenant(api, "Other");
    const unknown = await api.app.inject({ method: "GET", url: `/api/v2/deliveries?endpointId=${a.id}`, headers: auth(other.key) });
    expect(unknown.json().error).toMatchObject({ code: "NOT_FOUND", field: "query.endpointId" });
  });

  it("answers the body a delivery sends, rebuilt from the event", async () => {
    const d = await insertDelivery(api.t.db, { tenantId: acme.tenantId, endpointId: a.id, status: "delivered", eventType: "order.paid", redaction: { shape: "thin", removed: [] } });
    const res = await api.app.inject({ method: "GET", url: `/api/v2/webhooks/${a.id}/deliveries/${d.id}/body`, headers: auth(acme.key) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["data", "id", "payloadShape", "redacted", "timestamp", "type"]);
    expect(body).toMatchObject({ data: { name: "Ada" }, payloadShape: "thin", redacted: [], type: "order.paid" });
  });
});

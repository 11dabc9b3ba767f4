import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { createDb } from "@custody/db";
import { createLogger } from "@custody/log";
import { buildApiApp } from "./app.js";
import { auth, newTenant, startTestApi, type TestApi, type TestTenant } from "./shared/test-app.fixture.js";

/**
 * What reaches the API but not Postgres or the ledger intact (issue 10): U+0000, numbers a double
 * would change, unknown fields, and a database that cannot be reached.
 */

let api: TestApi;
let acme: TestTenant;
let endpointId: string;

const json = () => ({ "content-type": "application/json", ...auth(acme.key) });

beforeAll(async () => {
  api = await startTestApi("hygiene");
  acme = await newTenant(api);
  const type = await api.app.inject({ method: "POST", url: "/api/v2/event-types", headers: auth(acme.key), payload: { name: "case.note", description: "A note" } });
  expect(type.statusCode, type.body).toBe(201);
  const hook = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(acme.key), payload: { url: "https://127.0.0.1:8443/hook", displayName: "hook" } });
  expect(hook.statusCode, hook.body).toBe(201);
  endpointId = hook.json().id;
});

afterAll(async () => {
  await api?.close();
});

describe("U+0000", () => {
  it("is refused with 400 naming the field in path ids, query filters, names, descriptions, receipts and event data", async () => {
    const cases: [string, string, string | undefined, string][] = [
      ["GET", `/api/v2/webhooks/wh_%00`, undefined, "params.id"],
      ["GET", `/api/v2/event-types/case%00note`, undefined, "params.name"],
      ["DELETE", `/api/v2/api-keys/key_%00`, undefined, "params.id"],
      ["GET", `/api/v2/webhook-receipts/rcp_%00`, undefined, "params.id"],
      ["GET", `/api/v2/webhooks/${endpointId}/deliveries/dlv_%00`, undefined, "params.deliveryId"],
      ["GET", `/api/v2/events?type=case.note%00`, undefined, "query.type"],
      ["GET", `/api/v2/webhook-receipts?deliveryId=dlv_%00`, undefined, "query.deliveryId"],
      ["POST", "/api/v2/event-types", '{"name":"case.other","description":"a\\u0000b"}', "body.description"],
      ["POST", "/api/v2/event-types/case.note/versions", '{"description":"\\u0000"}', "body.description"],
      ["POST", "/api/v2/webhooks", '{"url":"https://127.0.0.1:8443/x","displayName":"CRM\\u0000"}', "body.displayName"],
      ["PATCH", `/api/v2/webhooks/${endpointId}`, '{"displayName":"\\u0000"}', "body.displayName"],
      ["POST", "/api/v2/api-keys", '{"name":"ci\\u0000","environment":"test","scopes":["read"]}', "body.name"],
      ["POST", "/api/v2/webhook-receipts", '{"deliveryId":"dlv_\\u0000","statement":"AA==","signature":"AA=="}', "body.deliveryId"],
      ["POST", "/api/v2/events", '{"type":"case.note","data":{"note":"x\\u0000y"}}', "body.data.note"],
      ["POST", "/api/v2/events", '{"type":"case.note","data":{"k\\u0000":1}}', "body.data.k\\u0000"],
      ["POST", "/api/v2/events", '{"type":"case.note","data":{},"metadata":{"m":["\\u0000"]}}', "body.metadata.m.0"],
      ["POST", "/api/v2/events/batch", '{"events":[{"type":"case.note","data":{}},{"type":"case.note","data":{"a":"\\u0000"}}]}', "body.events.1.data.a"],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await api.app.inject({ method: method as "GET", url, ...(payload === undefined ? { headers: auth(acme.key) } : { payload, headers: json() }) });
      expect([res.statusCode, res.json().error?.code, res.json().error?.field], `${method} ${url}`).toEqual([400, "VALIDATION_FAILED", field]);
    }
    const read = await api.app.inject({ url: `/api/v2/webhooks/${endpointId}`, headers: auth(acme.key) });
    expect(read.json().displayName).toBe("hook");
  });
});

describe("numbers in event data", () => {
  const send = (payload: string, url = "/api/v2/events") => api.app.inject({ method: "POST", url, payload, headers: json() });

  it("refuses a number a double would change, 422 NUMBER_NOT_EXACT naming the field, and stores nothing", async () => {
    for (const [literal, reason] of [
      ["9007199254740993", "UNSAFE_INTEGER"],
      ["1e-400", "UNDERFLOW"],
      ["1e400", "OVERFLOW"],
      ["0.1000000000000000055511151231257827", "PRECISION"],
    ] as const) {
      const id = `num-${randomBytes(4).toString("hex")}`;
      const res = await send(`{"id":"${id}","type":"case.note","data":{"order":{"amount":${literal}}}}`);
      expect([res.statusCode, res.json().error], literal).toEqual([422, expect.objectContaining({ code: "NUMBER_NOT_EXACT", field: "body.data.order.amount", details: { reason, literal } })]);
      expect((await api.app.inject({ url: `/api/v2/events/${id}`, headers: auth(acme.key) })).statusCode).toBe(404);
    }
    const batch = await send('{"events":[{"type":"case.note","data":{"n":1}},{"type":"case.note","data":{"n":[0,9007199254740993]}}]}', "/api/v2/events/batch");
    expect([batch.statusCode, batch.json().error.code, batch.json().error.field]).toEqual([422, "NUMBER_NOT_EXACT", "body.events.1.data.n.1"]);
  });

  it("ledgers every other number with its exact value, in its shortest form", async () => {
    const id = `num-ok-${randomBytes(4).toString("hex")}`;
    const res = await send(`{"id":"${id}","type":"case.note","data":{"a":1.0,"b":1E2,"c":9007199254740991,"d":0.1,"e":-0.0,"f":6.02214076e23,"g":"9007199254740993"}}`);
    expect(res.statusCode, res.body).toBe(201);
    const canonical = '{"a":1,"b":100,"c":9007199254740991,"d":0.1,"e":0,"f":6.02214076e+23,"g":"9007199254740993"}';
    const read = await api.app.inject({ url: `/api/v2/events/${id}`, headers: auth(acme.key) });
    expect(JSON.stringify(read.json().data)).toBe(canonical);
    const entry = await api.t.db.selectFrom("ledger_entries").select("body").where("id", "=", res.json().entryId).executeTakeFirstOrThrow();
    expect(JSON.parse(entry.body.toString("utf8")).payloadSha256).toBe(createHash("sha256").update(canonical).digest("hex"));
  });
});

describe("unknown fields", () => {
  it("are refused on every request body, naming the field, and change nothing", async () => {
    const cases: [string, string, unknown, string][] = [
      ["PATCH", `/api/v2/webhooks/${endpointId}`, { retyPolicy: { kind: "exponential" } }, "body.retyPolicy"],
      ["PATCH", `/api/v2/webhooks/${endpointId}`, { fatEventsAcknowledgment: { fieldsAcknowledged: [], all: true } }, "body.fatEventsAcknowledgment.all"],
      ["POST", "/api/v2/webhooks", { url: "https://127.0.0.1:8443/y", displayname: "typo" }, "body.displayname"],
      ["POST", "/api/v2/event-types/case.note/versions", { descripton: "typo" }, "body.descripton"],
      ["POST", "/api/v2/event-types", { name: "case.typo", description: "x", personalDataField: ["/a"] }, "body.personalDataField"],
      ["POST", "/api/v2/api-keys", { environment: "test", scopes: ["read"], expiresAt: "2030-01-01T00:00:00Z" }, "body.expiresAt"],
      ["POST", "/api/v2/events/batch", { events: [{ type: "case.note", data: {} }], atomic: true }, "body.atomic"],
      ["POST", "/api/v2/events", { type: "case.note", data: {}, callback_url: "https://x/" }, "body.callback_url"],
      ["POST", `/api/v2/webhooks/${endpointId}/rotate-secret`, { overlapHours: 1 }, "body.overlapHours"],
      ["POST", "/api/v2/callback-secret/rotate", { overlapHours: 1 }, "body.overlapHours"],
      ["POST", `/api/v2/event-types/case.note/archive`, { reason: "x" }, "body.reason"],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await api.app.inject({ method: method as "POST", url, payload: payload as object, headers: auth(acme.key) });
      expect([res.statusCode, res.json().error?.code, res.json().error?.field], `${method} ${url}`).toEqual([400, "VALIDATION_FAILED", field]);
    }
    const read = await api.app.inject({ url: `/api/v2/webhooks/${endpointId}`, headers: auth(acme.key) });
    expect(read.json().retryPolicy.kind).toBe("default");
    const type = await api.app.inject({ url: "/api/v2/event-types/case.note", headers: auth(acme.key) });
    expect([type.json().version, type.json().archivedAt]).toEqual([1, null]);
  });

  it("lets a mutation without a body take none or {}", async () => {
    for (const payload of [undefined, {}]) {
      const res = await api.app.inject({ method: "POST", url: `/api/v2/webhooks/${endpointId}/revoke-previous-secret`, headers: auth(acme.key), ...(payload ? { payload } : {}) });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
});

describe("a database that cannot be reached", () => {
  it("answers 503 DATABASE_UNAVAILABLE with Retry-After, not 500", async () => {
    const { db } = createDb({ url: "postgres://postgres@127.0.0.1:1/custody", poolMax: 2, statementTimeoutMs: 1_000, applicationName: "test-outage" });
    const app = await buildApiApp({
      db,
      config: loadConfig("api", {}),
      masterKey: randomBytes(32),
      logger: createLogger({ service: "test", level: "silent", pretty: false }),
      readiness: {},
    });
    try {
      const headers = { authorization: `Bearer ${acme.key}` };
      for (const [method, url, payload] of [
        ["POST", "/api/v2/events", { type: "case.note", data: {} }],
        ["GET", "/api/v2/webhooks", undefined],
        ["GET", "/api/v2/events/evt_1", undefined],
      ] as const) {
        const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        expect([res.statusCode, res.headers["retry-after"], res.json()], `${method} ${url}`).toEqual([503, "5", { error: { code: "DATABASE_UNAVAILABLE", message: "the database is unavailable; retry in 5 s" } }]);
      }
    } finally {
      await app.close();
      await db.destroy();
    }
  });
});

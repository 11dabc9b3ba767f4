import { createHash, randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@custody/config";
import { entriesAfter, ORIGIN_POSITION } from "@custody/ledger-store";
import { newId, sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import type { HttpApp } from "@custody/http";
import { eventEntry, parseEntry, parseEntryOf } from "@custody/ledger";
import { createLogger } from "@custody/log";
import type { Resolver } from "@custody/netguard";
import { createTenant, insertApiKey, type CreatedTenant } from "@custody/tenancy";
import { buildApiApp, type ApiDeps } from "../app.js";
import { EventIdRace } from "@custody/events";
import { acceptedEvent } from "./accepted.fixture.js";
import { insertEvents } from "./ingest-store.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest();

let t: TestDatabase;
const masterKey = randomBytes(32);
const apps: HttpApp[] = [];
/** Loopback callbacks allowed (local development), batches of up to 10. */
let app: HttpApp;
let acme: CreatedTenant;
let globex: CreatedTenant;

async function build(env: Record<string, string>, extra: Partial<Pick<ApiDeps, "ingestClock" | "resolver">> = {}): Promise<HttpApp> {
  const deps: ApiDeps = {
    db: t.db,
    config: loadConfig("api", env),
    masterKey,
    logger,
    readiness: {},
    ...extra,
  };
  const built = await buildApiApp(deps);
  await built.ready();
  apps.push(built);
  return built;
}

async function eventType(tenantId: string, name: string, options: { schema?: unknown; version?: number; archived?: boolean } = {}): Promise<string> {
  const id = newId("ety");
  await t.db
    .insertInto("event_types")
    .values({
      id,
      tenant_id: tenantId,
      name,
      version: options.version ?? 1,
      data_schema: options.schema === undefined ? null : JSON.stringify(options.schema),
      archived_at: options.archived ? new Date() : null,
    })
    .execute();
  return id;
}

function post(target: HttpApp, key: string, url: string, payload: unknown) {
  return target.inject({ method: "POST", url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
}
function get(target: HttpApp, key: string, url: string) {
  return target.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
}

const CASE_SCHEMA = {
  type: "object",
  required: ["caseId", "status"],
  properties: {
    caseId: { type: "string" },
    status: { enum: ["COMPLETED", "FAILED"] },
    result: { type: "object", properties: { taxId: { type: "string", pattern: "^[0-9]{2}-[0-9]{7}$" } } },
  },
};
const completed = (caseId = "case_123") => ({ caseId, status: "COMPLETED", attemptCount: 2, result: { signedW9Received: true, taxId: "12-3456789" } });

beforeAll(async () => {
  t = await createTestDatabase("events");
  app = await build({ CUSTODY_ALLOW_LOOPBACK_TARGETS: "true", CUSTODY_MAX_BATCH_EVENTS: "10" });
  acme = await createTenant(t.db, "Acme");
  globex = await createTenant(t.db, "Globex");
  for (const tenant of [acme, globex]) {
    await eventType(tenant.tenantId, "case.completed", { schema: CASE_SCHEMA });
    await eventType(tenant.tenantId, "case.note");
  }
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await t?.drop();
});

describe("POST /api/v2/events", () => {
  it("appends the ledger entry and the event in one transaction, where the relay finds it", async () => {
    const res = await post(app, acme.apiKey, "/api/v2/events", { type: "case.completed", data: completed(), timestamp: 1774131900000, metadata: { source: "crm" } });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^evt_[A-Za-z0-9]{22}$/),
      type: "case.completed",
      timestamp: "2026-03-21T22:25:00.000Z",
      entryId: expect.stringMatching(/^ent_/),
      leafHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      ledger: { leafHash: body.leafHash, leafIndex: null },
    });
    expect(res.headers["idempotent-replayed"]).toBeUndefined();

    const row = await t.db.selectFrom("events").selectAll().where("tenant_id", "=", acme.tenantId).where("id", "=", body.id).executeTakeFirstOrThrow();
    const canonicalData = '{"attemptCount":2,"caseId":"case_123","result":{"signedW9Received":true,"taxId":"12-3456789"},"status":"COMPLETED"}';
    expect(row.payload!.toString("utf8")).toBe(canonicalData);
    expect(row.payload_sha256).toEqual(sha256(canonicalData));
    expect(row.occurred_at.toISOString()).toBe("2026-03-21T22:25:00.000Z");
    expect(row.metadata).toEqual({ source: "crm" });
    expect(row.entry_id).toBe(body.entryId);
    expect(row.event_type_id).toMatch(/^ety_/);

    const entry = await t.db.selectFrom("ledger_entries").selectAll().where("id", "=", body.entryId).executeTakeFirstOrThrow();
    expect(entry.kind).toBe("event");
    expect(entry.leaf_hash.toString("hex")).toBe(body.leafHash);
    expect(parseEntry(entry.body)).toEqual(eventEntry({ tenantId: acme.tenantId, eventId: body.id, type: "case.completed", payloadSha256: sha256(canonicalData), occurredAt: new Date(1774131900000), supersedes: null }));

    // The relay finds it in the ledger's commit order (no outbox row).
    const { entries } = await entriesAfter(t.db, ORIGIN_POSITION, 10_000);
    expect(entries.map((e) => e.id)).toContain(body.entryId);

    // xmin is the id of the transaction that inserted a row: one value means one transaction.
    const xmins = await sql<{ xmin: string }>`
      SELECT xmin::text AS xmin FROM ledger_entries WHERE id = ${body.entryId}
      UNION SELECT xmin::text FROM events WHERE tenant_id = ${acme.tenantId} AND id = ${body.id}`.execute(t.db);
    expect(xmins.rows).toHaveLength(1);
  });

  it("assigns a new id to each event sent without one", async () => {
    const payload = { type: "case.note", data: { text: "hello" } };
    const a = (await post(app, acme.apiKey, "/api/v2/events", payload)).json();
    const b = (await post(app, acme.apiKey, "/api/v2/events", payload)).json();
    expect(a.id).not.toBe(b.id);
  });

  it("defaults the timestamp to now and takes RFC 3339 with an offset", async () => {
    const before = Date.now();
    const now = (await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {} })).json();
    expect(Date.parse(now.timestamp)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(now.timestamp)).toBeLessThanOrEqual(Date.now());
    const offset = (await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, timestamp: "2026-03-21T23:25:00.5+01:00" })).json();
    expect(offset.timestamp).toBe("2026-03-21T22:25:00.500Z");
    for (const timestamp of ["2026-02-30T00:00:00Z", "yesterday", "2026-03-21 22:25:00Z", -1, 1.5]) {
      const bad = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, timestamp });
      expect([bad.statusCode, bad.json().error.code, bad.json().error.field], String(timestamp)).toEqual([400, "VALIDATION_FAILED", "body.timestamp"]);
    }
  });

  it("refuses malformed bodies with 400 and the field", async () => {
    const cases: [unknown, string][] = [
      [{ data: {} }, "body.type"],
      [{ type: "case.note" }, "body.data"],
      [{ type: "case.note", data: [1] }, "body.data"],
      [{ type: "case.note", data: {}, id: "no spaces" }, "body.id"],
      [{ type: "case.note", data: {}, metadata: "x" }, "body.metadata"],
      [{ type: "case.note", data: {}, callback_url: "https://x/" }, "body.callback_url"],
    ];
    for (const [payload, field] of cases) {
      const res = await post(app, acme.apiKey, "/api/v2/events", payload);
      expect([res.statusCode, res.json().error.code, res.json().error.field], JSON.stringify(payload)).toEqual([400, "VALIDATION_FAILED", field]);
    }
  });

  it("requires a registered, live event type and reserves webhook.*", async () => {
    const unknown = await post(app, acme.apiKey, "/api/v2/events", { type: "case.unknown", data: {} });
    expect([unknown.statusCode, unknown.json().error.code, unknown.json().error.field]).toEqual([422, "EVENT_TYPE_UNKNOWN", "body.type"]);

    await eventType(acme.tenantId, "case.retired", { version: 1 });
    await eventType(acme.tenantId, "case.retired", { version: 2, archived: true });
    const archived = await post(app, acme.apiKey, "/api/v2/events", { type: "case.retired", data: {} });
    expect([archived.statusCode, archived.json().error.code]).toEqual([422, "EVENT_TYPE_ARCHIVED"]);

    const reserved = await post(app, acme.apiKey, "/api/v2/events", { type: "webhook.endpoint.disabled", data: {} });
    expect([reserved.statusCode, reserved.json().error.code, reserved.json().error.field]).toEqual([422, "RESERVED_EVENT_TYPE", "body.type"]);

    // Another tenant's type is not ours.
    await eventType(globex.tenantId, "globex.only");
    const foreign = await post(app, acme.apiKey, "/api/v2/events", { type: "globex.only", data: {} });
    expect(foreign.json().error.code).toBe("EVENT_TYPE_UNKNOWN");
  });

  it("validates data against the latest version's schema", async () => {
    const missing = await post(app, acme.apiKey, "/api/v2/events", { type: "case.completed", data: { status: "COMPLETED" } });
    expect([missing.statusCode, missing.json().error.code, missing.json().error.field]).toEqual([422, "DATA_SCHEMA_MISMATCH", "body.data.caseId"]);
    const nested = await post(app, acme.apiKey, "/api/v2/events", { type: "case.completed", data: { ...completed(), result: { taxId: "123" } } });
    expect(nested.json().error).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", field: "body.data.result.taxId", details: { pointer: "/result/taxId", keyword: "pattern" } });

    await eventType(acme.tenantId, "case.versioned", { version: 1 });
    expect((await post(app, acme.apiKey, "/api/v2/events", { type: "case.versioned", data: { anything: 1 } })).statusCode).toBe(201);
    // A new version through the API applies to the very next event (the route refreshes ingest's cache).
    const added = await post(app, acme.apiKey, "/api/v2/event-types/case.versioned/versions", { dataSchema: { type: "object", required: ["v2"] } });
    expect(added.statusCode).toBe(201);
    const v2 = added.json().id as string;
    const refused = await post(app, acme.apiKey, "/api/v2/events", { type: "case.versioned", data: { anything: 1 } });
    expect(refused.json().error).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", field: "body.data.v2" });
    const accepted = await post(app, acme.apiKey, "/api/v2/events", { type: "case.versioned", data: { v2: true } });
    const row = await t.db.selectFrom("events").select("event_type_id").where("id", "=", accepted.json().id).executeTakeFirstOrThrow();
    expect(row.event_type_id).toBe(v2);
  });

  it("limits nesting of data and metadata (422 JSON_TOO_DEEP) and the size of metadata", async () => {
    // 32 levels, the default CUSTODY_MAX_JSON_DEPTH.
    let deep: Record<string, unknown> = {};
    for (let i = 1; i < 32; i++) deep = { a: deep };
    expect((await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: deep })).statusCode).toBe(201);
    const tooDeep = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: { a: deep } });
    expect([tooDeep.statusCode, tooDeep.json().error.code, tooDeep.json().error.field]).toEqual([422, "JSON_TOO_DEEP", "body.data"]);
    const deepMeta = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, metadata: { a: deep } });
    expect([deepMeta.statusCode, deepMeta.json().error.code, deepMeta.json().error.field]).toEqual([422, "JSON_TOO_DEEP", "body.metadata"]);
    const bigMeta = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, metadata: { note: "x".repeat(17_000) } });
    expect([bigMeta.statusCode, bigMeta.json().error.code, bigMeta.json().error.field]).toEqual([422, "VALIDATION_FAILED", "body.metadata"]);
  });

  it("accepts bodies up to 256 KiB and refuses larger ones with 413", async () => {
    const big = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: { blob: "x".repeat(250 * 1024) } });
    expect(big.statusCode).toBe(201);
    const tooBig = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: { blob: "x".repeat(256 * 1024) } });
    expect([tooBig.statusCode, tooBig.json().error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });

  it("links a correction to an earlier event of the same tenant", async () => {
    const original = (await post(app, acme.apiKey, "/api/v2/events", { id: "case-9-completed", type: "case.completed", data: completed("case_9") })).json();
    const fix = await post(app, acme.apiKey, "/api/v2/events", { type: "case.completed", data: completed("case_9b"), supersedes: original.id });
    expect(fix.statusCode).toBe(201);
    const entry = await t.db.selectFrom("ledger_entries").select("body").where("id", "=", fix.json().entryId).executeTakeFirstOrThrow();
    expect(parseEntryOf(entry.body, "event").supersedes).toBe(original.id);

    const missing = await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, supersedes: "no-such-event" });
    expect([missing.statusCode, missing.json().error.code, missing.json().error.field]).toEqual([422, "VALIDATION_FAILED", "body.supersedes"]);
    // Globex cannot point at Acme's event.
    const foreign = await post(app, globex.apiKey, "/api/v2/events", { type: "case.note", data: {}, supersedes: original.id });
    expect([foreign.statusCode, foreign.json().error.field]).toEqual([422, "body.supersedes"]);
  });

  it("needs the publish scope", async () => {
    const readOnly = await insertApiKey(t.db, acme.tenantId, { environment: "test", scopes: ["read"], name: "reader" });
    const res = await post(app, readOnly.key, "/api/v2/events", { type: "case.note", data: {} });
    expect([res.statusCode, res.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);
    const anonymous = await app.inject({ method: "POST", url: "/api/v2/events", payload: { type: "case.note", data: {} } });
    expect([anonymous.statusCode, anonymous.json().error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const publisher = await insertApiKey(t.db, acme.tenantId, { environment: "test", scopes: ["publish"], name: "publisher" });
    expect((await post(app, publisher.key, "/api/v2/events", { type: "case.note", data: {} })).statusCode).toBe(201);
  });
});

describe("producer ids", () => {
  it("replays the original response for the same id and request, whatever its key order", async () => {
    const payload = { id: "case_123_case.completed_1774131900000", type: "case.completed", timestamp: 1774131900000, data: completed() };
    const first = await post(app, acme.apiKey, "/api/v2/events", payload);
    expect(first.statusCode).toBe(201);
    const again = await post(app, acme.apiKey, "/api/v2/events", { data: { ...completed() }, timestamp: 1774131900000, type: "case.completed", id: payload.id });
    expect(again.statusCode).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json()).toEqual(first.json());

    const different = await post(app, acme.apiKey, "/api/v2/events", { ...payload, data: completed("case_456") });
    expect([different.statusCode, different.json().error.code, different.json().error.field]).toEqual([409, "EVENT_ID_CONFLICT", "body.id"]);
    const count = await t.db
      .selectFrom("events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("id", "=", payload.id)
      .executeTakeFirstOrThrow();
    expect(count.n).toBe("1");
  });

  it("keeps ids per tenant", async () => {
    const payload = { id: "shared-id-1", type: "case.note", data: {} };
    expect((await post(app, acme.apiKey, "/api/v2/events", payload)).statusCode).toBe(201);
    expect((await post(app, globex.apiKey, "/api/v2/events", payload)).statusCode).toBe(201);
  });

  it("stores concurrent identical POSTs exactly once", async () => {
    const payload = { id: `race-${randomUUID()}`, type: "case.note", data: { n: 1 } };
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(app, acme.apiKey, "/api/v2/events", payload)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    const events = await t.db.selectFrom("events").select("entry_id").where("tenant_id", "=", acme.tenantId).where("id", "=", payload.id).execute();
    expect(events).toHaveLength(1);
    // No ledger entry of a losing request survived its rollback.
    const entries = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ledger_entries WHERE tenant_id = ${acme.tenantId} AND convert_from(body, 'UTF8')::jsonb ->> 'event' = ${payload.id}`.execute(t.db);
    expect(entries.rows[0]!.n).toBe("1");
  });

  it("rolls back the entries of an insert that loses the race for an id", async () => {
    const payload = { id: `lost-${randomUUID()}`, type: "case.note", data: {} };
    expect((await post(app, acme.apiKey, "/api/v2/events", payload)).statusCode).toBe(201);
    const before = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ledger_entries`.execute(t.db);
    const event = acceptedEvent(payload.id);
    await expect(t.db.transaction().execute((trx) => insertEvents(trx, [{ tenantId: acme.tenantId, event }]))).rejects.toBeInstanceOf(EventIdRace);
    const after = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ledger_entries`.execute(t.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});

describe("callbackUrl", () => {
  it("stores the checked URL and creates the tenant's callback secret with the first one", async () => {
    const tenant = await createTenant(t.db, "Callbacks Inc");
    await eventType(tenant.tenantId, "case.note");
    const secrets = () => t.db.selectFrom("signing_secrets").selectAll().where("tenant_id", "=", tenant.tenantId).execute();
    expect((await post(app, tenant.apiKey, "/api/v2/events", { type: "case.note", data: {} })).statusCode).toBe(201);
    expect(await secrets()).toHaveLength(0);

    const res = await post(app, tenant.apiKey, "/api/v2/events", { type: "case.note", data: {}, callbackUrl: "http://127.0.0.1:8080/hooks/../cb?token=1" });
    expect(res.statusCode, res.body).toBe(201);
    const row = await t.db.selectFrom("events").select("callback_url").where("id", "=", res.json().id).executeTakeFirstOrThrow();
    expect(row.callback_url).toBe("http://127.0.0.1:8080/cb?token=1");
    const created = await secrets();
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ endpoint_id: null, expires_at: null, key_id: expect.stringMatching(/^whk_[0-9a-f]{16}$/) });

    expect((await post(app, tenant.apiKey, "/api/v2/events", { type: "case.note", data: {}, callbackUrl: "http://127.0.0.1:8080/other" })).statusCode).toBe(201);
    expect(await secrets()).toHaveLength(1);
  });

  describe("without loopback (production policy)", () => {
    let strict: HttpApp;
    const resolver: Resolver = async (hostname) => {
      const table: Record<string, string[]> = { "hooks.example.com": ["93.184.215.14"], "rebind.example.com": ["10.0.0.7"] };
      const addresses = table[hostname];
      if (!addresses) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
      return addresses.map((address) => ({ address, family: 4 }));
    };

    beforeAll(async () => {
      strict = await build({ CUSTODY_ALLOW_LOOPBACK_TARGETS: "false" }, { resolver });
    });

    const refusals: [string, string][] = [
      ["https://127.0.0.1/", "ADDRESS_NOT_ALLOWED"],
      ["https://[::1]/", "ADDRESS_NOT_ALLOWED"],
      ["https://2130706433/", "ADDRESS_NOT_ALLOWED"],
      ["https://localhost/", "ADDRESS_NOT_ALLOWED"],
      ["https://169.254.169.254/latest/meta-data/", "ADDRESS_NOT_ALLOWED"],
      ["https://rebind.example.com/cb", "ADDRESS_NOT_ALLOWED"],
      ["https://nowhere.example.com/cb", "HOST_NOT_RESOLVABLE"],
      ["http://hooks.example.com/cb", "SCHEME_NOT_ALLOWED"],
      ["https://user:pw@hooks.example.com/cb", "CREDENTIALS_IN_URL"],
      ["not a url", "URL_INVALID"],
    ];
    for (const [callbackUrl, reason] of refusals) {
      it(`refuses ${callbackUrl} (${reason}) and stores nothing`, async () => {
        const id = `ssrf-${randomUUID()}`;
        const res = await post(strict, acme.apiKey, "/api/v2/events", { id, type: "case.note", data: {}, callbackUrl });
        expect(res.statusCode, res.body).toBe(422);
        expect(res.json().error).toMatchObject({ code: "TARGET_REFUSED", field: "body.callbackUrl", details: { reason } });
        expect(res.body).not.toContain("pw@");
        expect(await t.db.selectFrom("events").select("id").where("id", "=", id).executeTakeFirst()).toBeUndefined();
      });
    }

    it("accepts a public host", async () => {
      const res = await post(strict, acme.apiKey, "/api/v2/events", { type: "case.note", data: {}, callbackUrl: "https://hooks.example.com/cb" });
      expect(res.statusCode, res.body).toBe(201);
    });
  });
});

describe("POST /api/v2/events/batch", () => {
  it("answers each item on its own and stores the accepted ones in one transaction", async () => {
    const existing = { id: `batch-existing-${randomUUID()}`, type: "case.note", data: { n: 0 } };
    expect((await post(app, acme.apiKey, "/api/v2/events", existing)).statusCode).toBe(201);
    const dup = `batch-dup-${randomUUID()}`;
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const events = [
      { id: dup, type: "case.completed", data: completed("b0") },
      { type: "case.unknown", data: {} },
      { type: "case.note" },
      existing,
      { ...existing, data: { n: 1 } },
      { type: "case.note", data: deep },
      { type: "case.note", data: {}, callbackUrl: "ftp://127.0.0.1/" },
      { id: dup, type: "case.completed", data: completed("b0") },
      { type: "case.note", data: { n: 8 }, callbackUrl: "http://127.0.0.1:9/cb", supersedes: dup },
      { type: "webhook.test", data: {} },
    ];
    const res = await post(app, acme.apiKey, "/api/v2/events/batch", { events });
    expect(res.statusCode, res.body).toBe(200);
    const results = res.json().results as { index: number; status: number; event?: { id: string; entryId: string }; error?: { code: string; field?: string } }[];
    expect(results.map((r) => [r.index, r.status, r.error?.code ?? null])).toEqual([
      [0, 201, null],
      [1, 422, "EVENT_TYPE_UNKNOWN"],
      [2, 422, "VALIDATION_FAILED"],
      [3, 200, null],
      [4, 409, "EVENT_ID_CONFLICT"],
      [5, 422, "JSON_TOO_DEEP"],
      [6, 422, "TARGET_REFUSED"],
      [7, 200, null],
      [8, 201, null],
      [9, 422, "RESERVED_EVENT_TYPE"],
    ]);
    expect(results.map((r) => r.error?.field ?? null)).toEqual([
      null,
      "body.events.1.type",
      "body.events.2.data",
      null,
      "body.events.4.id",
      "body.events.5.data",
      "body.events.6.callbackUrl",
      null,
      null,
      "body.events.9.type",
    ]);
    expect(results[7]!.event).toEqual(results[0]!.event);
    expect(results[0]!.event!.id).toBe(dup);

    const stored = await t.db.selectFrom("events").select(["id", "supersedes", "callback_url"]).where("tenant_id", "=", acme.tenantId).where("id", "in", [results[0]!.event!.id, results[8]!.event!.id]).execute();
    expect(stored).toHaveLength(2);
    expect(stored.find((s) => s.id === results[8]!.event!.id)).toMatchObject({ supersedes: dup, callback_url: "http://127.0.0.1:9/cb" });

    const entryIds = [results[0]!.event!.entryId, results[8]!.event!.entryId];
    const xmins = await sql<{ xmin: string }>`
      SELECT xmin::text AS xmin FROM ledger_entries WHERE id = ANY(${entryIds})
      UNION SELECT xmin::text FROM events WHERE entry_id = ANY(${entryIds})`.execute(t.db);
    expect(xmins.rows).toHaveLength(1);
  });

  it("stores each id once when batches sharing ids in opposite orders race", async () => {
    for (let round = 0; round < 5; round++) {
      const ids = Array.from({ length: 4 }, (_, i) => `cross-${round}-${i}-${randomUUID()}`);
      const events = ids.map((id) => ({ id, type: "case.note", data: { id } }));
      const [a, b] = await Promise.all([post(app, acme.apiKey, "/api/v2/events/batch", { events }), post(app, acme.apiKey, "/api/v2/events/batch", { events: [...events].reverse() })]);
      expect([a!.statusCode, b!.statusCode], b!.body).toEqual([200, 200]);
      const statuses = [...a!.json().results, ...b!.json().results].map((r: { status: number }) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(4);
      expect(statuses.filter((s) => s === 200)).toHaveLength(4);
      const stored = await t.db.selectFrom("events").select("id").where("tenant_id", "=", acme.tenantId).where("id", "in", ids).execute();
      expect(stored).toHaveLength(4);
    }
  });

  it("answers a batch whose items all fail without storing anything", async () => {
    const res = await post(app, acme.apiKey, "/api/v2/events/batch", { events: [{ type: "case.unknown", data: {} }, 7] });
    expect(res.statusCode).toBe(200);
    expect(res.json().results.map((r: { status: number }) => r.status)).toEqual([422, 422]);
    expect(res.json().results[1].error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.events.1" });
  });

  it("refuses more than CUSTODY_MAX_BATCH_EVENTS with 413 and an empty batch with 400", async () => {
    const tooMany = await post(app, acme.apiKey, "/api/v2/events/batch", { events: Array.from({ length: 11 }, () => ({ type: "case.note", data: {} })) });
    expect([tooMany.statusCode, tooMany.json().error.code, tooMany.json().error.field]).toEqual([413, "BATCH_TOO_LARGE", "body.events"]);
    const empty = await post(app, acme.apiKey, "/api/v2/events/batch", { events: [] });
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, "VALIDATION_FAILED"]);
  });
});

describe("ingest rate limit", () => {
  it("limits each tenant to its rate, a batch costing its size, with Retry-After", async () => {
    let now = 0;
    const limited = await build({ CUSTODY_INGEST_RATE_PER_SECOND: "2", CUSTODY_INGEST_BURST: "3" }, { ingestClock: () => now });
    const one = { type: "case.note", data: {} };
    for (let i = 0; i < 3; i++) expect((await post(limited, acme.apiKey, "/api/v2/events", one)).statusCode).toBe(201);
    const refused = await post(limited, acme.apiKey, "/api/v2/events", one);
    expect([refused.statusCode, refused.json().error.code, refused.headers["retry-after"]]).toEqual([429, "RATE_LIMITED", "1"]);
    // Another tenant has its own bucket.
    expect((await post(limited, globex.apiKey, "/api/v2/events", one)).statusCode).toBe(201);

    now += 1_000; // 2 tokens back: a batch of 3 is still too much, and stores nothing
    const id = `limited-${randomUUID()}`;
    const batch = await post(limited, acme.apiKey, "/api/v2/events/batch", { events: [{ ...one, id }, one, one] });
    expect([batch.statusCode, batch.headers["retry-after"]]).toEqual([429, "1"]);
    expect(await t.db.selectFrom("events").select("id").where("id", "=", id).executeTakeFirst()).toBeUndefined();
    now += 500;
    const later = await post(limited, acme.apiKey, "/api/v2/events/batch", { events: [{ ...one, id }, one, one] });
    expect(later.statusCode).toBe(200);
    expect(later.json().results.map((r: { status: number }) => r.status)).toEqual([201, 201, 201]);
  });
});

describe("GET /api/v2/events/{id}", () => {
  it("returns everything a webhook carries, the leaf index once sequenced, and deliveries", async () => {
    const sent = { id: `read-${randomUUID()}`, type: "case.completed", data: completed("case_r"), timestamp: "2026-03-21T22:25:00Z", metadata: { a: [1, "b"] }, callbackUrl: "http://127.0.0.1:9/r" };
    const created = (await post(app, acme.apiKey, "/api/v2/events", sent)).json();
    const before = await get(app, acme.apiKey, `/api/v2/events/${sent.id}`);
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({
      id: sent.id,
      type: "case.completed",
      timestamp: "2026-03-21T22:25:00.000Z",
      data: sent.data,
      metadata: { a: [1, "b"] },
      supersedes: null,
      callbackUrl: "http://127.0.0.1:9/r",
      createdAt: expect.any(String),
      ledger: { entryId: created.entryId, leafHash: created.leafHash, leafIndex: null },
      deliveries: [],
    });

    // What the sequencer does: give the entry its leaf index.
    const max = await sql<{ n: string | null }>`SELECT max(leaf_index)::text AS n FROM ledger_leaves`.execute(t.db);
    const leafIndex = max.rows[0]!.n === null ? 0 : Number(max.rows[0]!.n) + 1;
    await t.db.insertInto("ledger_leaves").values({ leaf_index: leafIndex, entry_id: created.entryId }).execute();
    const endpointId = newId("wh");
    await t.db
      .insertInto("endpoints")
      .values({
        id: endpointId,
        tenant_id: acme.tenantId,
        url: "https://hooks.example.com/in",
        subscriptions: ["case.*"],
        receipt_public_key: null,
        rate_limit_per_second: null,
        disabled_at: null,
        disabled_reason: null,
        failing_since: null,
      })
      .execute();
    const deliveryId = newId("dlv");
    await t.db
      .insertInto("deliveries")
      .values({ id: deliveryId, tenant_id: acme.tenantId, event_id: sent.id, endpoint_id: endpointId, target_url: "https://hooks.example.com/in", idempotency_key: randomUUID(), status: "delivered" })
      .execute();

    const after = (await get(app, acme.apiKey, `/api/v2/events/${sent.id}`)).json();
    expect(after.ledger).toEqual({ entryId: created.entryId, leafHash: created.leafHash, leafIndex });
    expect(after.deliveries).toEqual([{ id: deliveryId, endpointId, targetUrl: "https://hooks.example.com/in", status: "delivered", createdAt: expect.any(String), updatedAt: expect.any(String) }]);
  });

  it("shows data as null once erased, the ledger entry unchanged", async () => {
    const created = (await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: { secret: "pii" } })).json();
    await t.db.updateTable("events").set({ payload: null, erased_at: new Date() }).where("id", "=", created.id).execute();
    const read = (await get(app, acme.apiKey, `/api/v2/events/${created.id}`)).json();
    expect(read.data).toBeNull();
    expect(read.ledger.leafHash).toBe(created.leafHash);
  });

  it("is 404 for another tenant's event and for none", async () => {
    const created = (await post(app, acme.apiKey, "/api/v2/events", { type: "case.note", data: {} })).json();
    const foreign = await get(app, globex.apiKey, `/api/v2/events/${created.id}`);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "NOT_FOUND"]);
    expect((await get(app, acme.apiKey, "/api/v2/events/nope")).statusCode).toBe(404);
    const publisher = await insertApiKey(t.db, acme.tenantId, { environment: "test", scopes: ["publish"], name: "no read" });
    expect((await get(app, publisher.key, `/api/v2/events/${created.id}`)).statusCode).toBe(403);
  });
});

describe("GET /api/v2/events", () => {
  it("pages through a tenant's events in acceptance order, filtered by type and time", async () => {
    const tenant = await createTenant(t.db, "Lister");
    await eventType(tenant.tenantId, "list.a");
    await eventType(tenant.tenantId, "list.b");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post(app, tenant.apiKey, "/api/v2/events", { id: `l${i}`, type: i % 2 === 0 ? "list.a" : "list.b", data: { i } })).json().id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v2/events?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await get(app, tenant.apiKey, query)).json();
      seen.push(...page.data.map((e: { id: string }) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    const onlyA = (await get(app, tenant.apiKey, "/api/v2/events?type=list.a")).json();
    expect(onlyA.data.map((e: { id: string }) => e.id)).toEqual(["l0", "l2", "l4"]);
    expect(onlyA.data[1]).toMatchObject({ type: "list.a", data: { i: 2 }, ledger: { leafIndex: null }, deliveries: [] });

    const third = (await get(app, tenant.apiKey, "/api/v2/events/l2")).json();
    const from = (await get(app, tenant.apiKey, `/api/v2/events?from=${encodeURIComponent(third.createdAt)}`)).json();
    expect(from.data[0].id).toBe("l2");
    const future = (await get(app, tenant.apiKey, "/api/v2/events?from=2999-01-01T00:00:00Z")).json();
    expect(future).toEqual({ data: [], nextCursor: null });
    const past = (await get(app, tenant.apiKey, "/api/v2/events?to=2000-01-01T00:00:00%2B01:00")).json();
    expect(past.data).toEqual([]);

    // Globex sees none of them.
    const others = (await get(app, globex.apiKey, "/api/v2/events?limit=100")).json();
    expect(others.data.some((e: { id: string }) => ids.includes(e.id) && e.id.startsWith("l"))).toBe(false);
  });

  it("refuses a cursor it did not issue and an out-of-range limit", async () => {
    const bad = await get(app, acme.apiKey, "/api/v2/events?cursor=garbage");
    expect([bad.statusCode, bad.json().error.field]).toEqual([400, "query.cursor"]);
    expect((await get(app, acme.apiKey, "/api/v2/events?limit=0")).statusCode).toBe(400);
    expect((await get(app, acme.apiKey, "/api/v2/events?limit=101")).statusCode).toBe(400);
    expect((await get(app, acme.apiKey, "/api/v2/events?from=yesterday")).statusCode).toBe(400);
  });
});

describe("over real HTTP", () => {
  it("publishes, replays and reads an event", async () => {
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const headers = { authorization: `Bearer ${acme.apiKey}`, "content-type": "application/json" };
    const body = JSON.stringify({ id: `http-${randomUUID()}`, type: "case.note", data: { via: "http" } });
    const created = await fetch(`${address}/api/v2/events`, { method: "POST", headers, body });
    expect(created.status).toBe(201);
    const receipt = (await created.json()) as { id: string };
    const replay = await fetch(`${address}/api/v2/events`, { method: "POST", headers, body });
    expect([replay.status, replay.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
    const read = await fetch(`${address}/api/v2/events/${receipt.id}`, { headers });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { data: unknown }).data).toEqual({ via: "http" });
    const tooBig = await fetch(`${address}/api/v2/events`, { method: "POST", headers, body: JSON.stringify({ type: "case.note", data: { blob: "x".repeat(300_000) } }) });
    expect(tooBig.status).toBe(413);
  });
});

describe("OpenAPI", () => {
  it("documents the event routes from their schemas", async () => {
    const doc = (await app.inject({ url: "/openapi.json" })).json();
    const publish = doc.paths["/api/v2/events"].post;
    expect(publish).toMatchObject({ summary: "Publish an event", tags: ["Events"] });
    expect(Object.keys(publish.responses)).toEqual(expect.arrayContaining(["200", "201", "409", "413", "422", "429"]));
    const batch = doc.paths["/api/v2/events/batch"].post;
    expect(Object.keys(batch.requestBody.content["application/json"].schema.properties.events.items.properties)).toContain("callbackUrl");
    expect(doc.paths["/api/v2/events/{id}"].get.summary).toBe("Read an event");
    expect(doc.paths["/api/v2/callback-secret/rotate"].post.tags).toEqual(["Callback secret"]);
  });
});

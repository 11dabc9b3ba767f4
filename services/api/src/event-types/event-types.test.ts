import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, keyWith, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

let api: TestApi;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  api = await startTestApi("eventtypes");
  acme = await newTenant(api, "Acme");
  globex = await newTenant(api, "Globex");
});

afterAll(async () => {
  await api.close();
});

async function call(key: string, method: "GET" | "POST", url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return api.app.inject({ method, url, headers: auth(key, headers), ...(payload === undefined ? {} : { payload: payload as object }) });
}

const registration = {
  name: "identity.registration.final",
  description: "A registration reached its final state.",
  dataSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  personalDataFields: ["/name", "/result/taxId", "/a~1b"],
};

describe("create", () => {
  it("creates version 1", async () => {
    const res = await call(acme.key, "POST", "/api/v2/event-types", registration);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ id: expect.stringMatching(/^ety_/), ...registration, version: 1, createdAt: expect.any(String), archivedAt: null });
  });

  it("defaults to no schema and no personal data", async () => {
    const res = await call(acme.key, "POST", "/api/v2/event-types", { name: "asset.issuance.final", description: "" });
    expect(res.json()).toMatchObject({ dataSchema: null, personalDataFields: [], description: "" });
  });

  it("refuses an existing name, even for another shape", async () => {
    const res = await call(acme.key, "POST", "/api/v2/event-types", { ...registration, description: "again" });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "EVENT_TYPE_EXISTS", field: "body.name" });
    // Names are per tenant.
    expect((await call(globex.key, "POST", "/api/v2/event-types", registration)).statusCode).toBe(201);
  });

  it("reserves webhook.* for the platform", async () => {
    const res = await call(acme.key, "POST", "/api/v2/event-types", { name: "webhook.test", description: "" });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "RESERVED_EVENT_TYPE", field: "body.name" });
  });

  it("checks the name's grammar and length", async () => {
    for (const name of ["identity", "Identity.final", "identity..final", "identity.final.", "1identity.final", "identity.fin-al", `a.${"b".repeat(127)}`]) {
      const res = await call(acme.key, "POST", "/api/v2/event-types", { name, description: "" });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.name" });
    }
    expect((await call(acme.key, "POST", "/api/v2/event-types", { name: `a.${"b".repeat(126)}`, description: "" })).statusCode).toBe(201);
  });

  it("refuses a data schema that does not compile", async () => {
    for (const dataSchema of [{ type: "objekt" }, { properties: { a: { minLength: -1 } } }, { $ref: "#/$defs/missing" }, "object", 12]) {
      const res = await call(acme.key, "POST", "/api/v2/event-types", { name: "bad.schema", description: "", dataSchema });
      expect(res.statusCode, JSON.stringify(dataSchema)).toBe(422);
      expect(res.json().error).toMatchObject({ code: "INVALID_JSON_SCHEMA", field: "body.dataSchema" });
    }
    let deep: unknown = { type: "string" };
    for (let i = 0; i < 80; i++) deep = { properties: { x: deep } };
    expect((await call(acme.key, "POST", "/api/v2/event-types", { name: "deep.schema", description: "", dataSchema: deep })).json().error.code).toBe("INVALID_JSON_SCHEMA");
    // With an Idempotency-Key the body is hashed first, and the hash refuses to walk that deep.
    const hashed = await call(acme.key, "POST", "/api/v2/event-types", { name: "deep.schema", description: "", dataSchema: deep }, { "idempotency-key": "deep" });
    expect([hashed.statusCode, hashed.json().error.code]).toEqual([422, "JSON_TOO_DEEP"]);
    // Unknown keywords are tolerated (strict: false), and `true` is a schema.
    expect((await call(acme.key, "POST", "/api/v2/event-types", { name: "loose.schema", description: "", dataSchema: { type: "object", "x-owner": "crm" } })).statusCode).toBe(201);
    expect((await call(acme.key, "POST", "/api/v2/event-types", { name: "true.schema", description: "", dataSchema: true })).statusCode).toBe(201);
  });

  it("checks personal-data pointers", async () => {
    for (const [fields, field] of [
      [["name"], "body.personalDataFields.0"],
      [["/ok", ""], "body.personalDataFields.1"],
      [["/a~2"], "body.personalDataFields.0"],
      [["/dup", "/dup"], "body.personalDataFields.1"],
    ] as const) {
      const res = await call(acme.key, "POST", "/api/v2/event-types", { name: "bad.pointers", description: "", personalDataFields: fields });
      expect(res.statusCode, JSON.stringify(fields)).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field });
    }
    const many = Array.from({ length: 101 }, (_, i) => `/f${i}`);
    expect((await call(acme.key, "POST", "/api/v2/event-types", { name: "bad.pointers", description: "", personalDataFields: many })).json().error.field).toBe("body.personalDataFields");
  });

  it("refuses fields whose acknowledgement would read like another type's", async () => {
    const tenant = await newTenant(api, "Ambiguous");
    expect((await call(tenant.key, "POST", "/api/v2/event-types", { name: "a.b", description: "", personalDataFields: ["/c.d"] })).statusCode).toBe(201);
    const res = await call(tenant.key, "POST", "/api/v2/event-types", { name: "a.b.c", description: "", personalDataFields: ["/d"] });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "PERSONAL_DATA_FIELD_AMBIGUOUS", field: "body.personalDataFields" });
  });
});

describe("versions", () => {
  it("adds the next version, copying what is left out", async () => {
    const name = "access.role.final";
    await call(acme.key, "POST", "/api/v2/event-types", { name, description: "v1", dataSchema: { type: "object" }, personalDataFields: ["/email"] });
    const v2 = await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { personalDataFields: ["/email", "/phone"] });
    expect(v2.statusCode, v2.body).toBe(201);
    expect(v2.json()).toMatchObject({ name, version: 2, description: "v1", dataSchema: { type: "object" }, personalDataFields: ["/email", "/phone"] });
    const v3 = await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { description: "v3", dataSchema: null });
    expect(v3.json()).toMatchObject({ version: 3, description: "v3", dataSchema: null, personalDataFields: ["/email", "/phone"] });

    const detail = await call(acme.key, "GET", `/api/v2/event-types/${name}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ name, version: 3, description: "v3" });
    expect(detail.json().versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);

    const bad = await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { dataSchema: { type: 5 } });
    expect(bad.json().error.code).toBe("INVALID_JSON_SCHEMA");
    const badPointer = await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { personalDataFields: ["email"] });
    expect(badPointer.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.personalDataFields.0" });
  });

  it("answers 404 for an unknown type", async () => {
    const res = await call(acme.key, "POST", "/api/v2/event-types/no.such.type/versions", { description: "x" });
    expect([res.statusCode, res.json().error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("list, read and archive", () => {
  it("lists the latest version of each type by name, page by page, archived ones on request", async () => {
    const tenant = await newTenant(api, "Catalog");
    for (const name of ["c.one", "a.one", "b.one", "d.one"]) await call(tenant.key, "POST", "/api/v2/event-types", { name, description: "v1" });
    await call(tenant.key, "POST", "/api/v2/event-types/b.one/versions", { description: "v2" });
    await call(tenant.key, "POST", "/api/v2/event-types/d.one/archive");

    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(tenant.key, "GET", `/api/v2/event-types?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      names.push(...body.data.map((e: { name: string; version: number }) => `${e.name}@${e.version}`));
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(names).toEqual(["a.one@1", "b.one@2", "c.one@1"]);

    const all = (await call(tenant.key, "GET", "/api/v2/event-types?includeArchived=true")).json();
    expect(all.data.map((e: { name: string }) => e.name)).toEqual(["a.one", "b.one", "c.one", "d.one"]);
    expect(all.data[3].archivedAt).toEqual(expect.any(String));
  });

  it("archives every version, once, and refuses new versions of an archived type", async () => {
    const name = "token.transfer.recalled";
    await call(acme.key, "POST", "/api/v2/event-types", { name, description: "v1" });
    await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { description: "v2" });
    const archived = await call(acme.key, "POST", `/api/v2/event-types/${name}/archive`);
    expect(archived.statusCode).toBe(200);
    expect(archived.json().versions.every((v: { archivedAt: string | null }) => v.archivedAt !== null)).toBe(true);
    const again = await call(acme.key, "POST", `/api/v2/event-types/${name}/archive`);
    expect(again.json().archivedAt).toBe(archived.json().archivedAt);

    const version = await call(acme.key, "POST", `/api/v2/event-types/${name}/versions`, { description: "v3" });
    expect([version.statusCode, version.json().error.code]).toEqual([422, "EVENT_TYPE_ARCHIVED"]);
    const recreate = await call(acme.key, "POST", "/api/v2/event-types", { name, description: "" });
    expect(recreate.json().error.code).toBe("EVENT_TYPE_EXISTS");
  });

  it("answers 404 for another tenant's type on every route", async () => {
    await call(globex.key, "POST", "/api/v2/event-types", { name: "globex.only.final", description: "" });
    for (const res of [
      await call(acme.key, "GET", "/api/v2/event-types/globex.only.final"),
      await call(acme.key, "POST", "/api/v2/event-types/globex.only.final/versions", { description: "x" }),
      await call(acme.key, "POST", "/api/v2/event-types/globex.only.final/archive"),
    ]) {
      expect([res.statusCode, res.json().error.code]).toEqual([404, "NOT_FOUND"]);
    }
    const theirs = (await call(globex.key, "GET", "/api/v2/event-types/globex.only.final")).json();
    expect(theirs).toMatchObject({ version: 1, archivedAt: null });
    const listed = (await call(acme.key, "GET", "/api/v2/event-types?includeArchived=true&limit=100")).json();
    expect(listed.data.map((e: { name: string }) => e.name)).not.toContain("globex.only.final");
  });
});

describe("idempotency and access", () => {
  it("replays creates and new versions, and refuses a key reused for another body", async () => {
    const headers = { "idempotency-key": "ety-1" };
    const first = await call(acme.key, "POST", "/api/v2/event-types", { name: "idem.type.final", description: "d" }, headers);
    const again = await call(acme.key, "POST", "/api/v2/event-types", { name: "idem.type.final", description: "d" }, headers);
    expect([again.statusCode, again.headers["idempotent-replayed"]]).toEqual([201, "true"]);
    expect(again.json()).toEqual(first.json());
    const conflict = await call(acme.key, "POST", "/api/v2/event-types", { name: "idem.type.final", description: "other" }, headers);
    expect(conflict.json().error.code).toBe("IDEMPOTENCY_KEY_CONFLICT");

    const vHeaders = { "idempotency-key": "ety-v-1" };
    const v2 = await call(acme.key, "POST", "/api/v2/event-types/idem.type.final/versions", { description: "v2" }, vHeaders);
    const v2again = await call(acme.key, "POST", "/api/v2/event-types/idem.type.final/versions", { description: "v2" }, vHeaders);
    expect(v2again.json()).toEqual(v2.json());
    expect((await call(acme.key, "GET", "/api/v2/event-types/idem.type.final")).json().versions).toHaveLength(2);

    const aHeaders = { "idempotency-key": "ety-a-1" };
    const archived = await call(acme.key, "POST", "/api/v2/event-types/idem.type.final/archive", undefined, aHeaders);
    expect((await call(acme.key, "POST", "/api/v2/event-types/idem.type.final/archive", undefined, aHeaders)).json()).toEqual(archived.json());
  });

  it("needs admin to change and read to look", async () => {
    const reader = await keyWith(api, acme, ["read"]);
    expect((await call(reader, "GET", "/api/v2/event-types")).statusCode).toBe(200);
    expect((await call(reader, "GET", "/api/v2/event-types/identity.registration.final")).statusCode).toBe(200);
    for (const res of [
      await call(reader, "POST", "/api/v2/event-types", { name: "x.y", description: "" }),
      await call(reader, "POST", "/api/v2/event-types/identity.registration.final/versions", {}),
      await call(reader, "POST", "/api/v2/event-types/identity.registration.final/archive"),
    ]) {
      expect([res.statusCode, res.json().error.code]).toEqual([403, "FORBIDDEN_SCOPE"]);
    }
    expect((await api.app.inject({ url: "/api/v2/event-types" })).statusCode).toBe(401);
    expect((await call("ck_test_" + "B".repeat(43), "GET", "/api/v2/event-types")).statusCode).toBe(401);
  });
});

import { connect } from "node:net";
import type { InjectOptions } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { AppError } from "@custody/errors";
import { createLogger } from "@custody/log";
import { createHttpApp } from "./index.js";
import { isDatabaseUnavailable } from "./errors.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });
/** Errors raised by real connections, thrown by `/fails/:n`. */
const failures = new Map<string, unknown>();

async function app(readiness: Record<string, () => Promise<void>> = {}) {
  const a = await createHttpApp({ logger, bodyLimit: 1024, readiness, openapi: { title: "t", description: "d", version: "1" } });
  a.post("/things", { schema: { body: z.object({ name: z.string().min(2) }) } }, async (req) => ({ got: req.body.name }));
  a.get("/boom", async () => {
    throw new Error("database password is hunter2");
  });
  a.get("/gone", async () => {
    throw new AppError("NOT_FOUND", "no such thing", { field: "params.id" });
  });
  a.get("/items/:id", { schema: { params: z.object({ id: z.string().max(128) }), querystring: z.object({ type: z.string().optional() }) } }, async (req) => ({ id: req.params.id, type: req.query.type ?? null }));
  a.post("/open", { schema: { body: z.record(z.string(), z.unknown()) } }, async (req) => req.body);
  a.post("/strict", { schema: { body: z.strictObject({ name: z.string(), nested: z.strictObject({ a: z.number() }).optional() }) } }, async (req) => req.body);
  a.post("/nobody", async () => ({ ok: true }));
  a.get("/fails/:n", async (req) => {
    throw failures.get((req.params as { n: string }).n) ?? new Error("no such failure");
  });
  await a.ready();
  return a;
}

describe("createHttpApp", () => {
  it("answers validation failures with a stable code and the offending field", async () => {
    const res = await (await app()).inject({ method: "POST", url: "/things", payload: { name: "x" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", field: "body.name" });
  });

  it("maps malformed JSON, oversized bodies and wrong media types to their codes", async () => {
    const a = await app();
    const bad = await a.inject({ method: "POST", url: "/things", payload: "{nope", headers: { "content-type": "application/json" } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "BAD_REQUEST"]);
    const big = await a.inject({ method: "POST", url: "/things", payload: { name: "x".repeat(2048) } });
    expect([big.statusCode, big.json().error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const text = await a.inject({ method: "POST", url: "/things", payload: "hello", headers: { "content-type": "text/plain" } });
    expect([text.statusCode, text.json().error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
  });

  it("never leaks internals on a 5xx", async () => {
    const res = await (await app()).inject({ method: "GET", url: "/boom" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: "INTERNAL", message: "internal error" } });
  });

  it("serialises AppError and unknown routes in the one model", async () => {
    const a = await app();
    expect((await a.inject({ url: "/gone" })).json()).toEqual({ error: { code: "NOT_FOUND", message: "no such thing", field: "params.id" } });
    const missing = await a.inject({ url: "/missing" });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "NOT_FOUND"]);
  });

  it("echoes a sane request id and makes one otherwise", async () => {
    const a = await app();
    expect((await a.inject({ url: "/healthz", headers: { "x-request-id": "abc-123" } })).headers["x-request-id"]).toBe("abc-123");
    expect((await a.inject({ url: "/healthz", headers: { "x-request-id": "bad id\u0000" } })).headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reports each dependency in /readyz and 503 when one is down", async () => {
    const a = await app({ postgres: async () => undefined, nats: async () => Promise.reject(new Error("connection refused")) });
    const res = await a.inject({ url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: "not_ready", checks: { postgres: { ok: true }, nats: { ok: false, error: "connection refused" } } });
  });

  it("publishes an OpenAPI document built from the zod schemas", async () => {
    const doc = (await (await app()).inject({ url: "/openapi.json" })).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/things"].post.requestBody.content["application/json"].schema.properties.name).toMatchObject({ type: "string", minLength: 2 });
    expect(doc.paths["/healthz"]).toBeUndefined();
  });
});

describe("unknown fields", () => {
  it("are refused naming the field, also nested, and by a mutation that takes no body", async () => {
    const a = await app();
    const refused = async (url: string, payload: unknown) => {
      const res = await a.inject({ method: "POST", url, payload: payload as object });
      return [res.statusCode, res.json().error?.code, res.json().error?.field];
    };
    expect(await refused("/strict", { name: "x", nmae: "y" })).toEqual([400, "VALIDATION_FAILED", "body.nmae"]);
    expect(await refused("/strict", { name: "x", nested: { a: 1, b: 2 } })).toEqual([400, "VALIDATION_FAILED", "body.nested.b"]);
    expect(await refused("/nobody", { force: true })).toEqual([400, "VALIDATION_FAILED", "body.force"]);
    expect(await refused("/nobody", [1])).toEqual([400, "VALIDATION_FAILED", "body"]);
    expect((await a.inject({ method: "POST", url: "/nobody", payload: {} })).statusCode).toBe(200);
    expect((await a.inject({ method: "POST", url: "/nobody" })).statusCode).toBe(200);
  });
});

describe("U+0000 (Postgres text cannot hold it)", () => {
  it("is refused in path parameters, the query, headers and anywhere in a JSON body, naming the field", async () => {
    const a = await app();
    const cases: [InjectOptions, string][] = [
      [{ url: "/items/a%00b" }, "params.id"],
      [{ url: "/items/a?type=x%00" }, "query.type"],
      [{ url: "/items/a?type=ok&type=%00" }, "query.type"],
      [{ url: "/items/a", headers: { "idempotency-key": "k\u0000" } }, "headers.idempotency-key"],
      [{ method: "POST", url: "/things", payload: '{"name":"ab\\u0000"}', headers: { "content-type": "application/json" } }, "body.name"],
      [{ method: "POST", url: "/open", payload: '{"data":{"list":[{"v":"\\u0000"}]}}', headers: { "content-type": "application/json" } }, "body.data.list.0.v"],
    ];
    for (const [request, field] of cases) {
      const res = await a.inject(request);
      expect([res.statusCode, res.json()], field).toEqual([400, { error: { code: "VALIDATION_FAILED", message: `${field} must not contain the character U+0000`, field } }]);
    }
    // %2500 is the text "%00", and \\u0000 in JSON the text "\u0000": neither is U+0000.
    expect((await a.inject({ url: "/items/a%2500" })).json()).toEqual({ id: "a%00", type: null });
    expect((await a.inject({ method: "POST", url: "/open", payload: '{"t":"\\\\u0000"}', headers: { "content-type": "application/json" } })).json()).toEqual({ t: "\\u0000" });
  });
});

describe("numbers in JSON bodies", () => {
  it("refuses a number a double would change with 422 NUMBER_NOT_EXACT naming the field, and keeps the rest as sent", async () => {
    const a = await app();
    const post = (payload: string) => a.inject({ method: "POST", url: "/open", payload, headers: { "content-type": "application/json" } });
    for (const [literal, reason] of [
      ["9007199254740993", "UNSAFE_INTEGER"],
      ["1e-400", "UNDERFLOW"],
      ["1e400", "OVERFLOW"],
      ["0.30000000000000001", "PRECISION"],
    ] as const) {
      const res = await post(`{"data":{"amounts":[1, ${literal}]}}`);
      expect(res.statusCode, literal).toBe(422);
      expect(res.json().error).toMatchObject({ code: "NUMBER_NOT_EXACT", field: "body.data.amounts.1", details: { reason, literal } });
    }
    const ok = await post('{"a":1.0,"b":1E2,"c":0.1,"d":9007199254740991,"e":6.02214076e23,"f":"9007199254740993"}');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('{"a":1,"b":100,"c":0.1,"d":9007199254740991,"e":6.02214076e+23,"f":"9007199254740993"}');
  });
});

describe("every error in the one model, also those raised before routing", () => {
  it("answers bad percent-encoding and over-long path segments in the shape; an id of 128 characters reaches its route", async () => {
    const a = await app();
    for (const url of ["/items/%zz", "/items/a%", "/items/%E0%A4%A"]) {
      const res = await a.inject({ url });
      expect([res.statusCode, res.json()], url).toEqual([400, { error: { code: "BAD_REQUEST", message: "the URL path is not valid percent-encoded UTF-8", field: "url" } }]);
    }
    expect((await a.inject({ url: `/items/${"a".repeat(128)}` })).statusCode).toBe(200);
    const long = await a.inject({ url: `/items/${"a".repeat(129)}` });
    expect([long.statusCode, long.json().error.code, long.json().error.field]).toEqual([400, "VALIDATION_FAILED", "params.id"]);
    const huge = await a.inject({ url: `/items/${"a".repeat(2000)}` });
    expect([huge.statusCode, huge.json().error.code]).toEqual([414, "URI_TOO_LONG"]);
  });

  it("answers requests Node's parser refuses (U+0000 in a header, malformed, headers too large, unknown Expect) in the shape", async () => {
    const a = await app();
    await a.listen({ port: 0, host: "127.0.0.1" });
    const { port } = a.server.address() as { port: number };
    const raw = (text: string) =>
      new Promise<{ status: number; headers: string; body: unknown }>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(text));
        let data = "";
        socket.on("data", (chunk) => (data += chunk.toString("latin1")));
        socket.on("error", reject);
        socket.on("close", () => {
          const [head = "", body = ""] = data.split("\r\n\r\n");
          resolve({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: body === "" ? undefined : JSON.parse(body) });
        });
      });
    try {
      const nul = await raw("GET /items/a HTTP/1.1\r\nHost: x\r\nX-Note: a\u0000b\r\n\r\n");
      expect(nul).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST", message: "malformed HTTP request", details: { reason: "HPE_INVALID_HEADER_TOKEN" } } } });
      expect(nul.headers).toContain("content-type: application/json");
      expect(await raw("NOT HTTP AT ALL\r\n\r\n")).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST" } } });
      expect(await raw("GET /items/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")).toMatchObject({ status: 400, body: { error: { code: "BAD_REQUEST" } } });
      expect(await raw(`GET /items/a HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)).toMatchObject({ status: 431, body: { error: { code: "HEADERS_TOO_LARGE" } } });
      expect(await raw(`GET /items/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatchObject({ status: 431, body: { error: { code: "HEADERS_TOO_LARGE" } } });
      expect(await raw("GET /items/a HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n")).toMatchObject({ status: 417, body: { error: { code: "EXPECTATION_FAILED", field: "headers.expect" } } });
    } finally {
      await a.close();
    }
  });

  it("answers a request that arrives while the server drains with 503 SHUTTING_DOWN in the shape", async () => {
    const a = await createHttpApp({ logger, bodyLimit: 1024, readiness: {}, openapi: { title: "t", description: "d", version: "1" } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const started = new Promise<void>((resolve) => (arrived = resolve));
    a.get("/slow", async () => {
      arrived();
      await held;
      return { ok: true };
    });
    a.get("/fast", async () => ({ ok: true }));
    await a.listen({ port: 0, host: "127.0.0.1" });
    const { port } = a.server.address() as { port: number };
    // One keep-alive connection: /slow is under way when closing starts, /fast arrives after.
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString("latin1")));
    const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await started;
    const closed = a.close();
    await new Promise((r) => setTimeout(r, 50));
    socket.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 50));
    release();
    await closed;
    await ended;
    expect(data).toMatch(/^HTTP\/1\.1 200 /);
    const second = data.slice(data.indexOf("HTTP/1.1", 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain("retry-after: 1");
    expect(JSON.parse(second.slice(second.indexOf("\r\n\r\n") + 4))).toEqual({ error: { code: "SHUTTING_DOWN", message: "this instance is shutting down; retry" } });
  });
});

describe("a database that cannot be reached", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("http");
  });
  afterAll(async () => {
    await t?.drop();
  });

  async function realErrors(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const refused = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:1/none" });
    out.refused = await refused.connect().then(
      () => undefined,
      (err: unknown) => err,
    );

    const victim = new pg.Client({ connectionString: t.url });
    victim.on("error", () => undefined);
    await victim.connect();
    const { rows } = await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await t.pool.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
    out.terminated = await victim.query("SELECT 1").then(
      () => undefined,
      (err: unknown) => err,
    );
    out.afterTermination = await victim.query("SELECT 1").then(
      () => undefined,
      (err: unknown) => err,
    );
    await victim.end().catch(() => undefined);

    const pool = new pg.Pool({ connectionString: t.url, max: 1, connectionTimeoutMillis: 100 });
    const holder = await pool.connect();
    out.poolTimeout = await pool.query("SELECT 1").then(
      () => undefined,
      (err: unknown) => err,
    );
    holder.release();
    await pool.end();
    out.poolEnded = await pool.query("SELECT 1").then(
      () => undefined,
      (err: unknown) => err,
    );
    return out;
  }

  it("answers 503 DATABASE_UNAVAILABLE with Retry-After for every way a connection fails, wrapped or not", async () => {
    const errors = await realErrors();
    for (const [name, err] of Object.entries(errors)) {
      expect(err, name).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(err), `${name}: ${(err as Error).message}`).toBe(true);
      failures.set(name, err);
    }
    failures.set("wrapped", new AppError("INTERNAL", "ingest failed", { cause: errors.refused }));
    failures.set("in-aggregate", new AggregateError([errors.refused], "all addresses failed"));
    failures.set("sqlstate-57P03", Object.assign(new Error("the database system is starting up"), { code: "57P03" }));
    failures.set("sqlstate-08006", Object.assign(new Error("connection failure"), { code: "08006" }));
    const a = await app();
    for (const name of failures.keys()) {
      const res = await a.inject({ url: `/fails/${name}` });
      expect([res.statusCode, res.headers["retry-after"], res.json()], name).toEqual([503, "5", { error: { code: "DATABASE_UNAVAILABLE", message: "the database is unavailable; retry in 5 s" } }]);
    }
  });

  it("leaves statement failures internal errors", async () => {
    const failed = await t.pool.query("SELECT 1/0").then(
      () => undefined,
      (err: unknown) => err,
    );
    const timedOut = await t.pool.query("SET statement_timeout = 10; SELECT pg_sleep(1)").then(
      () => undefined,
      (err: unknown) => err,
    );
    for (const err of [failed, timedOut, new Error("boom"), Object.assign(new Error("duplicate key"), { code: "23505" })]) {
      expect(isDatabaseUnavailable(err), (err as Error).message).toBe(false);
      failures.set("statement", err);
      const res = await (await app()).inject({ url: "/fails/statement" });
      expect([res.statusCode, res.json()]).toEqual([500, { error: { code: "INTERNAL", message: "internal error" } }]);
    }
  });
});

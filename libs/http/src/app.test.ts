import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "@custody/errors";
import { createLogger } from "@custody/log";
import { createHttpApp } from "./index.js";

const logger = createLogger({ service: "test", level: "silent", pretty: false });

async function app(readiness: Record<string, () => Promise<void>> = {}) {
  const a = await createHttpApp({ logger, bodyLimit: 1024, readiness, openapi: { title: "t", description: "d", version: "1" } });
  a.post("/things", { schema: { body: z.object({ name: z.string().min(2) }) } }, async (req) => ({ got: req.body.name }));
  a.get("/boom", async () => {
    throw new Error("database password is hunter2");
  });
  a.get("/gone", async () => {
    throw new AppError("NOT_FOUND", "no such thing", { field: "params.id" });
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

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "@custody/errors";
import { DataSchemaValidators } from "../data-schema/validators.js";
import { batchBody, newEventBody } from "./schemas.js";
import { jsonDepth } from "../data-schema/json-schema.js";
import { containsNul, parseEventItem, parseTimestamp, prepareEvent, type PrepareOptions } from "./validate.js";
import fc from "fast-check";
import { canonicalJson } from "@custody/redact";
import { z } from "zod";

const NOW = new Date("2026-03-21T22:25:00.000Z");
const options: PrepareOptions = { maxJsonDepth: 4, now: NOW, newId: () => "evt_assigned", prefix: "body" };
const sha256hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

function nest(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe("jsonDepth", () => {
  it("counts containers, not scalars", () => {
    expect(jsonDepth(1, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth({ a: [1, { b: null }] }, 10)).toBe(3);
    expect(jsonDepth(nest(7), 10)).toBe(7);
  });

  it("stops once past the limit", () => {
    expect(jsonDepth(nest(100_000), 5)).toBe(6);
  });
});

describe("prepareEvent", () => {
  const base = { type: "case.completed", data: { caseId: "case_123", attemptCount: 2 } };

  it("canonicalises data, hashes it and the request, and fills defaults", () => {
    const e = prepareEvent({ ...base }, options);
    expect(e).toMatchObject({ id: "evt_assigned", producerId: false, type: "case.completed", occurredAt: NOW, supersedes: null, metadata: null, callbackUrl: null });
    expect(e.payload.toString("utf8")).toBe('{"attemptCount":2,"caseId":"case_123"}');
    expect(e.payloadSha256.toString("hex")).toBe(sha256hex('{"attemptCount":2,"caseId":"case_123"}'));
    expect(e.requestHash.toString("hex")).toBe(sha256hex('{"data":{"attemptCount":2,"caseId":"case_123"},"type":"case.completed"}'));
  });

  it("recognises the same request whatever its key order or spacing", () => {
    const a = prepareEvent({ id: "x-1", type: "t.a", data: { b: 1, a: [1, 2] }, metadata: { z: 1, y: 2 } }, options);
    const b = prepareEvent({ metadata: { y: 2, z: 1 }, data: { a: [1, 2], b: 1 }, type: "t.a", id: "x-1" }, options);
    expect(a.requestHash.equals(b.requestHash)).toBe(true);
    expect(a.producerId).toBe(true);
    const c = prepareEvent({ id: "x-1", type: "t.a", data: { b: 2, a: [1, 2] } }, options);
    expect(a.requestHash.equals(c.requestHash)).toBe(false);
  });

  it("takes RFC 3339 with an offset and unix milliseconds", () => {
    expect(prepareEvent({ ...base, timestamp: "2026-03-21T23:25:00.123456+01:00" }, options).occurredAt.toISOString()).toBe("2026-03-21T22:25:00.123Z");
    expect(prepareEvent({ ...base, timestamp: 1774131900000 }, options).occurredAt.toISOString()).toBe("2026-03-21T22:25:00.000Z");
    expect(parseTimestamp(undefined, NOW)).toEqual(NOW);
  });

  it("reserves webhook.* for the platform", () => {
    expect(thrown(() => prepareEvent({ ...base, type: "webhook.endpoint.disabled" }, options))).toMatchObject({ code: "RESERVED_EVENT_TYPE", status: 422, field: "body.type" });
  });

  it("limits the nesting of data and metadata", () => {
    expect(() => prepareEvent({ ...base, data: nest(4) }, options)).not.toThrow();
    expect(thrown(() => prepareEvent({ ...base, data: nest(5) }, options))).toMatchObject({ code: "JSON_TOO_DEEP", status: 422, field: "body.data" });
    expect(thrown(() => prepareEvent({ ...base, metadata: { a: [[[[1]]]] } }, { ...options, prefix: "body.events.2" }))).toMatchObject({
      code: "JSON_TOO_DEEP",
      field: "body.events.2.metadata",
    });
  });

  it("limits metadata to 16 KiB of canonical JSON and refuses U+0000 in it", () => {
    expect(() => prepareEvent({ ...base, metadata: { note: "x".repeat(16 * 1024 - 11) } }, options)).not.toThrow();
    expect(thrown(() => prepareEvent({ ...base, metadata: { note: "x".repeat(16 * 1024 - 10) } }, options))).toMatchObject({
      code: "VALIDATION_FAILED",
      status: 422,
      field: "body.metadata",
    });
    expect(thrown(() => prepareEvent({ ...base, metadata: { "a\u0000": 1 } }, options))).toMatchObject({ code: "VALIDATION_FAILED", status: 422, field: "body.metadata" });
    expect(containsNul({ a: ["ok", { b: "x\u0000" }] })).toBe(true);
    expect(containsNul({ a: ["\\u0000"] })).toBe(false);
  });

  it("refuses strings that have no UTF-8 form", () => {
    expect(thrown(() => prepareEvent({ ...base, data: { s: "\ud800" } }, options))).toMatchObject({ code: "VALIDATION_FAILED", status: 422, field: "body.data" });
    expect(thrown(() => prepareEvent({ ...base, metadata: { "\udc00": 1 } }, options))).toMatchObject({ field: "body.metadata" });
  });
});

describe("parseEventItem", () => {
  it("answers a malformed batch item with 422 and the item's own field", () => {
    expect(thrown(() => parseEventItem({ type: "a.b" }, "body.events.3"))).toMatchObject({ code: "VALIDATION_FAILED", status: 422, field: "body.events.3.data" });
    expect(thrown(() => parseEventItem("nope", "body.events.0"))).toMatchObject({ field: "body.events.0" });
    expect(thrown(() => parseEventItem({ type: "a.b", data: {}, callback_url: "x" }, "body.events.1"))).toMatchObject({ field: "body.events.1.callback_url" });
    expect(thrown(() => parseEventItem({ type: "a.b", data: {}, timestamp: "2026-02-30T00:00:00Z" }, "body.events.1"))).toMatchObject({ field: "body.events.1.timestamp" });
    expect(parseEventItem({ type: "a.b", data: { x: 1 }, id: "ord:1.2_3-4" }, "body.events.0")).toEqual({ type: "a.b", data: { x: 1 }, id: "ord:1.2_3-4" });
  });

  it("enforces the id format", () => {
    for (const id of ["", "-lead", "a b", "x".repeat(129), "é"]) expect(newEventBody.safeParse({ id, type: "a.b", data: {} }).success, id).toBe(false);
    expect(newEventBody.safeParse({ id: "A".repeat(128), type: "a.b", data: {} }).success).toBe(true);
  });

  it("documents batch items as events while accepting anything", () => {
    const doc = z.toJSONSchema(batchBody, { io: "input", unrepresentable: "any" }) as unknown as { properties: { events: { items: { properties: Record<string, unknown> } } } };
    expect(Object.keys(doc.properties.events.items.properties)).toEqual(["id", "type", "data", "timestamp", "supersedes", "metadata", "callbackUrl"]);
    expect(batchBody.safeParse({ events: [1, "x", null] }).success).toBe(true);
  });
});

describe("DataSchemaValidators", () => {
  const type = {
    id: "ety_1",
    name: "case.completed",
    dataSchema: {
      type: "object",
      required: ["caseId"],
      properties: { caseId: { type: "string" }, result: { type: "object", properties: { "tax/id": { type: "string" } } } },
    },
  };

  it("points the field at the first failing value", () => {
    const v = new DataSchemaValidators();
    expect(() => v.check(type, { caseId: "c" }, "body")).not.toThrow();
    expect(thrown(() => v.check(type, {}, "body"))).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", status: 422, field: "body.data.caseId", details: { pointer: "/caseId", keyword: "required" } });
    expect(thrown(() => v.check(type, { caseId: 1 }, "body.events.4"))).toMatchObject({ field: "body.events.4.data.caseId", details: { keyword: "type" } });
    expect(thrown(() => v.check(type, { caseId: "c", result: { "tax/id": 5 } }, "body"))).toMatchObject({ field: "body.data.result.tax/id", details: { pointer: "/result/tax~1id" } });
  });

  it("compiles once per event-type id and keeps a bounded number", () => {
    const v = new DataSchemaValidators(2);
    v.check(type, { caseId: "c" }, "body");
    // Same id: the cached validator is used, whatever schema is passed along.
    v.check({ ...type, dataSchema: { type: "string" } }, { caseId: "c" }, "body");
    expect(v.size).toBe(1);
    v.check({ ...type, id: "ety_2" }, { caseId: "c" }, "body");
    v.check({ ...type, id: "ety_3" }, { caseId: "c" }, "body");
    expect(v.size).toBe(2);
  });

  it("reports a schema that does not compile as the event type's fault", () => {
    const v = new DataSchemaValidators();
    expect(thrown(() => v.check({ ...type, id: "ety_bad", dataSchema: { type: "nonsense" } }, {}, "body"))).toMatchObject({ code: "INVALID_JSON_SCHEMA", field: "body.type" });
  });
});

describe("the request hash", () => {
  it("is SHA-256 of the RFC 8785 canonical request, whatever fields it has", () => {
    const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 4 }),
        fc.option(fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }), { nil: undefined }),
        fc.option(fc.constantFrom("evt_1", "order-9"), { nil: undefined }),
        fc.option(fc.oneof(fc.constant("2026-03-21T22:25:00Z"), fc.constant(1774131900000)), { nil: undefined }),
        fc.option(fc.constant("evt_0"), { nil: undefined }),
        fc.option(fc.constant("https://example.com/cb"), { nil: undefined }),
        (data, metadata, id, timestamp, supersedes, callbackUrl) => {
          const input = {
            type: "case.completed",
            data,
            ...(metadata && { metadata }),
            ...(id && { id }),
            ...(timestamp !== undefined && { timestamp }),
            ...(supersedes && { supersedes }),
            ...(callbackUrl && { callbackUrl }),
          };
          const parsed = newEventBody.safeParse(input);
          fc.pre(parsed.success);
          const e = prepareEvent(parsed.data!, { ...options, maxJsonDepth: 8 });
          expect(e.requestHash.toString("hex")).toBe(sha256hex(canonicalJson(parsed.data)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@custody/db";
import { AppError } from "@custody/errors";
import { API_BODY_LIMIT } from "../app.js";
import { Re2Pattern } from "./engine.js";
import { analyseDataSchema, MAX_WEIGHT } from "./limits.js";
import { DataSchemaValidators, MAX_REQUEST_VALUES } from "./validators.js";
import { compileDataSchema, MAX_SCHEMA_BYTES } from "./json-schema.js";
import { auth, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

/**
 * A tenant's `dataSchema` runs on every event it sends, in the API process every tenant shares:
 * its patterns run on RE2 (linear time), what cannot run there is refused at registration with the
 * field at fault, and validation is bounded in time.
 */

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

function timed(fn: () => unknown): number {
  const start = performance.now();
  try {
    fn();
  } catch {
    // timing only
  }
  return performance.now() - start;
}

/** The case: nested quantifiers, and a string that almost matches (28 characters). */
const EVIL_PATTERN = "^(a+)+$";
const EVIL_INPUT = `${"a".repeat(27)}!`;

describe("patterns run in linear time", () => {
  const type = { id: "ety_evil", name: "evil.pattern", dataSchema: { type: "object", properties: { name: { type: "string", pattern: EVIL_PATTERN } } } };

  it("answers the pathological 28-character case in milliseconds, and 100,000 characters too", () => {
    const v = new DataSchemaValidators();
    v.check(type, { name: "aaaa" }, "body"); // compiled and warm
    expect(thrown(() => v.check(type, { name: EVIL_INPUT }, "body"))).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", field: "body.data.name" });
    expect(timed(() => v.check(type, { name: EVIL_INPUT }, "body"))).toBeLessThan(50);
    expect(timed(() => v.check(type, { name: `${"a".repeat(100_000)}!` }, "body"))).toBeLessThan(250);
    expect(() => v.check(type, { name: "a".repeat(100_000) }, "body")).not.toThrow();
  });

  it("means what ECMA-262 means (\\s, ., \\u escapes, surrogate pairs, classes)", () => {
    const patterns = [
      "^\\s+$",
      "^\\S+$",
      "^.$",
      "^[\\s\\S]*$",
      "^[^\\s]+$",
      "^[\\S]$",
      "^\\u00e9$",
      "^\\u{1F600}$",
      "^\\uD83D\\uDE00$",
      "^\\p{L}+$",
      "^\\d{3}$",
      "\\bfoo\\b",
      "^[a-z]+(?:-[a-z]+)*$",
      "^[\\w.-]+@[\\w-]+\\.[a-z]{2,}$",
      "^\\cJ$",
      "^[.]$",
      "^(?<year>\\d{4})-\\d{2}$",
      "^\\x41$",
      "[[:a]",
      "^[\\-/]+$",
    ];
    const inputs = ["  ", "\u00a0", "\u2028", "\r", "\n", "a", "é", "😀", "abc", "123", "x foo y", "foo-bar", "a.b@c-d.io", ".", "\u3000\ufeff", "Ωmega", "2024-01", "A", "[", ":", "/-", "a\rb", ""];
    for (const source of patterns) {
      const re2 = new Re2Pattern(source);
      const native = new RegExp(source, "u");
      for (const s of inputs) expect(re2.test(s), `${source} on ${JSON.stringify(s)}`).toBe(native.test(s));
    }
  });
});

describe("registration", () => {
  it("refuses patterns RE2 cannot run, naming the field", () => {
    const cases: [unknown, string][] = [
      [{ properties: { code: { type: "string", pattern: "^(a)\\1$" } } }, "body.dataSchema.properties.code.pattern"],
      [{ properties: { code: { type: "string", pattern: "^(?=a)" } } }, "body.dataSchema.properties.code.pattern"],
      [{ properties: { code: { type: "string", pattern: "(?<!x)y" } } }, "body.dataSchema.properties.code.pattern"],
      [{ type: "object", patternProperties: { "^(?!internal_)": { type: "string" } } }, "body.dataSchema.patternProperties.^(?!internal_)"],
      [{ $defs: { id: { pattern: "[]" } }, $ref: "#/$defs/id" }, "body.dataSchema.$defs.id.pattern"],
      [{ items: { pattern: "x".repeat(513) } }, "body.dataSchema.items.pattern"],
      [{ properties: { a: { pattern: "a{1001}" } } }, "body.dataSchema.properties.a.pattern"],
    ];
    for (const [schema, field] of cases) {
      expect(
        thrown(() => compileDataSchema(schema)),
        JSON.stringify(schema),
      ).toMatchObject({ code: "INVALID_JSON_SCHEMA", status: 422, field });
    }
    // A property named "pattern" is a property, not a regular expression.
    expect(() => compileDataSchema({ properties: { pattern: { type: "string" } }, required: ["pattern"] })).not.toThrow();
  });

  it("refuses schemas too large, recursing forever, or fanning out exponentially", () => {
    const big = { properties: Object.fromEntries(Array.from({ length: 1_200 }, (_, i) => [`field_${i}`, { type: "string" }])) };
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_SCHEMA_BYTES);
    expect(thrown(() => compileDataSchema(big))).toMatchObject({ code: "INVALID_JSON_SCHEMA", field: "body.dataSchema" });

    expect(thrown(() => compileDataSchema({ $ref: "#" })).message).toMatch(/never descends into the data/);
    expect(thrown(() => compileDataSchema({ allOf: [{ $ref: "#/$defs/a" }], $defs: { a: { anyOf: [{ $ref: "#" }] } } })).message).toMatch(/never descends/);

    // Each level refers to the next one twice: 2^24 evaluations on a one-character string.
    const defs: Record<string, unknown> = { d24: { type: "string" } };
    for (let i = 0; i < 24; i++) defs[`d${i}`] = { anyOf: [{ allOf: [{ $ref: `#/$defs/d${i + 1}` }, { minLength: 2 }] }, { $ref: `#/$defs/d${i + 1}` }] };
    expect(thrown(() => compileDataSchema({ $defs: defs, $ref: "#/$defs/d0" })).message).toMatch(/fan out/);

    // A recursive schema whose every level tries both branches on the same items doubles per level of data.
    const doubling = { $defs: { n: { anyOf: [{ type: "array", items: { $ref: "#/$defs/n" }, minItems: 5 }, { type: "array", items: { $ref: "#/$defs/n" } }, { type: "number" }] } }, $ref: "#/$defs/n" };
    expect(thrown(() => compileDataSchema(doubling)).message).toMatch(/fan out/);

    expect(thrown(() => compileDataSchema({ properties: { a: { $id: "https://example.com/a", type: "string" } } }))).toMatchObject({ field: "body.dataSchema.properties.a.$id" });
  });

  it("accepts ordinary schemas, recursive ones included", () => {
    const tree = { $defs: { node: { type: "object", properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } } } } }, $ref: "#/$defs/node" };
    const binary = { type: "object", properties: { left: { $ref: "#" }, right: { $ref: "#" }, value: { type: "number" } } };
    const rooted = { $id: "https://example.com/order.json", type: "object", properties: { line: { $ref: "https://example.com/order.json#/$defs/line" } }, $defs: { line: { $anchor: "line", type: "object" } } };
    for (const schema of [tree, binary, rooted, true, { type: "object", "x-owner": "crm" }]) expect(() => compileDataSchema(schema), JSON.stringify(schema)).not.toThrow();
    expect(analyseDataSchema({ type: "object", properties: { a: { type: "string" } } })).toEqual({ once: expect.any(Number), each: 0 });
    expect(analyseDataSchema(tree).each).toBeGreaterThan(0);
    expect(analyseDataSchema(tree).each).toBeLessThan(MAX_WEIGHT);
  });
});

describe("validation is bounded", () => {
  it("checks uniqueItems and enum in linear time, with JSON Schema equality", () => {
    const v = new DataSchemaValidators();
    const unique = { id: "ety_u", name: "u.u", dataSchema: { type: "object", properties: { a: { type: "array", uniqueItems: true } } } };
    // Ajv's own uniqueItems compares every pair: 12 s for this on the reference machine.
    const many = Array.from({ length: 20_000 }, (_, i) => ({ n: i }));
    expect(timed(() => v.check(unique, { a: many }, "body"))).toBeLessThan(500);
    expect(() => v.check(unique, { a: [1, "1", [1], { x: 1 }, null, true] }, "body")).not.toThrow();
    for (const dup of [
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [0, -0],
      [
        [1, { c: "d" }],
        [1, { c: "d" }],
      ],
      ["x", "y", "x"],
    ]) {
      expect(
        thrown(() => v.check(unique, { a: dup }, "body")),
        JSON.stringify(dup),
      ).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", field: "body.data.a", details: { keyword: "uniqueItems" } });
    }

    const members = Array.from({ length: 2_000 }, (_, i) => `Zone/${i}`);
    const enumType = { id: "ety_e", name: "e.e", dataSchema: { type: "object", properties: { z: { type: "array", items: { enum: [...members, { k: [1, 2] }] } } } } };
    expect(timed(() => v.check(enumType, { z: Array.from({ length: 20_000 }, () => "Zone/1999") }, "body"))).toBeLessThan(500);
    expect(() => v.check(enumType, { z: ["Zone/0", { k: [1, 2] }] }, "body")).not.toThrow();
    expect(thrown(() => v.check(enumType, { z: ["Zone/0", { k: [2, 1] }] }, "body"))).toMatchObject({ field: "body.data.z.1", details: { keyword: "enum" } });
    expect(thrown(() => v.check(enumType, { z: ["zone/0"] }, "body"))).toMatchObject({ field: "body.data.z.0" });
  });

  it("refuses, quickly, data whose validation would cost more than a request's budget", () => {
    const v = new DataSchemaValidators();
    // Linear, but about 1,000 RE2 instructions live per character of random input.
    const heavy = { id: "ety_h", name: "h.h", dataSchema: { type: "object", properties: { s: { type: "string", pattern: "[ab]*a[ab]{1000}$" } } } };
    let x = 7;
    const random = Array.from({ length: 200_000 }, () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x & 0x10000 ? "a" : "b";
    }).join("");
    expect(() => v.check(heavy, { s: `a${random.slice(0, 1_000)}` }, "body")).not.toThrow();
    let error: AppError | undefined;
    const ms = timed(() => {
      error = thrown(() => v.check(heavy, { s: random }, "body"));
    });
    expect(error).toMatchObject({ code: "DATA_SCHEMA_TOO_COSTLY", status: 422, field: "body.data" });
    expect(ms).toBeLessThan(1_000);

    // A 200 KB string against a cheap pattern is fine.
    const plain = { id: "ety_p", name: "p.p", dataSchema: { type: "object", properties: { s: { type: "string", pattern: "^[ab]+$" } } } };
    expect(() => v.check(plain, { s: random }, "body")).not.toThrow();

    // The budget is per request: a batch shares it, so spreading the work over items does not multiply it.
    // Each check of this slice is charged 1,001 characters × 1,006 instructions × 20 ns ≈ 20 ms.
    const small = new DataSchemaValidators({ budgetMs: 60 });
    const slice = { s: `a${random.slice(0, 1_000)}` };
    const outcomes = small.forRequest(() =>
      [1, 2, 3].map(() => {
        try {
          small.check(heavy, slice, "body");
          return "ok";
        } catch (err) {
          return (err as AppError).code;
        }
      }),
    );
    expect(outcomes).toEqual(["ok", "ok", "DATA_SCHEMA_TOO_COSTLY"]);
    for (let i = 0; i < 3; i++) expect(() => small.check(heavy, slice, "body")).not.toThrow();
  });

  it("counts the values a request may carry from the body limit", () => {
    expect(MAX_REQUEST_VALUES).toBeGreaterThanOrEqual(API_BODY_LIMIT / 2 + 1);
  });
});

describe("through the API", () => {
  let api: TestApi;
  let acme: TestTenant;

  beforeAll(async () => {
    api = await startTestApi("dataschema");
    acme = await newTenant(api, "Acme");
  });

  afterAll(async () => {
    await api.close();
  });

  const call = (method: "GET" | "POST", url: string, payload?: unknown) => api.app.inject({ method, url, headers: auth(acme.key), ...(payload === undefined ? {} : { payload: payload as object }) });

  it("refuses a registration with an RE2-incompatible pattern with 422 naming the dataSchema path", async () => {
    const res = await call("POST", "/api/v2/event-types", {
      name: "case.lookahead",
      description: "",
      dataSchema: { type: "object", properties: { caseId: { type: "string", pattern: "^(?=C)[A-Z0-9]+$" } } },
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().error).toMatchObject({ code: "INVALID_JSON_SCHEMA", field: "body.dataSchema.properties.caseId.pattern", details: { pointer: "/properties/caseId/pattern" } });
    expect(res.json().error.message).toMatch(/lookahead/);

    const version = await call("POST", "/api/v2/event-types", { name: "case.backref", description: "", dataSchema: { type: "object" } });
    expect(version.statusCode).toBe(201);
    const bad = await call("POST", "/api/v2/event-types/case.backref/versions", { dataSchema: { properties: { a: { pattern: "(x)\\1" } } } });
    expect([bad.statusCode, bad.json().error.field]).toEqual([422, "body.dataSchema.properties.a.pattern"]);
  });

  it("validates the pathological pattern without holding the event loop", async () => {
    const created = await call("POST", "/api/v2/event-types", {
      name: "case.evil",
      description: "",
      dataSchema: { type: "object", properties: { name: { type: "string", pattern: EVIL_PATTERN } } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect((await call("POST", "/api/v2/events", { type: "case.evil", data: { name: "aaaa" } })).statusCode).toBe(201);

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    // Two characters longer than the case: four times its 1.66 s under a backtracking engine.
    const res = await call("POST", "/api/v2/events", { type: "case.evil", data: { name: `aa${EVIL_INPUT}` } });
    const elapsed = performance.now() - started;
    delay.disable();
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "DATA_SCHEMA_MISMATCH", field: "body.data.name" });
    expect(elapsed).toBeLessThan(500);
    expect(delay.max / 1e6).toBeLessThan(250);
  });

  it("refuses at ingest a stored schema from before the limits, instead of running it", async () => {
    await api.t.db
      .insertInto("event_types")
      .values({ id: newId("ety"), tenant_id: acme.tenantId, name: "case.legacy", version: 1, data_schema: JSON.stringify({ properties: { a: { pattern: "^(?!x)" } } }), archived_at: null })
      .execute();
    const res = await call("POST", "/api/v2/events", { type: "case.legacy", data: { a: "y" } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "INVALID_JSON_SCHEMA", field: "body.type", details: { schemaField: "dataSchema.properties.a.pattern" } });
  });
});

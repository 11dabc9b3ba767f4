import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestPlatform } from "./support/platform.js";

/** Both services publish an OpenAPI document that a standard validator accepts, built from their zod schemas. */
describe("OpenAPI documents", () => {
  const platform = new TestPlatform();
  beforeAll(async () => {
    await platform.start();
  });
  afterAll(async () => {
    await platform.stop();
  });

  it.each(["api", "proofs"] as const)("the %s service's /openapi.json is valid OpenAPI 3.1", async (service) => {
    const doc = (await platform[service].inject({ url: "/openapi.json" })).json();
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(service === "api" ? 15 : 6);
    expect((await platform[service].inject({ url: "/docs/" })).statusCode).toBe(200);
  });

  it.each(["api", "proofs"] as const)("the %s service refuses unknown fields in every request body", async (service) => {
    const doc = (await platform[service].inject({ url: "/openapi.json" })).json() as OpenApi;
    const loose: string[] = [];
    const bodies: string[] = [];
    const bodyless: [string, string][] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (!["post", "put", "patch", "delete"].includes(method)) continue;
        const schema = op.requestBody?.content?.["application/json"]?.schema;
        if (schema === undefined) bodyless.push([method, path]);
        else {
          bodies.push(`${method} ${path}`);
          loose.push(...looseObjects(schema, doc, `${method} ${path} body`));
        }
      }
    }
    // Every object that lists its members allows no others (free-form maps such as `data` list none).
    expect(loose).toEqual([]);
    expect(bodies).toContain(service === "api" ? "patch /api/v2/webhooks/{id}" : "post /api/v2/webhooks/events/{evtId}/recall");
    // A mutation that declares no body refuses one with members, before authentication like any validation.
    for (const [method, path] of bodyless) {
      const url = path.replace(/\{[^}]+\}/g, "x");
      const res = await platform[service].inject({ method: method.toUpperCase() as "POST", url, payload: { unexpected: true } });
      expect([res.statusCode, res.json().error?.field], `${method} ${path}`).toEqual([400, "body.unexpected"]);
    }
  });
});

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Where in `schema` an object with listed members accepts others too. */
function looseObjects(schema: Schema, doc: OpenApi, at: string, seen = new Set<Schema>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  if (schema.$ref !== undefined) {
    const target = doc.components?.schemas?.[schema.$ref.replace("#/components/schemas/", "")];
    return target === undefined ? [`${at}: unresolved ${schema.$ref}`] : looseObjects(target, doc, at, seen);
  }
  const out: string[] = [];
  if (schema.properties !== undefined) {
    if (schema.additionalProperties !== false) out.push(at);
    for (const [name, child] of Object.entries(schema.properties)) out.push(...looseObjects(child, doc, `${at}.${name}`, seen));
  }
  if (typeof schema.additionalProperties === "object") out.push(...looseObjects(schema.additionalProperties, doc, `${at}.*`, seen));
  if (schema.items !== undefined) out.push(...looseObjects(schema.items, doc, `${at}[]`, seen));
  for (const list of [schema.anyOf, schema.oneOf, schema.allOf]) for (const [i, child] of (list ?? []).entries()) out.push(...looseObjects(child, doc, `${at}|${i}`, seen));
  return out;
}

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
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTenant, startTestApi, type TestApi } from "./shared/test-app.fixture.js";

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("openapi");
});

afterAll(async () => {
  await api.close();
});

describe("OpenAPI document", () => {
  it("lists every route with a summary, tags, bearer security and its schemas", async () => {
    const doc = (await api.app.inject({ url: "/openapi.json" })).json();
    const expected: Record<string, string[]> = {
      "/api/v2/api-keys": ["get", "post"],
      "/api/v2/api-keys/{id}": ["delete"],
      "/api/v2/event-types": ["get", "post"],
      "/api/v2/event-types/{name}": ["get"],
      "/api/v2/event-types/{name}/versions": ["post"],
      "/api/v2/event-types/{name}/archive": ["post"],
      "/api/v2/webhooks": ["get", "post"],
      "/api/v2/webhooks/{id}": ["delete", "get", "patch"],
      "/api/v2/webhooks/{id}/rotate-secret": ["post"],
      "/api/v2/webhooks/{id}/revoke-previous-secret": ["post"],
    };
    for (const [path, methods] of Object.entries(expected)) {
      expect(doc.paths[path], path).toBeDefined();
      for (const method of methods) {
        const op = doc.paths[path][method];
        expect(op, `${method} ${path}`).toBeDefined();
        expect(op.summary).toEqual(expect.any(String));
        expect(op.tags).toHaveLength(1);
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403"]));
        if (method !== "get")
          expect(
            op.parameters.some((p: { in: string; name: string }) => p.in === "header" && p.name === "idempotency-key"),
            `${method} ${path}`,
          ).toBe(true);
      }
    }
    const create = doc.paths["/api/v2/webhooks"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.properties.url).toMatchObject({ type: "string", maxLength: 2048 });
    expect(body.properties.subscriptions.default).toEqual(["*.final", "*.retracted", "*.recalled"]);
    expect(create.responses["201"].content["application/json"].schema.properties.secret).toBeDefined();
    const patch = doc.paths["/api/v2/webhooks/{id}"].patch;
    expect(patch.parameters.find((p: { name: string }) => p.name === "acknowledgePending")).toMatchObject({ in: "query" });
  });
});

describe("over real HTTP", () => {
  it("creates, reads and rotates an endpoint through a listening server", async () => {
    const tenant = await newTenant(api);
    await api.app.listen({ port: 0, host: "127.0.0.1" });
    const address = api.app.server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const base = `http://127.0.0.1:${address.port}`;
    const headers = { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" };

    const created = await fetch(`${base}/api/v2/webhooks`, { method: "POST", headers, body: JSON.stringify({ url: "https://127.0.0.1:8443/hook", displayName: "http" }) });
    expect(created.status).toBe(201);
    expect(created.headers.get("x-request-id")).toEqual(expect.any(String));
    const endpoint = (await created.json()) as { id: string; secret: string };
    expect(endpoint.secret).toMatch(/^whsec_/);

    const read = await fetch(`${base}/api/v2/webhooks/${endpoint.id}`, { headers: { authorization: headers.authorization } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: endpoint.id, displayName: "http" });

    const rotated = await fetch(`${base}/api/v2/webhooks/${endpoint.id}/rotate-secret`, { method: "POST", headers: { authorization: headers.authorization, "idempotency-key": "http-rotate" } });
    expect(rotated.status).toBe(200);
    const replayed = await fetch(`${base}/api/v2/webhooks/${endpoint.id}/rotate-secret`, { method: "POST", headers: { authorization: headers.authorization, "idempotency-key": "http-rotate" } });
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replayed.json()) as { secret: string | null }).secret).toBeNull();

    const anonymous = await fetch(`${base}/api/v2/webhooks`);
    expect(anonymous.status).toBe(401);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/api/v2/webhooks/{id}/rotate-secret");
  });
});

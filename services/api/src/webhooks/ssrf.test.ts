import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, fakeResolver, newTenant, startTestApi, type TestApi, type TestTenant } from "../shared/test-app.fixture.js";

/** Webhook URLs that would make us call into our own network are refused when registered. */

const resolver = fakeResolver({
  "hooks.example.com": ["93.184.215.14"],
  "rebind.example.com": ["127.0.0.1"],
  "split.example.com": ["93.184.215.14", "10.1.2.3"],
  "metadata.example.com": ["169.254.169.254"],
  localhost: ["127.0.0.1", "::1"],
});

describe("SSRF guard, production policy (no loopback)", () => {
  let api: TestApi;
  let tenant: TestTenant;

  beforeAll(async () => {
    api = await startTestApi("ssrf", { env: { CUSTODY_ALLOW_LOOPBACK_TARGETS: "false" }, resolver });
    tenant = await newTenant(api);
  });
  afterAll(async () => {
    await api.close();
  });

  const refusals: [string, string][] = [
    ["https://127.0.0.1/", "ADDRESS_NOT_ALLOWED"],
    ["https://[::1]/", "ADDRESS_NOT_ALLOWED"],
    ["https://2130706433/", "ADDRESS_NOT_ALLOWED"],
    ["https://0x7f000001/", "ADDRESS_NOT_ALLOWED"],
    ["https://[::ffff:127.0.0.1]/", "ADDRESS_NOT_ALLOWED"],
    ["https://localhost/", "ADDRESS_NOT_ALLOWED"],
    ["https://localhost./", "ADDRESS_NOT_ALLOWED"],
    ["https://api.localhost/", "ADDRESS_NOT_ALLOWED"],
    ["http://example.com/", "SCHEME_NOT_ALLOWED"],
    ["ftp://hooks.example.com/", "SCHEME_NOT_ALLOWED"],
    ["https://169.254.169.254/latest/meta-data/", "ADDRESS_NOT_ALLOWED"],
    ["https://10.0.0.1/", "ADDRESS_NOT_ALLOWED"],
    ["https://192.168.1.10/", "ADDRESS_NOT_ALLOWED"],
    ["https://user:pw@hooks.example.com/", "CREDENTIALS_IN_URL"],
    ["https://hooks.example.com/#frag", "URL_INVALID"],
    ["not a url", "URL_INVALID"],
    ["https://rebind.example.com/", "ADDRESS_NOT_ALLOWED"],
    ["https://split.example.com/", "ADDRESS_NOT_ALLOWED"],
    ["https://metadata.example.com/", "ADDRESS_NOT_ALLOWED"],
    ["https://nowhere.example.com/", "HOST_NOT_RESOLVABLE"],
  ];

  for (const [url, reason] of refusals) {
    it(`refuses ${url} (${reason})`, async () => {
      const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url } });
      expect(res.statusCode).toBe(422);
      const error = res.json().error;
      expect(error).toMatchObject({ code: "TARGET_REFUSED", field: "body.url", details: { reason } });
      // The reason is for the customer; it never echoes the URL, which may carry secrets.
      expect(error.message).not.toContain("pw@");
    });
  }

  it("names the resolved address that was refused", async () => {
    const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url: "https://rebind.example.com/" } });
    expect(res.json().error).toMatchObject({ message: expect.stringContaining("127.0.0.1"), details: { addressClass: "loopback" } });
  });

  it("accepts a name that resolves only to public addresses", async () => {
    const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url: "https://hooks.example.com/in" } });
    expect(res.statusCode, res.body).toBe(201);
  });

  it("stores nothing for a refused URL", async () => {
    const before = await api.t.db.selectFrom("endpoints").select("id").where("tenant_id", "=", tenant.tenantId).execute();
    await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url: "https://127.0.0.1/" } });
    const after = await api.t.db.selectFrom("endpoints").select("id").where("tenant_id", "=", tenant.tenantId).execute();
    expect(after).toHaveLength(before.length);
  });
});

describe("SSRF guard, development policy (loopback allowed)", () => {
  let api: TestApi;
  let tenant: TestTenant;

  beforeAll(async () => {
    api = await startTestApi("ssrf_dev", { resolver });
    tenant = await newTenant(api);
  });
  afterAll(async () => {
    await api.close();
  });

  it("accepts loopback and plain http for local receivers", async () => {
    for (const url of ["https://127.0.0.1:8443/hook", "http://localhost:3000/hook", "https://[::1]/hook", "https://rebind.example.com/"]) {
      const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url } });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
    }
  });

  it("still refuses metadata, link-local and private addresses", async () => {
    for (const url of ["https://169.254.169.254/", "http://169.254.169.254/", "https://metadata.example.com/", "https://10.0.0.1/", "https://split.example.com/"]) {
      const res = await api.app.inject({ method: "POST", url: "/api/v2/webhooks", headers: auth(tenant.key), payload: { url } });
      expect(res.statusCode, url).toBe(422);
      expect(res.json().error.code).toBe("TARGET_REFUSED");
    }
  });
});

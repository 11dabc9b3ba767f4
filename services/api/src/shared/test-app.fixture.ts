import { randomBytes } from "node:crypto";
import { loadConfig } from "@custody/config";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import type { HttpApp } from "@custody/http";
import { createLogger } from "@custody/log";
import type { Resolver } from "@custody/netguard";
import { createTenant, insertApiKey, type Scope } from "@custody/tenancy";
import { buildApiApp } from "../app.js";

/** Shared set-up of the API's route tests: a fresh database, the app on it, tenants and keys. */

export interface TestApi {
  t: TestDatabase;
  app: HttpApp;
  masterKey: Uint8Array;
  close(): Promise<void>;
}

export async function startTestApi(label: string, options: { env?: Record<string, string>; resolver?: Resolver } = {}): Promise<TestApi> {
  const t = await createTestDatabase(label);
  const masterKey = randomBytes(32);
  const app = await buildApiApp({
    db: t.db,
    config: loadConfig("api", { CUSTODY_ALLOW_LOOPBACK_TARGETS: "true", ...options.env }),
    masterKey,
    logger: createLogger({ service: "test", level: "silent", pretty: false }),
    readiness: {},
    ...(options.resolver ? { resolver: options.resolver } : {}),
  });
  await app.ready();
  return {
    t,
    app,
    masterKey,
    async close() {
      await app.close();
      await t.drop();
    },
  };
}

export interface TestTenant {
  tenantId: string;
  /** An admin key (all scopes). */
  key: string;
  keyId: string;
}

export async function newTenant(api: TestApi, name = "Acme"): Promise<TestTenant> {
  const created = await createTenant(api.t.db, name);
  return { tenantId: created.tenantId, key: created.apiKey, keyId: created.apiKeyId };
}

export async function keyWith(api: TestApi, tenant: TestTenant, scopes: Scope[]): Promise<string> {
  return (await insertApiKey(api.t.db, tenant.tenantId, { environment: "test", scopes, name: "scoped" })).key;
}

export function auth(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

/** A resolver that answers from a table and fails for anything else, as DNS would. */
export function fakeResolver(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = table[hostname.toLowerCase()];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

import { newId, type Db, type Kysely, type Database } from "@custody/db";
import { AppError } from "@custody/errors";
import type { PortalGrant } from "./portal.js";
import { ALL_SCOPES, generateApiKey, hashApiKey, isWellFormedApiKey, type KeyEnvironment, type Scope } from "./api-key.js";

export interface CreatedTenant {
  tenantId: string;
  name: string;
  apiKeyId: string;
  apiKey: string;
}

/** A tenant and its first admin key, in one transaction: a tenant nobody can use is never left behind. */
export async function createTenant(db: Db, name: string, environment: KeyEnvironment = "test"): Promise<CreatedTenant> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new AppError("VALIDATION_FAILED", "tenant name must be 1 to 200 characters", { field: "name" });
  }
  return db.transaction().execute(async (trx) => {
    const tenantId = newId("ten");
    await trx.insertInto("tenants").values({ id: tenantId, name: trimmed }).execute();
    const key = await insertApiKey(trx, tenantId, { environment, scopes: [...ALL_SCOPES], name: "first key" });
    return { tenantId, name: trimmed, apiKeyId: key.id, apiKey: key.key };
  });
}

export interface ApiKeySpec {
  environment: KeyEnvironment;
  scopes: Scope[];
  name: string;
}

export async function insertApiKey(db: Kysely<Database>, tenantId: string, spec: ApiKeySpec): Promise<{ id: string; key: string; prefix: string }> {
  const generated = generateApiKey(spec.environment);
  const id = newId("key");
  await db
    .insertInto("api_keys")
    .values({
      id,
      tenant_id: tenantId,
      name: spec.name,
      environment: spec.environment,
      prefix: generated.prefix,
      key_hash: generated.hash,
      scopes: spec.scopes,
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
  return { id, key: generated.key, prefix: generated.prefix };
}

export interface Principal {
  tenantId: string;
  /** The API key's id, or the portal session's. */
  keyId: string;
  environment: KeyEnvironment;
  scopes: Scope[];
  /** Set for a portal session (no scopes): what it may see and do. */
  portal?: PortalGrant;
}

/** The tenant behind a bearer key, or UNAUTHENTICATED: unknown, malformed and revoked keys look the same. */
export async function authenticate(db: Db, key: string): Promise<Principal> {
  if (!isWellFormedApiKey(key)) throw new AppError("UNAUTHENTICATED", "missing or invalid API key");
  const row = await db.selectFrom("api_keys").select(["id", "tenant_id", "environment", "scopes"]).where("key_hash", "=", hashApiKey(key)).where("revoked_at", "is", null).executeTakeFirst();
  if (!row) throw new AppError("UNAUTHENTICATED", "missing or invalid API key");
  return { tenantId: row.tenant_id, keyId: row.id, environment: row.environment, scopes: row.scopes as Scope[] };
}

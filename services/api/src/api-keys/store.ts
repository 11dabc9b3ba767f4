import { sql, type Database, type Db, type Kysely, type Transaction } from "@custody/db";
import { AppError } from "@custody/errors";
import { ALL_SCOPES, insertApiKey, type KeyEnvironment, type Scope } from "@custody/tenancy";
import { afterCreatedCursor, exactCreatedAt } from "../shared/pagination.js";

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  environment: KeyEnvironment;
  scopes: Scope[];
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface Row {
  id: string;
  name: string;
  prefix: string;
  environment: KeyEnvironment;
  scopes: string[];
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = ["id", "name", "prefix", "environment", "scopes", "created_at", "revoked_at", "last_used_at"] as const;

function toRecord(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    environment: row.environment,
    scopes: row.scopes as Scope[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** Scopes in their canonical order, each once, so equal grants look equal. */
export function normaliseScopes(scopes: readonly Scope[]): Scope[] {
  return ALL_SCOPES.filter((s) => scopes.includes(s));
}

export async function createApiKey(trx: Transaction<Database>, tenantId: string, spec: { name: string; environment: KeyEnvironment; scopes: Scope[] }): Promise<ApiKeyRecord & { key: string }> {
  const created = await insertApiKey(trx, tenantId, spec);
  const row = await trx.selectFrom("api_keys").select(COLUMNS).where("id", "=", created.id).executeTakeFirstOrThrow();
  return { ...toRecord(row), key: created.key };
}

export async function listApiKeys(db: Db, tenantId: string, page: { limit: number; after: string[] | undefined }): Promise<(ApiKeyRecord & { cursorAt: string })[]> {
  let query = db
    .selectFrom("api_keys")
    .select([...COLUMNS, exactCreatedAt.as("cursor_at")])
    .where("tenant_id", "=", tenantId);
  if (page.after) query = query.where(afterCreatedCursor(page.after));
  const rows = await query
    .orderBy("created_at")
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return rows.map((row) => ({ ...toRecord(row), cursorAt: row.cursor_at }));
}

/**
 * Revokes a key of the tenant (a no-op if it already is) and returns it, or undefined if the tenant
 * has no such key. Refuses to revoke the tenant's last active admin key: nobody could then manage
 * the tenant's keys, and only an operator with database access could recover it.
 */
export async function revokeApiKey(trx: Kysely<Database>, tenantId: string, id: string): Promise<ApiKeyRecord | undefined> {
  // One revocation per tenant at a time, so two cannot each leave the other as the last admin key.
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`api-keys:${tenantId}`}, 0))`.execute(trx);
  const target = await trx.selectFrom("api_keys").select(COLUMNS).where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  if (!target) return undefined;
  if (target.revoked_at !== null) return toRecord(target);
  if (target.scopes.includes("admin")) {
    const otherAdmin = await trx.selectFrom("api_keys").select("id").where("tenant_id", "=", tenantId).where("id", "!=", id).where("revoked_at", "is", null).where(sql<boolean>`'admin' = ANY(scopes)`).executeTakeFirst();
    if (!otherAdmin) {
      throw new AppError("CONFLICT", "this is the tenant's last active admin key; create another admin key before revoking it", { field: "params.id" });
    }
  }
  const row = await trx.updateTable("api_keys").set({ revoked_at: sql<Date>`now()` }).where("tenant_id", "=", tenantId).where("id", "=", id).returning(COLUMNS).executeTakeFirstOrThrow();
  return toRecord(row);
}

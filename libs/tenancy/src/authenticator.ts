import { TtlCache } from "@custody/cache";
import { sql, type Db } from "@custody/db";
import { AppError } from "@custody/errors";
import { hashApiKey, isWellFormedApiKey, type Scope } from "./api-key.js";
import type { Principal } from "./repository.js";

/**
 * A key stays usable this long after it was revoked through another process; the process that
 * revokes it forgets it at once.
 */
export const API_KEY_CACHE_MS = 2_000;

/**
 * Authenticates bearer keys, remembering valid ones for API_KEY_CACHE_MS so a busy client costs a
 * hash, not a query, per request. Unknown keys are never remembered: each is a lookup.
 */
export class ApiKeyAuthenticator {
  private readonly valid: TtlCache<Principal | null>;
  private readonly hashOfKeyId = new Map<string, string>();

  constructor(
    private readonly db: Db,
    ttlMs = API_KEY_CACHE_MS,
  ) {
    this.valid = new TtlCache(ttlMs);
  }

  /** The tenant behind a bearer key, or UNAUTHENTICATED: unknown, malformed and revoked keys look the same. */
  async authenticate(key: string): Promise<Principal> {
    if (!isWellFormedApiKey(key)) throw new AppError("UNAUTHENTICATED", "missing or invalid API key");
    const hash = hashApiKey(key).toString("hex");
    const principal = (await this.valid.getMany([hash], (missing) => this.load(missing), null)).get(hash);
    if (!principal) {
      this.valid.invalidate(hash);
      throw new AppError("UNAUTHENTICATED", "missing or invalid API key");
    }
    return principal;
  }

  /** Forgets a key at once (it was just revoked). */
  forget(keyId: string): void {
    const hash = this.hashOfKeyId.get(keyId);
    if (hash !== undefined) this.valid.invalidate(hash);
  }

  private async load(hashes: string[]): Promise<Map<string, Principal>> {
    const { rows } = await sql<{ id: string; tenant_id: string; environment: Principal["environment"]; scopes: Scope[]; hash: string }>`
      SELECT id, tenant_id, environment, scopes, encode(key_hash, 'hex') AS hash FROM api_keys
      WHERE key_hash = ANY(${sql.val(hashes.map((h) => Buffer.from(h, "hex")))}::bytea[]) AND revoked_at IS NULL`.execute(this.db);
    for (const r of rows) this.hashOfKeyId.set(r.id, r.hash);
    return new Map(rows.map((r) => [r.hash, { tenantId: r.tenant_id, keyId: r.id, environment: r.environment, scopes: r.scopes }]));
  }
}

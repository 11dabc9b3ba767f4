import { sql, type Db } from "@custody/db";
import { decryptSecret } from "@custody/keys";
import type { DeliverySecret } from "@custody/signing";
import { TtlCache } from "@custody/cache";

/** Whose secrets sign a delivery: its endpoint's, or the tenant's callback secrets. */
export interface SecretOwner {
  tenantId: string;
  endpointId: string | null;
}

export const ownerKey = (o: SecretOwner) => `${o.tenantId}/${o.endpointId ?? ""}`;

/**
 * A rotation reaches the pipeline within this long. The previous secret stays valid for the overlap
 * (hours), so a delivery signed a moment before a rotation is seen still verifies.
 */
export const SECRET_CACHE_MS = 1_000;

/**
 * The currently valid signing secrets of delivery owners (newest first: the current one, then the
 * previous one while its overlap lasts), read in one query per batch of misses. Decrypted secrets
 * are immutable per key id, so they are decrypted once for the life of the process.
 */
export class SecretStore {
  private readonly decrypted = new Map<string, string>();
  private readonly byOwner: TtlCache<DeliverySecret[]>;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Uint8Array,
    ttlMs = SECRET_CACHE_MS,
  ) {
    this.byOwner = new TtlCache(ttlMs);
  }

  /** By ownerKey; an owner without a valid secret maps to []. */
  async validSecrets(owners: readonly SecretOwner[]): Promise<Map<string, DeliverySecret[]>> {
    const keys = owners.map(ownerKey);
    return this.byOwner.getMany(keys, (missing) => this.load(missing), []);
  }

  private async load(keys: string[]): Promise<Map<string, DeliverySecret[]>> {
    const owners = keys.map((k) => {
      const slash = k.indexOf("/");
      return { tenantId: k.slice(0, slash), endpointId: k.slice(slash + 1) };
    });
    const rows = await sql<{ key_id: string; tenant_id: string; endpoint_id: string | null; secret_enc: Buffer }>`
      SELECT s.key_id, s.tenant_id, s.endpoint_id, s.secret_enc
      FROM signing_secrets s
      JOIN unnest(${sql.val(owners.map((o) => o.tenantId))}::text[], ${sql.val(owners.map((o) => o.endpointId))}::text[]) AS o(tenant_id, endpoint_id)
        ON s.tenant_id = o.tenant_id AND coalesce(s.endpoint_id, '') = o.endpoint_id
      WHERE s.expires_at IS NULL OR s.expires_at > now()
      ORDER BY s.created_at DESC`.execute(this.db);
    const out = new Map<string, DeliverySecret[]>();
    for (const row of rows.rows) {
      let secret = this.decrypted.get(row.key_id);
      if (secret === undefined) {
        secret = decryptSecret(this.masterKey, row.secret_enc, `signing-secret:${row.key_id}`).toString("utf8");
        this.decrypted.set(row.key_id, secret);
      }
      const key = ownerKey({ tenantId: row.tenant_id, endpointId: row.endpoint_id });
      const list = out.get(key) ?? [];
      // At most the current and the previous secret sign a delivery.
      if (list.length < 2) list.push({ secret, keyId: row.key_id });
      out.set(key, list);
    }
    return out;
  }
}

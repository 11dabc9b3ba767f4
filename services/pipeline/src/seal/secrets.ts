import { sql, type Db } from "@custody/db";
import { decryptSecret } from "@custody/keys";
import type { DeliverySecret } from "@custody/signing";

/** Whose secrets sign a delivery: its endpoint's, or the tenant's callback secrets. */
export interface SecretOwner {
  tenantId: string;
  endpointId: string | null;
}

const ownerKey = (o: SecretOwner) => `${o.tenantId}/${o.endpointId ?? ""}`;

/**
 * Loads the currently valid signing secrets of many owners in one query (newest first: the current
 * one, then the previous one while its overlap lasts). Decrypted secrets are immutable per key id,
 * so they are cached for the life of the process.
 */
export class SecretStore {
  private readonly decrypted = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly masterKey: Uint8Array,
  ) {}

  async validSecrets(owners: readonly SecretOwner[], now: Date): Promise<Map<string, DeliverySecret[]>> {
    const unique = [...new Map(owners.map((o) => [ownerKey(o), o])).values()];
    const rows = await sql<{ key_id: string; tenant_id: string; endpoint_id: string | null; secret_enc: Buffer }>`
      SELECT s.key_id, s.tenant_id, s.endpoint_id, s.secret_enc
      FROM signing_secrets s
      JOIN unnest(${sql.val(unique.map((o) => o.tenantId))}::text[], ${sql.val(unique.map((o) => o.endpointId ?? ""))}::text[]) AS o(tenant_id, endpoint_id)
        ON s.tenant_id = o.tenant_id AND coalesce(s.endpoint_id, '') = o.endpoint_id
      WHERE s.expires_at IS NULL OR s.expires_at > ${now}
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

  static keyOf(owner: SecretOwner): string {
    return ownerKey(owner);
  }
}

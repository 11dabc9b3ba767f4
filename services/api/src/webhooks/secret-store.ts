import { sql, type Database, type Kysely, type Transaction } from "@custody/db";
import { AppError } from "@custody/errors";
import { encryptSecret } from "@custody/keys";
import { generateSecret, secretKeyId } from "@custody/signing";

/**
 * Endpoint signing secrets. The current secret has no `expires_at`; rotation gives the previous one
 * an expiry in the future, during which deliveries are signed with both, so a receiver can switch
 * over without dropping any. At most two secrets of an endpoint are ever valid.
 */

export interface SecretStatus {
  currentKeyId: string;
  createdAt: Date;
  previousKeyId: string | null;
  previousValidUntil: Date | null;
}

/** The associated data binds a ciphertext to its key id, so a row's secret cannot be swapped with another's. */
export function secretAad(keyId: string): string {
  return `signing-secret:${keyId}`;
}

/** Creates and stores (encrypted) a new current secret; returns it in clear, for the one response that shows it. */
export async function issueSecret(trx: Transaction<Database>, masterKey: Uint8Array, tenantId: string, endpointId: string): Promise<{ secret: string; keyId: string }> {
  const secret = generateSecret();
  const keyId = secretKeyId(secret);
  await trx
    .insertInto("signing_secrets")
    .values({
      key_id: keyId,
      tenant_id: tenantId,
      endpoint_id: endpointId,
      secret_enc: encryptSecret(masterKey, Buffer.from(secret, "utf8"), secretAad(keyId)),
      expires_at: null,
    })
    .execute();
  return { secret, keyId };
}

/** Callers hold the endpoint row locked, so two rotations cannot interleave. */
export async function rotateSecret(trx: Transaction<Database>, masterKey: Uint8Array, tenantId: string, endpointId: string, overlapHours: number): Promise<{ secret: string; keyId: string }> {
  // A secret still inside an earlier overlap ends now, or three would be valid at once.
  await expireValidPrevious(trx, tenantId, endpointId);
  await trx
    .updateTable("signing_secrets")
    .set({ expires_at: sql<Date>`now() + make_interval(hours => ${overlapHours})` })
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "=", endpointId)
    .where("expires_at", "is", null)
    .execute();
  return issueSecret(trx, masterKey, tenantId, endpointId);
}

/** Ends the overlap: the previous secret stops being valid now. A no-op when there is none. */
export async function expireValidPrevious(trx: Transaction<Database>, tenantId: string, endpointId: string): Promise<void> {
  await trx.updateTable("signing_secrets").set({ expires_at: sql<Date>`now()` }).where("tenant_id", "=", tenantId).where("endpoint_id", "=", endpointId).where(sql<boolean>`expires_at > now()`).execute();
}

export async function secretStatuses(db: Kysely<Database>, tenantId: string, endpointIds: readonly string[]): Promise<Map<string, SecretStatus>> {
  const out = new Map<string, SecretStatus>();
  if (endpointIds.length === 0) return out;
  const rows = await db
    .selectFrom("signing_secrets")
    .select(["endpoint_id", "key_id", "created_at", "expires_at"])
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "in", endpointIds)
    .where(sql<boolean>`(expires_at IS NULL OR expires_at > now())`)
    .orderBy("created_at", "desc")
    .execute();
  const previous = new Map<string, { keyId: string; validUntil: Date }>();
  for (const row of rows) {
    if (row.endpoint_id === null) continue;
    if (row.expires_at === null) {
      out.set(row.endpoint_id, { currentKeyId: row.key_id, createdAt: row.created_at, previousKeyId: null, previousValidUntil: null });
    } else if (!previous.has(row.endpoint_id)) {
      previous.set(row.endpoint_id, { keyId: row.key_id, validUntil: row.expires_at });
    }
  }
  for (const id of endpointIds) {
    const status = out.get(id);
    if (!status) throw new AppError("INTERNAL", `endpoint ${id} has no current signing secret`);
    const prev = previous.get(id);
    if (prev) Object.assign(status, { previousKeyId: prev.keyId, previousValidUntil: prev.validUntil });
  }
  return out;
}

import { sql, type Database, type Kysely } from "@custody/db";
import { encryptSecret } from "@custody/keys";
import { generateSecret, secretKeyId } from "@custody/signing";
import type { CallbackSecretStatus } from "./schemas.js";

/**
 * The tenant's callback signing secret: what one-shot `callbackUrl` deliveries are signed with. It
 * lives in `signing_secrets` with `endpoint_id` NULL. The current secret has no expiry; rotating
 * gives it one (now + the overlap), during which deliveries carry signatures of both, and a secret
 * rotated out earlier than that is expired at once, so at most two are ever valid.
 */

/** Serialises creation and rotation per tenant, so two first callbacks cannot create two secrets. */
async function lockTenantCallbackSecret(trx: Kysely<Database>, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`callback-secret:${tenantId}`}, 0))`.execute(trx);
}

function sealed(masterKey: Uint8Array, secret: string): { keyId: string; secretEnc: Buffer } {
  const keyId = secretKeyId(secret);
  // The associated data binds the ciphertext to its key id: copied onto another row it does not decrypt.
  return { keyId, secretEnc: encryptSecret(masterKey, Buffer.from(secret, "utf8"), `signing-secret:${keyId}`) };
}

export async function callbackSecretStatus(db: Kysely<Database>, tenantId: string): Promise<CallbackSecretStatus> {
  const rows = await db
    .selectFrom("signing_secrets")
    .select(["key_id", "created_at", "expires_at"])
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "is", null)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", sql<Date>`now()`)]))
    .orderBy("created_at", "desc")
    .orderBy("key_id")
    .execute();
  const current = rows.find((r) => r.expires_at === null);
  const previous = rows.find((r) => r.expires_at !== null);
  return {
    currentKeyId: current?.key_id ?? null,
    createdAt: current ? current.created_at.toISOString() : null,
    previousKeyId: previous?.key_id ?? null,
    previousValidUntil: previous?.expires_at ? previous.expires_at.toISOString() : null,
  };
}

/** Makes a new current secret; the old current one stays valid for `overlapHours`. Returns the new secret once. */
export async function rotateCallbackSecret(trx: Kysely<Database>, masterKey: Uint8Array, tenantId: string, overlapHours: number): Promise<{ secret: string } & CallbackSecretStatus> {
  await lockTenantCallbackSecret(trx, tenantId);
  // A secret still in its overlap from an earlier rotation ends now: receivers only know two.
  await trx.updateTable("signing_secrets").set({ expires_at: sql<Date>`now()` }).where("tenant_id", "=", tenantId).where("endpoint_id", "is", null).where("expires_at", ">", sql<Date>`now()`).execute();
  await trx
    .updateTable("signing_secrets")
    .set({ expires_at: sql<Date>`now() + make_interval(hours => ${overlapHours})` })
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "is", null)
    .where("expires_at", "is", null)
    .execute();
  const secret = generateSecret();
  const { keyId, secretEnc } = sealed(masterKey, secret);
  await trx.insertInto("signing_secrets").values({ key_id: keyId, tenant_id: tenantId, endpoint_id: null, secret_enc: secretEnc, expires_at: null }).execute();
  return { secret, ...(await callbackSecretStatus(trx, tenantId)) };
}

/**
 * Creates the tenant's first callback secret if it has none, inside the caller's transaction (the
 * one accepting an event with a `callbackUrl`), so a callback is never queued without a secret to
 * sign it. Its value is not returned: a tenant learns it by rotating.
 */
export async function ensureCallbackSecret(trx: Kysely<Database>, masterKey: Uint8Array, tenantId: string): Promise<void> {
  const has = async () =>
    (await trx.selectFrom("signing_secrets").select("key_id").where("tenant_id", "=", tenantId).where("endpoint_id", "is", null).where("expires_at", "is", null).limit(1).executeTakeFirst()) !== undefined;
  // Checked before locking, so accepting callbacks does not serialise a tenant once it has a secret.
  if (await has()) return;
  await lockTenantCallbackSecret(trx, tenantId);
  if (await has()) return;
  const { keyId, secretEnc } = sealed(masterKey, generateSecret());
  await trx.insertInto("signing_secrets").values({ key_id: keyId, tenant_id: tenantId, endpoint_id: null, secret_enc: secretEnc, expires_at: null }).execute();
}

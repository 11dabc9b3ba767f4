import { toHex } from "@custody/encoding";
import { randomBytes } from "node:crypto";
import { sql, type Db } from "@custody/db";
import { AppError } from "@custody/errors";
import { formatVerifierKey, signerFromSeed, verifierKeyFromPublicKey, type Signer } from "@custody/note";
import { decryptSecret, encryptSecret } from "./envelope.js";

export interface PlatformKeyInfo {
  keyId: string;
  name: string;
  /** C2SP verifier key: `name+hexid+base64(0x01||pubkey)`. */
  vkey: string;
  validFrom: Date;
  validTo: Date | null;
}

// Serialises key creation across every process that starts at once (api, proofs, pipeline).
const KEY_LOCK = 0x6b6579736b6579n;

const aad = (keyId: string) => `platform-key:${keyId}`;

/**
 * The active Ed25519 platform key named `name` (the log origin), created on first use. When the
 * origin changes, the old key is retired, not deleted: old checkpoints and custody roots still verify.
 */
export async function activePlatformSigner(db: Db, masterKey: Uint8Array, name: string): Promise<Signer> {
  const existing = await readActive(db, masterKey, name);
  if (existing) return existing;
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${KEY_LOCK.toString()}::bigint)`.execute(trx);
    const raced = await readActive(trx, masterKey, name);
    if (raced) return raced;
    return insertKey(trx, masterKey, name);
  });
}

/** Retires the active key and makes a new one. Old public keys stay published. */
export async function rotatePlatformKey(db: Db, masterKey: Uint8Array, name: string): Promise<Signer> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${KEY_LOCK.toString()}::bigint)`.execute(trx);
    return insertKey(trx, masterKey, name);
  });
}

async function insertKey(db: Db, masterKey: Uint8Array, name: string): Promise<Signer> {
  const signer = signerFromSeed(name, randomBytes(32));
  const keyId = toHex(signer.keyId);
  await db.updateTable("platform_keys").set({ retired_at: new Date() }).where("retired_at", "is", null).execute();
  await db
    .insertInto("platform_keys")
    .values({ key_id: keyId, name, public_key: Buffer.from(signer.publicKey), private_key_enc: encryptSecret(masterKey, signer.seed, aad(keyId)), retired_at: null })
    .execute();
  return signer;
}

async function readActive(db: Db, masterKey: Uint8Array, name: string): Promise<Signer | undefined> {
  const row = await db.selectFrom("platform_keys").selectAll().where("retired_at", "is", null).executeTakeFirst();
  if (!row || row.name !== name) return undefined;
  const signer = signerFromSeed(name, decryptSecret(masterKey, row.private_key_enc, aad(row.key_id)));
  if (toHex(signer.keyId) !== row.key_id || !Buffer.from(signer.publicKey).equals(row.public_key)) {
    throw new AppError("KEY_DECRYPTION_FAILED", `platform key ${row.key_id} does not match its stored public key`);
  }
  return signer;
}

/** Every platform public key ever used, oldest first, so any old proof can still be checked. */
export async function listPlatformKeys(db: Db): Promise<PlatformKeyInfo[]> {
  const rows = await db.selectFrom("platform_keys").select(["key_id", "name", "public_key", "created_at", "retired_at"]).orderBy("created_at").execute();
  return rows.map((r) => ({
    keyId: r.key_id,
    name: r.name,
    vkey: formatVerifierKey(verifierKeyFromPublicKey(r.name, new Uint8Array(r.public_key))),
    validFrom: r.created_at,
    validTo: r.retired_at,
  }));
}

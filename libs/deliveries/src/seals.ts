import { hopsToBytes, packLeafHashes, type SealResult } from "@custody/custody";
import { sql, type Database, type Kysely } from "@custody/db";
import { sealEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { fromHex, toHex } from "@custody/merkle";

/**
 * Stores a sealed batch inside the caller's transaction: its `seal` ledger entry, the batch row (note
 * and leaf hashes, from which every member's path is recomputed) and one attempt_seals row per
 * attempt with what its custody record and headers are rebuilt from. The caller moves the
 * deliveries in the same transaction, so a seal exists exactly when its attempt was begun.
 */
export async function recordSeal(trx: Kysely<Database>, seal: SealResult, targetUrlOf: (deliveryId: string) => string): Promise<{ batchId: string; entryId: string }> {
  const [entry] = await appendEntries(trx, [{ tenantId: null, document: sealEntry({ batchRoot: toHex(seal.root), size: seal.size, keyId: seal.keyId }) }]);
  const { rows } = await sql<{ id: string }>`
    INSERT INTO custody_batches (size, root, note, key_id, leaves, entry_id)
    VALUES (${seal.size}, ${Buffer.from(seal.root)}, ${seal.note}, ${seal.keyId}, ${Buffer.from(packLeafHashes(seal.leafHashes))}, ${entry!.id})
    RETURNING id`.execute(trx);
  const batchId = rows[0]!.id;
  const s = seal.sealed;
  const col = <T>(f: (x: (typeof s)[number]) => T) => sql.val(s.map(f));
  await sql`
    INSERT INTO attempt_seals (delivery_id, attempt_no, batch_id, batch_index, hops, sealed_at, previous, webhook_signature, custody_signature, key_ids, target_url)
    SELECT u.delivery_id, u.attempt_no, ${batchId}::bigint, u.batch_index, u.hops, ${sealedAtOf(seal)}::bigint, u.previous, u.webhook_signature,
           u.custody_signature, string_to_array(u.key_ids, ' '), u.target_url
    FROM unnest(
      ${col((x) => x.attempt.delivery)}::text[], ${col((x) => x.attempt.attempt)}::int[], ${col((x) => x.index)}::int[],
      ${col((x) => Buffer.from(hopsToBytes(x.hops)))}::bytea[],
      ${col((x) => (x.attempt.previous === null ? null : Buffer.from(fromHex(x.attempt.previous))))}::bytea[],
      ${col((x) => x.headers["webhook-signature"]!)}::text[], ${col((x) => x.headers["x-custody-signature"]!)}::text[],
      ${col((x) => x.attempt.secrets.map((k) => k.keyId).join(" "))}::text[], ${col((x) => targetUrlOf(x.attempt.delivery))}::text[]
    ) AS u(delivery_id, attempt_no, batch_index, hops, previous, webhook_signature, custody_signature, key_ids, target_url)`.execute(trx);
  return { batchId, entryId: entry!.id };
}

function sealedAtOf(seal: SealResult): number {
  return Number(seal.sealed[0]!.headers["webhook-timestamp"]);
}

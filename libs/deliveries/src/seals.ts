import { hopsToBytes, packLeafHashes, type SealResult } from "@custody/custody";
import { columnsOf, sql, writeAtomically, type Database, type Kysely, type WritePart } from "@custody/db";
import { sealEntry } from "@custody/ledger";
import { entryInsert } from "@custody/ledger-store";
import { fromHex, toHex } from "@custody/encoding";
import { packSignatures } from "@custody/signing";
import { deliveriesInsert, type NewDelivery } from "./create.js";

/**
 * Stores sealed batches in one statement: each one's `seal` ledger entry, the batch row (note and leaf
 * hashes, from which every member's path is recomputed) and one attempt_seals row per attempt with
 * what its custody record and headers are rebuilt from. The caller moves the deliveries in the same
 * transaction, so a seal exists exactly when its attempt was begun.
 */
export async function recordSeals(db: Kysely<Database>, seals: readonly SealResult[], targetUrlOf: (deliveryId: string) => string): Promise<void> {
  await writeAtomically(
    db,
    seals.flatMap((seal, i) => sealParts(seal, i, targetUrlOf)),
  );
}

/**
 * Fan-out's write: new deliveries and the seals of their first attempts, in one statement. A delivery
 * another process made meanwhile throws WriteConflict with nothing written (that process owns it;
 * the redelivery of the event finds it).
 */
export async function createSealedDeliveries(db: Kysely<Database>, deliveries: readonly NewDelivery[], seals: readonly SealResult[]): Promise<void> {
  if (deliveries.length === 0) return;
  const urls = new Map(deliveries.map((d) => [d.id, d.targetUrl]));
  await writeAtomically(db, [{ name: "made", sql: deliveriesInsert(deliveries), expect: { rows: deliveries.length, what: "new deliveries" } }, ...seals.flatMap((seal, i) => sealParts(seal, i, (id) => urls.get(id)!))]);
}

function sealParts(seal: SealResult, n: number, targetUrlOf: (deliveryId: string) => string): WritePart[] {
  const { appended, insert } = entryInsert([{ tenantId: null, document: sealEntry({ batchRoot: toHex(seal.root), size: seal.size, keyId: seal.keyId }) }]);
  const s = seal.sealed;
  const col = columnsOf(s);
  return [
    { name: `seal_entry_${n}`, sql: insert },
    {
      name: `seal_batch_${n}`,
      sql: sql`
        INSERT INTO custody_batches (size, root, note, key_id, leaves, entry_id)
        VALUES (${seal.size}, ${Buffer.from(seal.root)}, ${seal.note}, ${seal.keyId}, ${Buffer.from(packLeafHashes(seal.leafHashes))}, ${appended[0]!.id})
        RETURNING id`,
    },
    {
      name: `seal_attempts_${n}`,
      sql: sql`
        INSERT INTO attempt_seals (delivery_id, attempt_no, batch_id, batch_index, hops, sealed_at, previous, signatures, key_ids, target_url)
        SELECT u.delivery_id, u.attempt_no, (SELECT id FROM ${sql.raw(`seal_batch_${n}`)}), u.batch_index, u.hops, ${sealedAtOf(seal)}::bigint, u.previous,
               u.signatures, u.key_ids, u.target_url
        FROM unnest(
          ${col("text", (x) => x.attempt.delivery)}, ${col("int4", (x) => x.attempt.attempt)}, ${col("int4", (x) => x.index)},
          ${col("bytea", (x) => hopsToBytes(x.hops))},
          ${col("bytea", (x) => (x.attempt.previous === null ? null : fromHex(x.attempt.previous)))},
          ${col("bytea", (x) => packSignatures({ "webhook-signature": x.headers["webhook-signature"]!, "x-custody-signature": x.headers["x-custody-signature"]! }))},
          ${col("text", (x) => x.attempt.secrets.map((k) => k.keyId).join(" "))}, ${col("text", (x) => targetUrlOf(x.attempt.delivery))}
        ) AS u(delivery_id, attempt_no, batch_index, hops, previous, signatures, key_ids, target_url)`,
    },
  ];
}

function sealedAtOf(seal: SealResult): number {
  return Number(seal.sealed[0]!.headers["webhook-timestamp"]);
}

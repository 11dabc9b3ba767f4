import { hopsToBytes, packLeafHashes, type SealResult } from "@custody/custody";
import { columnParams, fixedAtomicWrite, sql, writeAtomically, type ArrayElementType, type Database, type Kysely, type RawBuilder, type WritePart } from "@custody/db";
import { sealEntry } from "@custody/ledger";
import { entriesInsertSql, entryColumns, entryRows, type EntryColumn } from "@custody/ledger-store";
import { fromHex, toHex } from "@custody/encoding";
import { packSignatures } from "@custody/signing";
import { deliveriesInsert, deliveriesInsertSql, deliveryColumns, type DeliveryColumn, type NewDelivery } from "./create.js";

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
 * the redelivery of the event finds it). With one seal, as a dispatch batch has, the statement is a
 * fixed one (`fixedAtomicWrite`).
 */
export async function createSealedDeliveries(db: Kysely<Database>, deliveries: readonly NewDelivery[], seals: readonly SealResult[]): Promise<void> {
  if (deliveries.length === 0) return;
  const urls = new Map(deliveries.map((d) => [d.id, d.targetUrl]));
  const targetUrlOf = (id: string) => urls.get(id)!;
  if (seals.length !== 1) {
    await writeAtomically(db, [{ name: "made", sql: deliveriesInsert(deliveries), expect: { rows: deliveries.length, what: "new deliveries" } }, ...seals.flatMap((seal, i) => sealParts(seal, i, targetUrlOf))]);
    return;
  }
  const seal = sealValues(seals[0]!, targetUrlOf);
  await writeSealedDeliveries(db, { delivery: deliveryColumns(deliveries), entry: seal.entry, attempts: seal.attempts, batch: seal.batch, count: deliveries.length });
}

const writeSealedDeliveries = fixedAtomicWrite<SealedValues & { delivery: Record<DeliveryColumn, unknown[]>; count: number }>((slot) => [
  { name: "made", sql: deliveriesInsertSql((c, type) => slot.array("delivery", c, type)), expect: { rows: slot.value("count"), what: "new deliveries" } },
  ...sealPartsSql(0, {
    entry: (c, type) => slot.array("entry", c, type),
    attempt: (c, type) => slot.array("attempts", c, type),
    batch: (v) => slot.value("batch", v),
  }),
]);

/** The columns of attempt_seals rows, each with its array parameter's type. */
const SEAL_COLUMNS = {
  delivery: "text",
  attemptNo: "int4",
  batchIndex: "int4",
  hops: "bytea",
  previous: "bytea",
  signatures: "bytea",
  keyIds: "text",
  targetUrl: "text",
} as const satisfies Record<string, ArrayElementType>;
type SealColumn = keyof typeof SEAL_COLUMNS;
/** The batch's single values. */
type SealValue = "size" | "root" | "note" | "keyId" | "leaves" | "entryId" | "sealedAt";

interface SealSlots {
  entry(column: EntryColumn, type: ArrayElementType): RawBuilder<unknown>;
  attempt(column: SealColumn, type: ArrayElementType): RawBuilder<unknown>;
  batch(value: SealValue): RawBuilder<unknown>;
}

/** A seal's values: its ledger entry's columns, its attempts' columns and its batch's single values. */
interface SealedValues {
  entry: Record<EntryColumn, unknown[]>;
  attempts: Record<SealColumn, unknown[]>;
  batch: Record<SealValue, unknown>;
}

function sealValues(seal: SealResult, targetUrlOf: (deliveryId: string) => string): SealedValues {
  const entries = [{ tenantId: null, document: sealEntry({ batchRoot: toHex(seal.root), size: seal.size, keyId: seal.keyId }) }];
  const appended = entryRows(entries);
  const s = seal.sealed;
  return {
    entry: entryColumns(entries, appended),
    attempts: {
      delivery: s.map((x) => x.attempt.delivery),
      attemptNo: s.map((x) => x.attempt.attempt),
      batchIndex: s.map((x) => x.index),
      hops: s.map((x) => hopsToBytes(x.hops)),
      previous: s.map((x) => (x.attempt.previous === null ? null : fromHex(x.attempt.previous))),
      signatures: s.map((x) => packSignatures({ "webhook-signature": x.headers["webhook-signature"]!, "x-custody-signature": x.headers["x-custody-signature"]! })),
      keyIds: s.map((x) => x.attempt.secrets.map((k) => k.keyId).join(" ")),
      targetUrl: s.map((x) => targetUrlOf(x.attempt.delivery)),
    },
    batch: {
      size: seal.size,
      root: Buffer.from(seal.root),
      note: seal.note,
      keyId: seal.keyId,
      leaves: Buffer.from(packLeafHashes(seal.leafHashes)),
      entryId: appended[0]!.id,
      sealedAt: sealedAtOf(seal),
    },
  };
}

function sealParts(seal: SealResult, n: number, targetUrlOf: (deliveryId: string) => string): WritePart[] {
  const v = sealValues(seal, targetUrlOf);
  return sealPartsSql(n, {
    entry: columnParams(v.entry),
    attempt: columnParams(v.attempts),
    batch: (name) => sql`${v.batch[name]}`,
  });
}

/** The seal's parts of a statement (its `seal` entry, its batch row, its attempt_seals rows), their values from `slots`. */
function sealPartsSql(n: number, slots: SealSlots): WritePart[] {
  const a = (c: SealColumn) => slots.attempt(c, SEAL_COLUMNS[c]);
  const b = slots.batch;
  return [
    { name: `seal_entry_${n}`, sql: entriesInsertSql(slots.entry) },
    {
      name: `seal_batch_${n}`,
      sql: sql`
        INSERT INTO custody_batches (size, root, note, key_id, leaves, entry_id)
        VALUES (${b("size")}, ${b("root")}, ${b("note")}, ${b("keyId")}, ${b("leaves")}, ${b("entryId")})
        RETURNING id`,
    },
    {
      name: `seal_attempts_${n}`,
      sql: sql`
        INSERT INTO attempt_seals (delivery_id, attempt_no, batch_id, batch_index, hops, sealed_at, previous, signatures, key_ids, target_url)
        SELECT u.delivery_id, u.attempt_no, (SELECT id FROM ${sql.raw(`seal_batch_${n}`)}), u.batch_index, u.hops, ${b("sealedAt")}::bigint, u.previous,
               u.signatures, u.key_ids, u.target_url
        FROM unnest(
          ${a("delivery")}, ${a("attemptNo")}, ${a("batchIndex")}, ${a("hops")}, ${a("previous")}, ${a("signatures")}, ${a("keyIds")}, ${a("targetUrl")}
        ) AS u(delivery_id, attempt_no, batch_index, hops, previous, signatures, key_ids, target_url)`,
    },
  ];
}

function sealedAtOf(seal: SealResult): number {
  return Number(seal.sealed[0]!.headers["webhook-timestamp"]);
}

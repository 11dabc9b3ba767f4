import { sql, type Database, type Db, type Kysely } from "@custody/db";

export interface ReceiptRow {
  id: string;
  delivery_id: string;
  event_id: string;
  statement: Buffer;
  signature: Buffer;
  received_at: Date;
  source: "response" | "api";
  entry_id: string;
  created_at: Date;
  cursor_at: string;
}

function selectReceipts(db: Db, tenantId: string) {
  return db
    .selectFrom("receipts as r")
    .innerJoin("deliveries as d", "d.id", "r.delivery_id")
    .select(["r.id", "r.delivery_id", "d.event_id", "r.statement", "r.signature", "r.received_at", "r.source", "r.entry_id", "r.created_at"])
    .select(sql<string>`to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as("cursor_at"))
    .where("r.tenant_id", "=", tenantId);
}

export function findReceipt(db: Db, tenantId: string, id: string): Promise<ReceiptRow | undefined> {
  return selectReceipts(db, tenantId).where("r.id", "=", id).executeTakeFirst();
}

/** A page of the tenant's receipts, oldest first; `after` is the previous page's last `[cursor_at, id]`. */
export function listReceipts(db: Db, tenantId: string, query: { limit: number; after: readonly string[] | undefined; deliveryId: string | undefined }): Promise<ReceiptRow[]> {
  let q = selectReceipts(db, tenantId)
    .orderBy("r.created_at")
    .orderBy("r.id")
    .limit(query.limit + 1);
  if (query.deliveryId !== undefined) q = q.where("r.delivery_id", "=", query.deliveryId);
  if (query.after) q = q.where(sql<boolean>`(r.created_at, r.id) > (${query.after[0]}::timestamptz, ${query.after[1]})`);
  return q.execute();
}

export interface ReceiptTarget {
  id: string;
  event_id: string;
  status: string;
  counter_signed_receipts: boolean | null;
  receipt_public_key: Buffer | null;
  body_sha256: Buffer | null;
}

/**
 * The delivery a receipt is for, locked until the caller's transaction ends, with what the receipt
 * must say was received: the delivered attempt's `prepared` hop (format 2 seals keep the four hops
 * as 128 bytes), or the SHA-256 of a format 1 delivery's stored body.
 */
export async function lockReceiptTarget(trx: Kysely<Database>, tenantId: string, deliveryId: string): Promise<ReceiptTarget | undefined> {
  return (
    await sql<ReceiptTarget>`
      SELECT d.id, d.event_id, d.status, e.counter_signed_receipts, e.receipt_public_key,
             coalesce(substring(s.hops FROM 65 FOR 32), sha256(b.body)) AS body_sha256
      FROM deliveries d
      LEFT JOIN endpoints e ON e.id = d.endpoint_id
      LEFT JOIN attempt_seals s ON s.delivery_id = d.id AND s.attempt_no = d.attempts
      LEFT JOIN delivery_bodies b ON b.delivery_id = d.id
      WHERE d.tenant_id = ${tenantId} AND d.id = ${deliveryId}
      FOR NO KEY UPDATE OF d`.execute(trx)
  ).rows[0];
}

/** The receipt a delivery already has, if any: a delivery keeps its first. */
export function receiptOf(trx: Kysely<Database>, deliveryId: string) {
  return trx.selectFrom("receipts").select(["id", "statement", "signature"]).where("delivery_id", "=", deliveryId).executeTakeFirst();
}

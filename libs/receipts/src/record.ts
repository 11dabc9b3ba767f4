import { encodeBase64, toHex } from "@custody/encoding";
import { newId, type Database, type Kysely } from "@custody/db";
import { receiptEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import { verifyReceipt, type ReceiptStatement } from "@custody/custody";

export interface ReceiptClaim {
  tenantId: string;
  deliveryId: string;
  eventId: string;
  /** hex SHA-256 of the body the delivery sent: what the receipt must say it received */
  bodySha256: string;
  /** the endpoint's registered Ed25519 receipt key */
  publicKey: Uint8Array;
  statement: Uint8Array;
  signature: Uint8Array;
  source: "response" | "api";
}

export interface RecordedReceipt {
  id: string;
  deliveryId: string;
  entryId: string;
  statement: ReceiptStatement;
}

/** Verifies a receipt (throws ReceiptError, having changed nothing) before anything is written. */
export function checkReceipt(claim: ReceiptClaim): ReceiptStatement {
  return verifyReceipt({
    statement: claim.statement,
    signature: claim.signature,
    publicKey: claim.publicKey,
    expected: { delivery: claim.deliveryId, event: claim.eventId, bodySha256: claim.bodySha256 },
  });
}

/**
 * Records verified receipts inside the caller's transaction: a `receipt` ledger entry each (the
 * delivery's `receipt` hop) and the receipts rows. A delivery keeps its first receipt: later ones
 * are skipped (ON CONFLICT on delivery_id), so callers check `recorded` for what was new.
 */
export async function recordReceipts(trx: Kysely<Database>, receipts: ReadonlyArray<{ claim: ReceiptClaim; statement: ReceiptStatement }>): Promise<RecordedReceipt[]> {
  if (receipts.length === 0) return [];
  const existing = new Set(
    (
      await trx
        .selectFrom("receipts")
        .select("delivery_id")
        .where(
          "delivery_id",
          "in",
          receipts.map((r) => r.claim.deliveryId),
        )
        .execute()
    ).map((r) => r.delivery_id),
  );
  const fresh = receipts.filter((r, i) => !existing.has(r.claim.deliveryId) && receipts.findIndex((o) => o.claim.deliveryId === r.claim.deliveryId) === i);
  if (fresh.length === 0) return [];
  const entries = await appendEntries(
    trx,
    fresh.map(({ claim }) => ({
      tenantId: claim.tenantId,
      document: receiptEntry({
        tenantId: claim.tenantId,
        deliveryId: claim.deliveryId,
        eventId: claim.eventId,
        statement: encodeBase64(claim.statement),
        signature: encodeBase64(claim.signature),
        publicKey: toHex(claim.publicKey),
      }),
    })),
  );
  const rows = fresh.map(({ claim, statement }, i) => ({
    id: newId("rcp"),
    tenant_id: claim.tenantId,
    delivery_id: claim.deliveryId,
    statement: Buffer.from(claim.statement),
    signature: Buffer.from(claim.signature),
    received_at: new Date(statement.receivedAt),
    source: claim.source,
    entry_id: entries[i]!.id,
  }));
  await trx.insertInto("receipts").values(rows).execute();
  return rows.map((r, i) => ({ id: r.id, deliveryId: r.delivery_id, entryId: r.entry_id, statement: fresh[i]!.statement }));
}

/** A receipt returned in an endpoint's 2xx body: `{"receipt": {"statement": base64, "signature": base64}}`. */
export function receiptFromResponse(excerpt: string | null): { statement: Uint8Array; signature: Uint8Array } | null {
  if (excerpt === null || !excerpt.includes('"receipt"')) return null;
  try {
    const parsed = JSON.parse(excerpt) as { receipt?: { statement?: unknown; signature?: unknown } };
    const { statement, signature } = parsed.receipt ?? {};
    if (typeof statement !== "string" || typeof signature !== "string") return null;
    return { statement: Buffer.from(statement, "base64"), signature: Buffer.from(signature, "base64") };
  } catch {
    return null;
  }
}

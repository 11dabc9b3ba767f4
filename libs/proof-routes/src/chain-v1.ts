import { parseCustodyHeaders, type ChainOfCustody, type DeliveryProof } from "@custody/custody";
import { sql, type Db } from "@custody/db";
import { toHex } from "@custody/encoding";
import { onlyEndpoints, type EventHead } from "./chain.js";
import { latestCheckpoint } from "./ledger-reads.js";
import { provenEntries } from "./proven.js";

interface DeliveryRow {
  id: string;
  endpoint_id: string | null;
  status: string;
  idempotency_key: string;
  replay_id: string | null;
  shape: "thin" | "fat" | null;
  removed: Array<{ path: string; salt: string; commitment: string }> | null;
}

interface SealRow {
  delivery_id: string;
  attempt_no: number;
  hops: Record<"ingested" | "redacted" | "prepared" | "signed", string>;
  custody_root: Buffer;
  headers: Record<string, string>;
  batch_index: number;
  custody_entry_id: string;
  note: string;
}

/**
 * Assembles the format 1 chain-of-custody document of one event delivered before format 2 (FORMAT.md
 * Appendix A), from the format 1 evidence tables: its ledger entry,
 * every delivery's redaction record and sealed attempts, their custody, outcome and receipt entries,
 * and inclusion proofs of all of them under the latest checkpoint — a fixed number of queries
 * whatever the number of deliveries.
 */
export async function chainOfCustodyV1(db: Db, tenantId: string, event: EventHead, origin: string, endpointIds?: readonly string[]): Promise<ChainOfCustody> {
  const eventId = event.id;
  const checkpoint = await latestCheckpoint(db);

  const deliveries = (
    await sql<DeliveryRow>`
      SELECT d.id, d.endpoint_id, d.status, d.idempotency_key, d.replay_id, b.shape, b.removed
      FROM deliveries d LEFT JOIN delivery_bodies b ON b.delivery_id = d.id
      WHERE d.tenant_id = ${tenantId} AND d.event_id = ${eventId} ${onlyEndpoints(endpointIds)}
        AND EXISTS (SELECT 1 FROM delivery_seals s WHERE s.delivery_id = d.id)
      ORDER BY d.created_at, d.id`.execute(db)
  ).rows;
  const ids = deliveries.map((d) => d.id);
  const seals =
    ids.length === 0
      ? []
      : (
          await sql<SealRow>`
      SELECT s.delivery_id, s.attempt_no, s.hops, s.custody_root, s.headers, s.batch_index, s.custody_entry_id, b.note
      FROM delivery_seals s JOIN seal_batches b ON b.id = s.seal_batch_id
      WHERE s.delivery_id = ANY(${sql.val(ids)}::text[])
      ORDER BY s.delivery_id, s.attempt_no`.execute(db)
        ).rows;
  const outcomes = ids.length === 0 ? [] : await db.selectFrom("delivery_attempts").select(["delivery_id", "attempt_no", "attempt_entry_id"]).where("delivery_id", "in", ids).execute();
  const receipts = ids.length === 0 ? [] : await db.selectFrom("receipts").select(["delivery_id", "entry_id"]).where("delivery_id", "in", ids).execute();
  const recall = await db.selectFrom("recalls").select("entry_id").where("tenant_id", "=", tenantId).where("event_id", "=", eventId).executeTakeFirst();

  const proven = await provenEntries(
    db,
    [event.entryId, ...seals.map((s) => s.custody_entry_id), ...outcomes.map((o) => o.attempt_entry_id), ...receipts.map((r) => r.entry_id), ...(recall ? [recall.entry_id] : [])],
    checkpoint.treeSize,
  );
  const outcomeOf = new Map(outcomes.map((o) => [`${o.delivery_id}/${o.attempt_no}`, o.attempt_entry_id]));
  const receiptOf = new Map(receipts.map((r) => [r.delivery_id, r.entry_id]));

  return {
    format: "custody-chain/v1",
    origin,
    checkpoint: checkpoint.note,
    event: { id: event.id, type: event.type, ledger: proven.get(event.entryId)! },
    recall: recall ? proven.get(recall.entry_id)! : null,
    deliveries: deliveries.map(
      (d): DeliveryProof => ({
        id: d.id,
        target: d.endpoint_id === null ? { callback: true } : { endpoint: d.endpoint_id },
        status: d.status,
        idempotencyKey: d.idempotency_key,
        replayOf: d.replay_id,
        redaction: { shape: d.shape ?? "thin", removed: d.removed ?? [] },
        attempts: seals
          .filter((s) => s.delivery_id === d.id)
          .map((s) => {
            const outcome = outcomeOf.get(`${d.id}/${s.attempt_no}`);
            return {
              attempt: s.attempt_no,
              hops: s.hops,
              root: toHex(s.custody_root),
              seal: { note: s.note, index: s.batch_index, path: parseCustodyHeaders(s.headers).seal.path.map(toHex) },
              headers: s.headers,
              custody: proven.get(s.custody_entry_id)!,
              outcome: outcome === undefined ? null : proven.get(outcome)!,
            };
          }),
        receipt: receiptOf.has(d.id) ? proven.get(receiptOf.get(d.id)!)! : null,
      }),
    ),
  };
}

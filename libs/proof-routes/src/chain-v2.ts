import type { ChainOfCustodyV2, DeliveryProofV2 } from "@custody/custody";
import { sql, type Db, type DeliveryStatus, type PayloadShape } from "@custody/db";
import { outcomeKey, outcomesOf, sealsOf, type RemovedField } from "@custody/deliveries";
import { encodeBase64 } from "@custody/encoding";
import { onlyEndpoints, type EventHead } from "./chain.js";
import { latestCheckpoint } from "./ledger-reads.js";
import { provenEntries } from "./proven.js";

interface DeliveryRow {
  id: string;
  endpoint_id: string | null;
  status: DeliveryStatus;
  idempotency_key: string;
  replay_id: string | null;
  replay_of: string | null;
  shape: PayloadShape | null;
  removed: RemovedField[] | null;
}

/**
 * Assembles the format 2 chain-of-custody document of one event (proofs/FORMAT.md §13): its ledger
 * entry, every delivery's redaction record and sealed attempts with their custody records, seals
 * and outcome records, the batch entries and receipts with inclusion proofs under one signed
 * checkpoint — a fixed number of queries, whatever the number of deliveries.
 */
export async function chainOfCustodyV2(db: Db, tenantId: string, event: EventHead, origin: string, endpointIds?: readonly string[]): Promise<ChainOfCustodyV2> {
  const checkpoint = await latestCheckpoint(db);
  const deliveries = (
    await sql<DeliveryRow>`
      SELECT d.id, d.endpoint_id, d.status, d.idempotency_key, d.replay_id, d.replay_of, d.shape, d.removed
      FROM deliveries d
      WHERE d.tenant_id = ${tenantId} AND d.event_id = ${event.id} ${onlyEndpoints(endpointIds)}
        AND NOT EXISTS (SELECT 1 FROM delivery_seals s WHERE s.delivery_id = d.id)
      ORDER BY d.created_at, d.id`.execute(db)
  ).rows;
  const ids = deliveries.map((d) => d.id);
  const seals = await sealsOf(db, ids);
  const outcomes = await outcomesOf(db, seals);
  const receipts = ids.length === 0 ? [] : await db.selectFrom("receipts").select(["delivery_id", "entry_id"]).where("delivery_id", "in", ids).execute();
  const recall = await db.selectFrom("recalls").select("entry_id").where("tenant_id", "=", tenantId).where("event_id", "=", event.id).executeTakeFirst();
  const proven = await provenEntries(
    db,
    [event.entryId, ...seals.map((s) => s.seal.entryId), ...[...outcomes.values()].map((o) => o.entryId), ...receipts.map((r) => r.entry_id), ...(recall ? [recall.entry_id] : [])],
    checkpoint.treeSize,
  );
  const receiptOf = new Map(receipts.map((r) => [r.delivery_id, r.entry_id]));

  return {
    format: "custody-chain/v2",
    origin,
    checkpoint: checkpoint.note,
    event: { id: event.id, type: event.type, ledger: proven.get(event.entryId)! },
    recall: recall ? proven.get(recall.entry_id)! : null,
    deliveries: deliveries.map(
      (d): DeliveryProofV2 => ({
        id: d.id,
        target: d.endpoint_id === null ? { callback: true } : { endpoint: d.endpoint_id },
        status: d.status,
        idempotencyKey: d.idempotency_key,
        replayOf: d.replay_of,
        replay: d.replay_id,
        redaction: { shape: d.shape ?? "thin", removed: d.removed ?? [] },
        attempts: seals
          .filter((s) => s.deliveryId === d.id)
          .map((s) => {
            const outcome = outcomes.get(outcomeKey(s.deliveryId, s.attemptNo));
            return {
              attempt: s.attemptNo,
              record: encodeBase64(s.record),
              seal: { note: s.seal.note, index: s.seal.index, path: s.seal.path, entry: proven.get(s.seal.entryId)! },
              headers: s.headers,
              outcome: outcome === undefined ? null : { record: encodeBase64(outcome.record), index: outcome.index, path: outcome.path, entry: proven.get(outcome.entryId)! },
            };
          }),
        receipt: receiptOf.has(d.id) ? proven.get(receiptOf.get(d.id)!)! : null,
      }),
    ),
  };
}

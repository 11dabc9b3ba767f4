import { batchFromLeafHashes, hopsFromBytes, rebuildSealedAttempt, unpackLeafHashes, type DeliveryTarget, type StoredSeal } from "@custody/custody";
import { sql, type Database, type Kysely } from "@custody/db";
import { attemptKeysTable } from "./attempt-keys.js";
import { toHex } from "@custody/encoding";
import { unpackSignatures } from "@custody/signing";

export interface SealedAttemptKey {
  deliveryId: string;
  attemptNo: number;
}

/** A sealed attempt as stored, with everything it sent rebuilt (libs/custody rebuildSealedAttempt). */
export interface LoadedSeal {
  tenantId: string;
  deliveryId: string;
  attemptNo: number;
  eventId: string;
  endpointId: string | null;
  targetUrl: string;
  record: Uint8Array;
  /** Hex custody root. */
  root: string;
  headers: Record<string, string>;
  keyIds: string[];
  seal: { note: string; index: number; path: string[]; entryId: string };
}

interface Row {
  delivery_id: string;
  attempt_no: number;
  tenant_id: string;
  event_id: string;
  type: string;
  endpoint_id: string | null;
  idempotency_key: string;
  target_url: string;
  hops: Buffer;
  sealed_at: string;
  previous: Buffer | null;
  signatures: Buffer;
  key_ids: string;
  batch_index: number;
  note: string;
  size: number;
  leaves: Buffer;
  entry_id: string;
}

/** Loads sealed attempts (format 2) and rebuilds their records and headers. Missing keys are absent from the result. */
export async function loadSeals(db: Kysely<Database>, keys: readonly SealedAttemptKey[]): Promise<LoadedSeal[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql<Row>`
    SELECT s.delivery_id, s.attempt_no, d.tenant_id, d.event_id, e.type, d.endpoint_id, d.idempotency_key, s.target_url, s.hops, s.sealed_at,
           s.previous, s.signatures, s.key_ids, s.batch_index, b.note, b.size, b.leaves, b.entry_id
    FROM ${attemptKeysTable(keys)}
    JOIN attempt_seals s ON s.delivery_id = k.delivery_id AND s.attempt_no = k.attempt_no
    JOIN deliveries d ON d.id = s.delivery_id
    JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
    JOIN custody_batches b ON b.id = s.batch_id
    ORDER BY s.delivery_id, s.attempt_no`.execute(db);
  const batches = new Map<string, ReturnType<typeof batchFromLeafHashes>>();
  return rows.map((r) => {
    const batchKey = r.entry_id;
    let batch = batches.get(batchKey);
    if (batch === undefined) {
      batch = batchFromLeafHashes(unpackLeafHashes(r.leaves));
      batches.set(batchKey, batch);
    }
    const signer = signerOf(r.note);
    const target: DeliveryTarget = r.endpoint_id === null ? { callback: true } : { endpoint: r.endpoint_id };
    const path = batch.pathOf(r.batch_index);
    const signatures = unpackSignatures(r.signatures);
    const keyIds = r.key_ids.split(" ");
    const stored: StoredSeal = {
      tenant: r.tenant_id,
      delivery: r.delivery_id,
      event: r.event_id,
      eventType: r.type,
      attempt: r.attempt_no,
      target,
      idempotencyKey: r.idempotency_key,
      sealedAt: Number(r.sealed_at),
      previous: r.previous === null ? null : toHex(r.previous),
      hops: hopsFromBytes(r.hops),
      webhookSignature: signatures["webhook-signature"],
      custodySignature: signatures["x-custody-signature"],
      keyIds,
      note: r.note,
      signer,
      index: r.batch_index,
      size: r.size,
      path,
    };
    const rebuilt = rebuildSealedAttempt(stored);
    return {
      tenantId: r.tenant_id,
      deliveryId: r.delivery_id,
      attemptNo: r.attempt_no,
      eventId: r.event_id,
      endpointId: r.endpoint_id,
      targetUrl: r.target_url,
      record: rebuilt.record,
      root: toHex(rebuilt.root),
      headers: rebuilt.headers,
      keyIds,
      seal: { note: r.note, index: r.batch_index, path: path.map(toHex), entryId: r.entry_id },
    };
  });
}

/** The seal note's origin line is `<signer>/seal`. */
function signerOf(note: string): string {
  const origin = note.slice(0, note.indexOf("\n"));
  if (!origin.endsWith("/seal")) throw new Error(`stored seal note has origin ${origin}, not <signer>/seal`);
  return origin.slice(0, -"/seal".length);
}

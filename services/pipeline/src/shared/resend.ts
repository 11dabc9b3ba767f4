import { sha256 } from "@custody/crypto";
import { parseCustodyRecord } from "@custody/custody";
import { sql, type Db, type PayloadShape } from "@custody/db";
import { loadSeals, type RemovedField, type SealedAttemptKey } from "@custody/deliveries";
import { toHex } from "@custody/encoding";
import type { ReadyAttempt } from "../deliver/deliverer.js";
import { eventForBody, rebuildBody } from "../dispatch/body.js";
import { eventKey, loadEvents } from "./events.js";

export interface Resendable {
  ready: ReadyAttempt[];
  /** Sealed attempts that cannot be sent again: their event's payload was erased meanwhile. */
  erased: ReadyAttempt[];
}

/**
 * Sealed attempts whose sender is gone (a crash, a lost message), rebuilt to be sent again exactly
 * as sealed: the same headers, and a body rebuilt from the event and the delivery's redaction record
 * — checked against the sealed `prepared` hop, so a resend can never carry other bytes.
 */
export async function loadResendable(db: Db, keys: readonly SealedAttemptKey[]): Promise<Resendable> {
  const seals = await loadSeals(db, keys);
  if (seals.length === 0) return { ready: [], erased: [] };
  const { rows } = await sql<{ id: string; shape: PayloadShape | null; removed: RemovedField[] | null; first_attempt_at: Date | null; last_delay_ms: string | null }>`
    SELECT id, shape, removed, first_attempt_at, last_delay_ms FROM deliveries WHERE id = ANY(${sql.val(seals.map((s) => s.deliveryId))}::text[])`.execute(db);
  const deliveries = new Map(rows.map((r) => [r.id, r]));
  const events = await loadEvents(
    db,
    seals.map((s) => ({ tenantId: s.tenantId, eventId: s.eventId })),
  );
  const out: Resendable = { ready: [], erased: [] };
  for (const s of seals) {
    const d = deliveries.get(s.deliveryId);
    const event = events.get(eventKey(s.tenantId, s.eventId));
    if (d === undefined || event === undefined || d.shape === null) continue;
    const base: ReadyAttempt = {
      tenantId: s.tenantId,
      deliveryId: s.deliveryId,
      attemptNo: s.attemptNo,
      eventId: s.eventId,
      endpointId: s.endpointId,
      url: s.targetUrl,
      headers: s.headers,
      body: new Uint8Array(0),
      root: s.root,
      firstAttemptAt: d.first_attempt_at,
      lastDelayMs: d.last_delay_ms === null ? null : Number(d.last_delay_ms),
    };
    if (event.payload === null) {
      out.erased.push(base);
      continue;
    }
    const { body } = rebuildBody(eventForBody(event, event.payload), { shape: d.shape, removed: d.removed ?? [] });
    if (toHex(sha256(body)) !== parseCustodyRecord(s.record).hops.prepared) {
      throw new Error(`rebuilt body of ${s.deliveryId} attempt ${s.attemptNo} does not hash to its sealed prepared hop`);
    }
    base.body = body;
    out.ready.push(base);
  }
  return out;
}

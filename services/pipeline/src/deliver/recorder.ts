import { ReceiptError, type ReceiptStatement } from "@custody/custody";
import { newId, sql, WriteConflict, type Db, type Kysely, type Database } from "@custody/db";
import { outcomeKey, recordedAmong, recordOutcomes, type OutcomeToRecord } from "@custody/deliveries";
import { appendEvents, notifyEventsAppended } from "@custody/events";
import type { Logger } from "@custody/log";
import { checkReceipt, recordReceipts, type ReceiptClaim } from "@custody/receipts";
import type { JsonValue } from "@custody/redact";
import { createHash } from "node:crypto";
import type { EndpointDirectory } from "../shared/endpoints.js";
import { mergeEndpointUpdates, type EndpointChange, type EndpointUpdate } from "./settle.js";

/** The platform's own event when it disables an endpoint (delivered to the tenant like any event). */
export const ENDPOINT_DISABLED_EVENT = "webhook.endpoint.disabled";

export interface RecordItem {
  outcome: OutcomeToRecord;
  /** The endpoint's health update from this attempt (absent for callbacks). */
  endpoint?: { id: string; update: EndpointUpdate };
  /** A receipt the endpoint returned in its 2xx body, not yet checked. */
  receipt?: ReceiptClaim;
}

export interface RecorderOptions {
  db: Db;
  logger: Logger;
  endpoints: EndpointDirectory;
  disableAfterMs: number;
  now: () => Date;
  /** Most outcomes in one transaction. */
  maxBatch?: number;
  /**
   * How long a write waits for more outcomes before it starts, when fewer than maxBatch are queued
   * (CUSTODY_OUTCOME_LINGER_MS; default 0, none).
   */
  lingerMs?: number;
}

interface Queued {
  item: RecordItem;
  resolve: () => void;
}

const MAX_BATCH = 1024;
const RETRY_MS = [50, 200, 1_000, 5_000];

/**
 * Records attempt outcomes as they finish, many per transaction (group commit): an outcome waits
 * for the transaction already under way and at most `lingerMs` more, never for a batch to fill, and
 * a slow endpoint's attempt holds up nobody else's. The linger is off the delivery's path — the
 * endpoint has the payload and its target slot is free before `record` is called — and it is what
 * makes low rates cheap: at 100 events/s each write otherwise carried 1.3 outcomes, and paid a
 * statement, a ledger entry and its leaf, and a commit for them. Each transaction stores the
 * outcomes with their batch's ledger entry, moves the deliveries, records receipts the endpoints
 * returned, and touches an endpoint row only when its health changes. `record` resolves once the
 * outcome is committed; while Postgres is down it keeps retrying, and the JetStream messages
 * waiting on it stay held (a crash hands them to another process, which re-sends the sealed attempt
 * and records it once).
 */
export class OutcomeRecorder {
  private queue: Queued[] = [];
  private flushing = false;
  private stopped = false;
  private readonly maxBatch: number;
  private readonly lingerMs: number;

  constructor(private readonly options: RecorderOptions) {
    this.maxBatch = options.maxBatch ?? MAX_BATCH;
    this.lingerMs = options.lingerMs ?? 0;
  }

  record(item: RecordItem): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push({ item, resolve });
      void this.flush();
    });
  }

  /** Flushes what is queued and stops accepting retries of failed flushes. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.flushing) await new Promise((r) => setTimeout(r, 10));
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      let failures = 0;
      while (this.queue.length > 0) {
        if (this.lingerMs > 0 && this.queue.length < this.maxBatch && !this.stopped) await new Promise((r) => setTimeout(r, this.lingerMs));
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const done = await this.write(batch.map((q) => q.item));
          failures = 0;
          for (const q of batch) if (done.has(keyOf(q.item))) q.resolve();
          // Outcomes another process recorded first are done too; the rest go round again.
          this.queue.unshift(...batch.filter((q) => !done.has(keyOf(q.item))));
        } catch (err) {
          this.queue.unshift(...batch);
          if (this.stopped) return;
          const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
          failures++;
          this.options.logger.error({ err, outcomes: batch.length, retryInMs: wait }, "recording outcomes failed; retrying");
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One statement, or one transaction with receipts or health changes; returns the keys now recorded (by us, or found recorded by another process). */
  private async write(items: RecordItem[]): Promise<Set<string>> {
    let pending = dedupe(items);
    const done = new Set<string>();
    for (;;) {
      try {
        const disabled = await this.writeOnce(pending);
        for (const i of pending) done.add(keyOf(i));
        if (disabled) await notifyEventsAppended(this.options.db).catch(() => undefined);
        return done;
      } catch (err) {
        if (!(err instanceof WriteConflict)) throw err;
        const recorded = await recordedAmong(
          this.options.db,
          pending.map((i) => i.outcome),
        );
        for (const k of recorded) done.add(k);
        pending = pending.filter((i) => !recorded.has(keyOf(i)));
        if (pending.length === 0) return done;
      }
    }
  }

  private async writeOnce(items: RecordItem[]): Promise<boolean> {
    const { db, logger, now, endpoints } = this.options;
    const outcomes = items.map((i) => i.outcome);
    const receipts: Array<{ claim: ReceiptClaim; statement: ReceiptStatement }> = [];
    for (const i of items) {
      if (i.receipt === undefined) continue;
      try {
        receipts.push({ claim: i.receipt, statement: checkReceipt(i.receipt) });
      } catch (err) {
        if (!(err instanceof ReceiptError)) throw err;
        logger.warn({ deliveryId: i.receipt.deliveryId, code: err.code, reason: err.message }, "endpoint returned an invalid receipt; ignored");
      }
    }
    const at = now();
    const changes = await this.healthChanges(items, at.getTime());
    // The common case — outcomes only — needs no transaction: the batch is one atomic statement.
    if (receipts.length === 0 && changes.length === 0) {
      await recordOutcomes(db, outcomes);
      return false;
    }
    const disabled = await db.transaction().execute(async (trx) => {
      await recordOutcomes(trx, outcomes);
      await recordReceipts(trx, receipts);
      const disabledNow: typeof changes = [];
      for (const c of changes) if (await applyHealth(trx, c.id, c.change, at)) disabledNow.push(c);
      for (const d of disabledNow) {
        const data: JsonValue = { endpointId: d.id, reason: d.change.disable!.reason, disabledAt: at.toISOString() };
        await appendEvents(trx, d.tenantId, [
          {
            id: newId("evt"),
            type: ENDPOINT_DISABLED_EVENT,
            eventTypeId: null,
            data,
            occurredAt: at,
            supersedes: null,
            metadata: null,
            callbackUrl: null,
            requestHash: createHash("sha256").update(JSON.stringify(data)).digest(),
          },
        ]);
      }
      return disabledNow;
    });
    for (const c of changes) endpoints.noteHealth(c.tenantId, c.id, { failingSince: c.change.failingSince, ...(c.change.disable ? { disabledAt: at } : {}) });
    for (const d of disabled) logger.warn({ endpointId: d.id, tenantId: d.tenantId, reason: d.change.disable!.reason }, "endpoint disabled");
    return disabled.length > 0;
  }

  /** Each endpoint whose health these attempts change (most batches: none). */
  private async healthChanges(items: RecordItem[], at: number): Promise<Array<{ id: string; tenantId: string; change: EndpointChange }>> {
    const byEndpoint = new Map<string, { tenantId: string; updates: EndpointUpdate[] }>();
    for (const i of items) {
      if (i.endpoint === undefined) continue;
      const entry = byEndpoint.get(i.endpoint.id) ?? { tenantId: i.outcome.tenantId, updates: [] };
      entry.updates.push(i.endpoint.update);
      byEndpoint.set(i.endpoint.id, entry);
    }
    const changes: Array<{ id: string; tenantId: string; change: EndpointChange }> = [];
    for (const [id, { tenantId, updates }] of byEndpoint) {
      const current = await this.options.endpoints.get(tenantId, id);
      if (current === undefined) continue;
      const change = mergeEndpointUpdates({ failingSince: current.failingSince, disabledAt: current.disabledAt }, updates, at, this.options.disableAfterMs);
      if (change !== null) changes.push({ id, tenantId, change });
    }
    return changes;
  }
}

/**
 * Writes one endpoint's health change. A success resets the failing run outright; a failure only
 * starts one that is not running; disabling only fills an empty disabled_at. Returns whether this
 * transaction is the one that disabled it.
 */
async function applyHealth(trx: Kysely<Database>, id: string, change: EndpointChange, at: Date): Promise<boolean> {
  const failing = change.reset ? sql`failing_since = ${change.failingSince}` : sql`failing_since = coalesce(failing_since, ${change.failingSince})`;
  if (change.disable === null) {
    await sql`UPDATE endpoints SET ${failing} WHERE id = ${id}`.execute(trx);
    return false;
  }
  const { rows } = await sql<{ disabled_now: boolean }>`
    UPDATE endpoints SET ${failing},
      disabled_reason = CASE WHEN disabled_at IS NULL THEN ${change.disable.reason} ELSE disabled_reason END,
      updated_at = CASE WHEN disabled_at IS NULL THEN ${at} ELSE updated_at END,
      disabled_at = coalesce(disabled_at, ${at})
    WHERE id = ${id}
    RETURNING disabled_at = ${at} AS disabled_now`.execute(trx);
  return rows[0]?.disabled_now === true;
}

const keyOf = (i: RecordItem) => outcomeKey(i.outcome.deliveryId, i.outcome.attemptNo);

/** The same attempt twice in one batch (a copy sent while the first was in flight) is recorded once. */
function dedupe(items: RecordItem[]): RecordItem[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = keyOf(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

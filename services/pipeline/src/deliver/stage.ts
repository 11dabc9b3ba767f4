import { createHash } from "node:crypto";
import { SendMessage, runStage, type NatsConnection, type Received, type RunningStage } from "@custody/bus";
import type { Config } from "@custody/config";
import { newId, sql, type Database, type Db, type Kysely } from "@custody/db";
import { AppError } from "@custody/errors";
import { ReceiptError, type ReceiptStatement } from "@custody/custody";
import { appendEvents } from "@custody/events";
import { attemptEntry } from "@custody/ledger";
import { appendEntries } from "@custody/ledger-store";
import type { Logger } from "@custody/log";
import type { Resolver } from "@custody/netguard";
import { checkReceipt, receiptFromResponse, recordReceipts, type ReceiptClaim } from "@custody/receipts";
import { canonicalJson, type JsonValue } from "@custody/redact";
import { createSender, limitKeyOf, type Sender, type SendResult } from "./sender.js";
import {
  deadForDisabledEndpoint,
  mergeEndpointUpdates,
  policyFor,
  settle,
  type DeliveryKind,
  type DeliveryUpdate,
  type EndpointChange,
  type EndpointState,
  type EndpointUpdate,
  type Settlement,
} from "./settle.js";

export type DeliverConfig = Pick<
  Config<"pipeline">,
  | "CUSTODY_STAGE_BATCH"
  | "CUSTODY_DELIVER_CONCURRENCY"
  | "CUSTODY_ENDPOINT_CONCURRENCY"
  | "CUSTODY_DELIVERY_TIMEOUT_MS"
  | "CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS"
  | "CUSTODY_ALLOW_LOOPBACK_TARGETS"
>;

export interface DeliverStageOptions {
  nc: NatsConnection;
  prefix: string;
  db: Db;
  logger: Logger;
  config: DeliverConfig;
  /** Uniform in [0, 1), for jittered retry policies. */
  random?: () => number;
  now?: () => Date;
  /** DNS for the connect-time SSRF check (tests map names to 127.0.0.1). */
  resolver?: Resolver;
  /** A sender of the caller's; it is then not closed on stop. */
  sender?: Sender;
  /** Batches handled at once (the sender's limits bound the requests across all of them). */
  concurrency?: number;
}

/** The platform's own event when it disables an endpoint (delivered to the tenant like any event). */
export const ENDPOINT_DISABLED_EVENT = "webhook.endpoint.disabled";

// Enough batches in flight to keep CUSTODY_DELIVER_CONCURRENCY busy while one slow endpoint holds
// its batch open; the Postgres cost is still one read and one transaction per batch.
const DEFAULT_BATCH_CONCURRENCY = 8;

const keyOf = (m: { deliveryId: string; attemptNo: number }) => `${m.deliveryId}:${m.attemptNo}`;

interface PlanRow {
  delivery_id: string;
  attempt_no: number;
  found: boolean;
  status: string | null;
  attempts: number | null;
  kind: DeliveryKind | null;
  endpoint_id: string | null;
  recorded: boolean;
  retry_policy: unknown;
  rate_limit_per_second: number | null;
  failing_since: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

interface FreshDelivery {
  id: string;
  attempt_no: number;
  tenant_id: string;
  status: string;
  attempts: number;
  kind: DeliveryKind;
  endpoint_id: string | null;
  first_attempt_at: Date | null;
  last_delay_ms: string | null;
  recorded: boolean;
}

interface FreshEndpoint {
  id: string;
  tenant_id: string;
  failing_since: Date | null;
  disabled_at: Date | null;
  counter_signed_receipts: boolean;
  receipt_public_key: Buffer | null;
}

interface Sent {
  msg: SendMessage;
  plan: PlanRow;
  result: SendResult;
}

/**
 * Attempts being handled in this process. JetStream hands a message to another consumer (or back to
 * us) when its ack_wait runs out, which a batch stuck behind a slow, rate-limited endpoint can
 * reach; a copy that arrives while the original is still in flight waits for it instead of sending
 * the same attempt again. Only an optimisation: the locked re-check in `record` is what keeps an
 * outcome from being recorded twice (across processes too).
 */
class InFlight {
  private readonly running = new Map<string, Promise<void>>();

  /** Claims the keys not already running; returns the promises of those that are. */
  claim(keys: readonly string[]): { done: () => void; earlier: Promise<void>[] } {
    const earlier: Promise<void>[] = [];
    const mine: string[] = [];
    let finish!: () => void;
    const promise = new Promise<void>((resolve) => (finish = resolve));
    for (const key of keys) {
      const running = this.running.get(key);
      if (running !== undefined) earlier.push(running);
      else {
        this.running.set(key, promise);
        mine.push(key);
      }
    }
    return {
      earlier,
      done: () => {
        for (const key of mine) if (this.running.get(key) === promise) this.running.delete(key);
        finish();
      },
    };
  }
}

/** Multi-row UPDATE of deliveries from parallel arrays, guarded so only the attempt still in flight moves. */
async function updateDeliveries(trx: Kysely<Database>, rows: Array<{ id: string; attemptNo: number; startedAt: Date | null; update: DeliveryUpdate }>, at: Date): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(f: (r: (typeof rows)[number]) => T) => sql.val(rows.map(f));
  await sql`
    UPDATE deliveries d SET
      status = u.status, next_attempt_at = u.next_attempt_at, last_delay_ms = u.last_delay_ms,
      last_status_code = u.last_status_code, last_error = u.last_error, dead_reason = u.dead_reason,
      delivered_at = u.delivered_at, first_attempt_at = coalesce(d.first_attempt_at, u.started_at), updated_at = ${at}
    FROM unnest(
      ${col((r) => r.id)}::text[], ${col((r) => r.attemptNo)}::int[], ${col((r) => r.update.status)}::text[],
      ${col((r) => r.update.next_attempt_at)}::timestamptz[], ${col((r) => r.update.last_delay_ms)}::bigint[],
      ${col((r) => r.update.last_status_code)}::int[], ${col((r) => r.update.last_error)}::text[],
      ${col((r) => r.update.dead_reason)}::text[], ${col((r) => r.update.delivered_at)}::timestamptz[],
      ${col((r) => r.startedAt)}::timestamptz[]
    ) AS u(id, attempt_no, status, next_attempt_at, last_delay_ms, last_status_code, last_error, dead_reason, delivered_at, started_at)
    WHERE d.id = u.id AND d.status = 'delivering' AND d.attempts = u.attempt_no`.execute(trx);
}

/** Multi-row UPDATE of endpoint health; disabling only ever fills an empty disabled_at. */
async function updateEndpoints(trx: Kysely<Database>, changes: ReadonlyArray<{ id: string; change: EndpointChange }>, at: Date): Promise<void> {
  if (changes.length === 0) return;
  const col = <T>(f: (r: (typeof changes)[number]) => T) => sql.val(changes.map(f));
  await sql`
    UPDATE endpoints e SET
      failing_since = CASE WHEN u.reset THEN u.failing_since ELSE coalesce(e.failing_since, u.failing_since) END,
      disabled_at = CASE WHEN u.disable_reason IS NOT NULL AND e.disabled_at IS NULL THEN ${at} ELSE e.disabled_at END,
      disabled_reason = CASE WHEN u.disable_reason IS NOT NULL AND e.disabled_at IS NULL THEN u.disable_reason ELSE e.disabled_reason END,
      updated_at = CASE WHEN u.disable_reason IS NOT NULL AND e.disabled_at IS NULL THEN ${at} ELSE e.updated_at END
    FROM unnest(
      ${col((c) => c.id)}::text[], ${col((c) => c.change.reset)}::boolean[],
      ${col((c) => c.change.failingSince)}::timestamptz[], ${col((c) => c.change.disable?.reason ?? null)}::text[]
    ) AS u(id, reset, failing_since, disable_reason)
    WHERE e.id = u.id`.execute(trx);
}

/**
 * Deliver: sends each sealed attempt (exactly its sealed headers and body bytes) and records the
 * outcome — a delivery_attempts row, an `attempt` ledger entry, the delivery's next state and the
 * endpoint's health — for the whole batch in one transaction, then acks. A crash between sending
 * and committing redelivers the batch and sends again; receivers dedupe on the stable
 * Idempotency-Key / webhook-id, and the outcome is recorded once.
 */
/**
 * Receipts that counter-signing endpoints returned in their 2xx bodies, verified against the
 * endpoint's key and the body sent. An invalid one is logged and dropped: it changes nothing, and the
 * endpoint may still submit a valid one through the API.
 */
function receiptsIn(
  recorded: ReadonlyArray<Sent & { fresh: FreshDelivery; settlement: Settlement }>,
  endpointOf: ReadonlyMap<string, FreshEndpoint>,
  logger: Logger,
): Array<{ claim: ReceiptClaim; statement: ReceiptStatement }> {
  const out: Array<{ claim: ReceiptClaim; statement: ReceiptStatement }> = [];
  for (const r of recorded) {
    const endpoint = r.fresh.endpoint_id === null ? undefined : endpointOf.get(r.fresh.endpoint_id);
    if (r.settlement.outcome !== "delivered" || !endpoint?.counter_signed_receipts || endpoint.receipt_public_key === null) continue;
    const given = receiptFromResponse(r.result.responseExcerpt);
    if (given === null) continue;
    const claim: ReceiptClaim = {
      tenantId: r.fresh.tenant_id,
      deliveryId: r.msg.deliveryId,
      eventId: r.msg.eventId,
      bodySha256: createHash("sha256").update(Buffer.from(r.msg.body, "base64")).digest("hex"),
      publicKey: endpoint.receipt_public_key,
      statement: given.statement,
      signature: given.signature,
      source: "response",
    };
    try {
      out.push({ claim, statement: checkReceipt(claim) });
    } catch (err) {
      if (!(err instanceof ReceiptError)) throw err;
      logger.warn({ deliveryId: claim.deliveryId, code: err.code, reason: err.message }, "endpoint returned an invalid receipt; ignored");
    }
  }
  return out;
}

export async function startDeliverStage(options: DeliverStageOptions): Promise<RunningStage> {
  const { db, logger, config } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const disableAfterMs = config.CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS * 3_600_000;
  const ownSender = options.sender === undefined;
  const sender =
    options.sender ??
    createSender({
      allowLoopback: config.CUSTODY_ALLOW_LOOPBACK_TARGETS,
      timeoutMs: config.CUSTODY_DELIVERY_TIMEOUT_MS,
      maxInFlight: config.CUSTODY_DELIVER_CONCURRENCY,
      maxPerEndpoint: config.CUSTODY_ENDPOINT_CONCURRENCY,
      now: () => now().getTime(),
      ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    });
  const inFlight = new InFlight();

  /** (a) One query: each message's delivery, whether its outcome is already recorded, and its endpoint's settings. */
  async function load(messages: readonly SendMessage[]): Promise<Map<string, PlanRow>> {
    const { rows } = await sql<PlanRow>`
      SELECT k.delivery_id, k.attempt_no, d.id IS NOT NULL AS found, d.status, d.attempts, d.kind, d.endpoint_id,
             EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = k.delivery_id AND a.attempt_no = k.attempt_no) AS recorded,
             e.retry_policy, e.rate_limit_per_second, e.failing_since, e.disabled_at, e.disabled_reason
      FROM unnest(${sql.val(messages.map((m) => m.deliveryId))}::text[], ${sql.val(messages.map((m) => m.attemptNo))}::int[]) AS k(delivery_id, attempt_no)
      LEFT JOIN deliveries d ON d.id = k.delivery_id
      LEFT JOIN endpoints e ON e.id = d.endpoint_id`.execute(db);
    return new Map(rows.map((r) => [keyOf({ deliveryId: r.delivery_id, attemptNo: r.attempt_no }), r]));
  }

  /** (c) One transaction records every outcome of the batch. */
  async function record(sent: readonly Sent[], disabledSkips: ReadonlyArray<{ msg: SendMessage; plan: PlanRow }>): Promise<void> {
    if (sent.length === 0 && disabledSkips.length === 0) return;
    const all = [...sent.map((s) => s.msg), ...disabledSkips.map((d) => d.msg)];
    const ids = [...new Set(all.map((m) => m.deliveryId))].sort();
    await db.transaction().execute(async (trx) => {
      // Lock the deliveries first, in id order (so concurrent batches cannot deadlock), then read
      // their state in a new statement: under READ COMMITTED it sees whatever a competing replica
      // committed before we got the locks — a recorded attempt is then never recorded again.
      await sql`SELECT id FROM deliveries WHERE id = ANY(${sql.val(ids)}::text[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx);
      const endpointIds = [...new Set(sent.map((s) => s.plan.endpoint_id).filter((e): e is string => e !== null))].sort();
      const endpoints =
        endpointIds.length === 0
          ? []
          : (await sql<FreshEndpoint>`
              SELECT id, tenant_id, failing_since, disabled_at, counter_signed_receipts, receipt_public_key FROM endpoints
              WHERE id = ANY(${sql.val(endpointIds)}::text[]) ORDER BY id FOR NO KEY UPDATE`.execute(trx)).rows;
      const { rows: fresh } = await sql<FreshDelivery>`
        SELECT d.id, k.attempt_no, d.tenant_id, d.status, d.attempts, d.kind, d.endpoint_id, d.first_attempt_at, d.last_delay_ms,
               EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id AND a.attempt_no = k.attempt_no) AS recorded
        FROM unnest(${sql.val(all.map((m) => m.deliveryId))}::text[], ${sql.val(all.map((m) => m.attemptNo))}::int[]) AS k(id, attempt_no)
        JOIN deliveries d ON d.id = k.id`.execute(trx);
      const freshOf = new Map(fresh.map((f) => [keyOf({ deliveryId: f.id, attemptNo: f.attempt_no }), f]));
      const endpointOf = new Map(endpoints.map((e) => [e.id, e]));
      const at = now();
      const nowMs = at.getTime();

      const toRecord: Array<Sent & { fresh: FreshDelivery; settlement: Settlement }> = [];
      const updates: Parameters<typeof updateDeliveries>[1] = [];
      const health = new Map<string, EndpointUpdate[]>();
      for (const s of sent) {
        const f = freshOf.get(keyOf(s.msg));
        if (f === undefined || f.recorded) continue;
        const endpoint = f.endpoint_id === null ? undefined : endpointOf.get(f.endpoint_id);
        const resolved = policyFor(f.kind, s.plan.retry_policy);
        if (resolved.invalid !== undefined) {
          logger.error({ err: resolved.invalid, endpointId: f.endpoint_id }, "stored retry policy is invalid; retrying by the default policy");
        }
        const endpointState: EndpointState | null = endpoint === undefined ? null : { failingSince: endpoint.failing_since, disabledAt: endpoint.disabled_at };
        const settlement = settle({
          attempt: s.result,
          delivery: { attemptNo: s.msg.attemptNo, firstAttemptAt: f.first_attempt_at, lastDelayMs: f.last_delay_ms === null ? null : Number(f.last_delay_ms), kind: f.kind },
          policy: resolved.policy,
          endpoint: endpointState,
          nowMs,
          random,
          disableAfterMs,
        });
        toRecord.push({ ...s, fresh: f, settlement });
        // The attempt happened and is recorded whatever else did; the delivery moves only if it is
        // still waiting on this very attempt (a recall or retarget meanwhile keeps its own state).
        if (f.status === "delivering" && f.attempts === s.msg.attemptNo) {
          updates.push({ id: f.id, attemptNo: s.msg.attemptNo, startedAt: s.result.startedAt, update: settlement.deliveryUpdate });
        }
        if (endpoint !== undefined && settlement.endpointUpdate !== undefined) {
          const list = health.get(endpoint.id) ?? [];
          list.push(settlement.endpointUpdate);
          health.set(endpoint.id, list);
        }
      }
      for (const { msg: m, plan } of disabledSkips) {
        const f = freshOf.get(keyOf(m));
        if (f === undefined || f.recorded || f.status !== "delivering" || f.attempts !== m.attemptNo) continue;
        updates.push({ id: f.id, attemptNo: m.attemptNo, startedAt: null, update: deadForDisabledEndpoint(plan.disabled_reason) });
      }

      if (toRecord.length > 0) {
        const entries = await appendEntries(
          trx,
          toRecord.map((r) => ({
            tenantId: r.fresh.tenant_id,
            document: attemptEntry({
              tenantId: r.fresh.tenant_id,
              deliveryId: r.msg.deliveryId,
              attemptNo: r.msg.attemptNo,
              custodyRoot: r.msg.custodyRoot,
              outcome: r.settlement.outcome,
              statusCode: r.result.statusCode,
              errorClass: r.result.errorClass,
              startedAt: r.result.startedAt,
              durationMs: r.result.durationMs,
              responseSha256: r.result.responseSha256,
            }),
          })),
        );
        await trx
          .insertInto("delivery_attempts")
          .values(
            toRecord.map((r, i) => ({
              delivery_id: r.msg.deliveryId,
              attempt_no: r.msg.attemptNo,
              tenant_id: r.fresh.tenant_id,
              started_at: r.result.startedAt,
              duration_ms: r.result.durationMs,
              status_code: r.result.statusCode,
              response_excerpt: r.result.responseExcerpt,
              response_sha256: r.result.responseSha256 === null ? null : Buffer.from(r.result.responseSha256, "hex"),
              error_class: r.result.errorClass,
              key_ids: r.msg.keyIds,
              outcome: r.settlement.outcome,
              attempt_entry_id: entries[i]!.id,
            })),
          )
          // The locked re-check above already excludes recorded attempts; this is the last line.
          .onConflict((oc) => oc.columns(["delivery_id", "attempt_no"]).doNothing())
          .execute();
      }
      await updateDeliveries(trx, updates, at);
      await recordReceipts(trx, receiptsIn(toRecord, endpointOf, logger));

      const changes: Array<{ id: string; tenantId: string; change: EndpointChange }> = [];
      for (const [id, list] of health) {
        const e = endpointOf.get(id)!;
        const change = mergeEndpointUpdates({ failingSince: e.failing_since, disabledAt: e.disabled_at }, list, nowMs, disableAfterMs);
        if (change !== null) changes.push({ id, tenantId: e.tenant_id, change });
      }
      await updateEndpoints(trx, changes, at);

      const disabled = changes.filter((c) => c.change.disable !== null);
      const byTenant = new Map<string, typeof disabled>();
      for (const d of disabled) byTenant.set(d.tenantId, [...(byTenant.get(d.tenantId) ?? []), d]);
      for (const [tenantId, list] of byTenant) {
        await appendEvents(
          trx,
          tenantId,
          list.map((d) => {
            const data: JsonValue = { endpointId: d.id, reason: d.change.disable!.reason, disabledAt: at.toISOString() };
            return {
              id: newId("evt"),
              type: ENDPOINT_DISABLED_EVENT,
              eventTypeId: null,
              data,
              occurredAt: at,
              supersedes: null,
              metadata: null,
              callbackUrl: null,
              requestHash: createHash("sha256").update(canonicalJson(data)).digest(),
            };
          }),
        );
        for (const d of list) logger.warn({ endpointId: d.id, tenantId, reason: d.change.disable!.reason }, "endpoint disabled");
      }
      logger.debug(
        { recorded: toRecord.length, delivered: toRecord.filter((r) => r.settlement.outcome === "delivered").length, dead: toRecord.filter((r) => r.settlement.outcome === "dead").length },
        "deliver batch recorded",
      );
    });
  }

  async function handle(batch: Array<Received<SendMessage>>): Promise<void> {
    const unique = new Map<string, SendMessage>();
    for (const b of batch) unique.set(keyOf(b.data), b.data);
    const messages = [...unique.values()];
    const claim = inFlight.claim([...unique.keys()]);
    try {
      // Copies of attempts an earlier batch is still sending wait for it; the load below then sees its outcome.
      if (claim.earlier.length > 0) await Promise.all(claim.earlier);
      const plans = await load(messages);
      const toSend: Array<{ msg: SendMessage; plan: PlanRow }> = [];
      const disabledSkips: Array<{ msg: SendMessage; plan: PlanRow }> = [];
      for (const msg of messages) {
        const plan = plans.get(keyOf(msg));
        if (plan === undefined || !plan.found) {
          logger.warn({ deliveryId: msg.deliveryId }, "send message for an unknown delivery dropped");
          continue;
        }
        // Already recorded (a redelivery after a crash), or moved on (recalled, retargeted, re-sealed).
        if (plan.recorded || plan.status !== "delivering" || plan.attempts !== msg.attemptNo) continue;
        if (plan.disabled_at !== null) {
          disabledSkips.push({ msg, plan });
          continue;
        }
        toSend.push({ msg, plan });
      }
      // (b) Everything at once; the sender's limiter holds requests to the global, per-endpoint and rate limits.
      const sent: Sent[] = await Promise.all(
        toSend.map(async ({ msg, plan }) => ({
          msg,
          plan,
          result: await sender.send({
            url: msg.url,
            headers: msg.headers,
            body: Buffer.from(msg.body, "base64"),
            limitKey: limitKeyOf(msg.endpointId, msg.url),
            ratePerSecond: plan.rate_limit_per_second,
          }),
        })),
      );
      try {
        await record(sent, disabledSkips);
      } catch (err) {
        throw new AppError("DELIVERY_RECORD_FAILED", `recording ${sent.length} delivery attempts failed; the batch will be redelivered`, { cause: err });
      }
    } finally {
      claim.done();
    }
  }

  const running = await runStage<SendMessage>({
    nc: options.nc,
    prefix: options.prefix,
    stage: "deliver",
    logger,
    decode: (v) => SendMessage.parse(v),
    handle,
    batchSize: config.CUSTODY_STAGE_BATCH,
    maxWaitMs: 2,
    concurrency: options.concurrency ?? DEFAULT_BATCH_CONCURRENCY,
  });

  return {
    // Not a method: callers keep `stop` detached from the object.
    stop: async () => {
      await running.stop();
      if (ownSender) await sender.close();
    },
  };
}

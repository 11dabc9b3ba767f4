import type { Db } from "@custody/db";
import { AttemptRace, beginAttempts, cancelUnsealed, deadLetterUnsent, DELIVERIES_CHANNEL, leaseDue, outcomeKey, outcomeLeafHashes, postpone, type BeginAttempt, type DueDelivery } from "@custody/deliveries";
import type { Logger } from "@custody/log";
import { toHex } from "@custody/encoding";
import type { Signer } from "@custody/note";
import { notSent, type Deliverer } from "../deliver/deliverer.js";
import { deadForErasedPayload } from "../deliver/settle.js";
import { eventForBody, pathsToRemove, rebuildBody, redactForDelivery, type PreparedBody, type Shape } from "../dispatch/body.js";
import type { EndpointDirectory } from "../shared/endpoints.js";
import { eventKey, loadEvents, type LoadedEvent } from "../shared/events.js";
import { listenFor } from "../shared/listener.js";
import { loadResendable } from "../shared/resend.js";
import { sealForSending, type ToSeal } from "../shared/sealer.js";
import { ownerKey, type SecretStore } from "../shared/secrets.js";

export interface SchedulerOptions {
  db: Db;
  /** For a dedicated connection that LISTENs for deliveries queued by the API (replays, recall notices, test events). */
  databaseUrl?: string;
  logger: Logger;
  endpoints: EndpointDirectory;
  secrets: SecretStore;
  signer: () => Promise<Signer>;
  deliverer: Deliverer;
  intervalMs: number;
  batchSize: number;
  /** How long a leased delivery is this process's before another scheduler may take it back. */
  leaseMs: number;
  /** How long a delivery whose target could not take it waits before it is looked at again, at least. */
  parkMs: number;
  now?: () => Date;
}

/**
 * The retry scheduler: every delivery with a timer in Postgres (`deliveries.next_attempt_at`) that
 * has run out — a retry that is due, a delivery parked or made by the API (replay, recall notice,
 * test event, retry now), a sealed attempt whose sender died — is leased (its timer moved `leaseMs`
 * ahead, FOR UPDATE SKIP LOCKED, so replicas share the work) and then sealed and sent here, or sent
 * again exactly as sealed. Timers survive restarts of everything; a lease that runs out hands the
 * delivery to the next tick, and an attempt is sealed at most once (beginAttempts' guard).
 */
export class RetryScheduler {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** A poke that came during a tick: the next wait is skipped. */
  private poked = false;
  private readonly now: () => Date;

  constructor(private readonly o: SchedulerOptions) {
    this.now = o.now ?? (() => new Date());
  }

  async run(): Promise<void> {
    const listener = this.o.databaseUrl === undefined ? undefined : listenFor(this.o.databaseUrl, DELIVERIES_CHANNEL, () => this.poke(), this.o.logger);
    while (!this.stopping) {
      let due = 0;
      try {
        due = await this.tick();
      } catch (err) {
        this.o.logger.error({ err }, "retry scheduler tick failed");
      }
      if (this.poked) this.poked = false;
      else if (due < this.o.batchSize && !this.stopping) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(this.timer);
            this.wake = undefined;
            resolve();
          };
          this.wake = done;
          this.timer = setTimeout(done, this.o.intervalMs);
        });
      }
    }
    await listener?.close();
  }

  /** Looks for due deliveries now rather than at the next interval. */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w === undefined) this.poked = true;
    else w();
  }

  stop(): void {
    this.stopping = true;
    this.poke();
  }

  /** One round: returns how many deliveries it leased. */
  async tick(): Promise<number> {
    const due = await leaseDue(this.o.db, this.o.batchSize, this.o.leaseMs);
    if (due.length === 0) return 0;
    await this.resend(due.filter((d) => d.status === "delivering"));
    await this.sealNext(due.filter((d) => d.status !== "delivering"));
    return due.length;
  }

  /** Sealed attempts whose lease ran out without an outcome: sent again exactly as sealed. */
  private async resend(due: readonly DueDelivery[]): Promise<void> {
    if (due.length === 0) return;
    const { ready, erased } = await loadResendable(
      this.o.db,
      due.map((d) => ({ deliveryId: d.id, attemptNo: d.attempts })),
    );
    for (const a of ready) this.detach(this.o.deliverer.deliver(a));
    for (const a of erased) this.detach(this.o.deliverer.recordNotSent(notSent(a, this.now(), "payload_erased", deadForErasedPayload())));
  }

  /** Seals each delivery's next attempt in one batch and sends it. */
  private async sealNext(due: readonly DueDelivery[]): Promise<void> {
    if (due.length === 0) return;
    const at = this.now();
    const events = await loadEvents(
      this.o.db,
      due.map((d) => ({ tenantId: d.tenantId, eventId: d.eventId })),
    );
    const endpoints = await this.o.endpoints.ofTenants([...new Set(due.map((d) => d.tenantId))]);
    const secrets = await this.o.secrets.validSecrets(due.map((d) => ({ tenantId: d.tenantId, endpointId: d.endpointId })));
    const previous = await outcomeLeafHashes(
      this.o.db,
      due.filter((d) => d.attempts > 0).map((d) => ({ deliveryId: d.id, attemptNo: d.attempts })),
    );

    const unsendable = new Map<string, string[]>();
    const busy = new Map<number, string[]>();
    // Events recalled (or retracting one) after an attempt of theirs went out: what the recall would
    // have cancelled had that attempt not been in flight, cancelled now (by tenant).
    const recalled = new Map<string, Set<string>>();
    const items: ToSeal[] = [];
    const begins: BeginAttempt[] = [];
    const dead = (id: string, reason: string) => unsendable.set(reason, [...(unsendable.get(reason) ?? []), id]);
    for (const d of due) {
      const event = events.get(eventKey(d.tenantId, d.eventId));
      const endpoint = d.endpointId === null ? undefined : endpoints.get(d.tenantId)?.find((e) => e.id === d.endpointId);
      const keys = secrets.get(ownerKey({ tenantId: d.tenantId, endpointId: d.endpointId })) ?? [];
      if (event?.recalled === true) recalled.set(d.tenantId, (recalled.get(d.tenantId) ?? new Set()).add(d.eventId));
      else if (event === undefined || event.payload === null) dead(d.id, "payload erased before delivery");
      else if (endpoint?.disabledAt) dead(d.id, "endpoint disabled before the attempt was sealed");
      else if (keys.length === 0) dead(d.id, "no valid signing secret");
      else if (d.attempts > 0 && !previous.has(`${d.id}#${d.attempts}`)) this.o.logger.error({ deliveryId: d.id, attempt: d.attempts }, "previous attempt has no recorded outcome; not sealing the next one");
      else {
        if (!this.o.deliverer.claimTarget(d.endpointId, d.targetUrl)) {
          const wait = this.o.deliverer.parkMs(d.endpointId, d.targetUrl, this.o.parkMs);
          busy.set(wait, [...(busy.get(wait) ?? []), d.id]);
          continue;
        }
        const body = bodyOf(d, event, event.payload, endpoint?.payloadShape === "fat" ? "fat" : "thin", endpoint?.fatAckFields ?? new Set());
        const attemptNo = d.attempts + 1;
        items.push({
          attempt: {
            tenant: d.tenantId,
            delivery: d.id,
            event: d.eventId,
            eventType: event.type,
            attempt: attemptNo,
            target: d.endpointId === null ? { callback: true } : { endpoint: d.endpointId },
            previous: attemptNo === 1 ? null : toHex(previous.get(outcomeKey(d.id, d.attempts))!),
            idempotencyKey: d.idempotencyKey,
            body: body.body,
            ingested: event.ingested,
            redacted: body.redactedHop,
            secrets: keys,
          },
          targetUrl: d.targetUrl,
          firstAttemptAt: d.firstAttemptAt ?? at,
          lastDelayMs: d.lastDelayMs,
        });
        begins.push({ id: d.id, attemptNo, leaseUntil: new Date(at.getTime() + this.o.leaseMs), redaction: d.redaction === null ? body.redaction : null });
      }
    }
    let sealed: ReturnType<typeof sealForSending> | undefined;
    try {
      sealed = items.length === 0 ? undefined : sealForSending(await this.o.signer(), items, at);
      await this.o.db.transaction().execute(async (trx) => {
        for (const [tenantId, eventIds] of recalled) await cancelUnsealed(trx, tenantId, [...eventIds]);
        for (const [reason, ids] of unsendable) await deadLetterUnsent(trx, ids, reason);
        for (const [wait, ids] of busy) await postpone(trx, ids, new Date(at.getTime() + wait));
        await beginAttempts(trx, begins);
        await sealed?.store(trx);
      });
    } catch (err) {
      for (const i of items) this.o.deliverer.releaseTarget("endpoint" in i.attempt.target ? i.attempt.target.endpoint : null, i.targetUrl);
      // Another scheduler began one of them (its lease ran out while we held it): give the rest of the
      // batch back at once rather than leave it waiting out our leases; the one begun elsewhere is
      // that scheduler's (postpone moves only deliveries not begun).
      if (err instanceof AttemptRace) {
        this.o.logger.warn({ err }, "a scheduled attempt was begun elsewhere; the batch goes back to the queue");
        await postpone(
          this.o.db,
          due.map((d) => d.id),
          at,
        );
        return;
      }
      throw err;
    }
    for (const a of sealed?.ready ?? []) this.detach(this.o.deliverer.deliver(a, true));
  }

  private detach(p: Promise<void>): void {
    p.catch((err: unknown) => this.o.logger.error({ err }, "scheduled delivery failed"));
  }
}

/** The delivery's body: rebuilt from its redaction record, or redacted now for one made without one (by the API). */
function bodyOf(d: DueDelivery, event: LoadedEvent, payload: Uint8Array, shape: Shape, acks: ReadonlySet<string>): PreparedBody {
  const forBody = eventForBody(event, payload);
  if (d.redaction !== null) return rebuildBody(forBody, d.redaction);
  return redactForDelivery(forBody, pathsToRemove(event.type, event.personalDataFields, shape, acks), shape);
}

import { randomUUID } from "node:crypto";
import { eventsOf, runStage, type NatsConnection, type RunningStage } from "@custody/bus";
import { sql, type Db } from "@custody/db";
import { createSealedDeliveries, newDeliveryId } from "@custody/deliveries";
import type { Logger } from "@custody/log";
import type { Signer } from "@custody/note";
import type { Deliverer, ReadyAttempt } from "../deliver/deliverer.js";
import { notSent } from "../deliver/deliverer.js";
import { deadForErasedPayload } from "../deliver/settle.js";
import type { EndpointDirectory } from "../shared/endpoints.js";
import { eventKey, eventsOfMessages, type LoadedEvent } from "../shared/events.js";
import { loadResendable } from "../shared/resend.js";
import { sealForSending } from "../shared/sealer.js";
import type { SecretStore } from "../shared/secrets.js";
import { existingKey, planDeliveries, targetsOf } from "./plan.js";

export interface DispatchOptions {
  db: Db;
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
  endpoints: EndpointDirectory;
  secrets: SecretStore;
  signer: () => Promise<Signer>;
  deliverer: Deliverer;
  batchSize: number;
  /** Most events held at once in unacknowledged messages, their deliveries in flight. */
  maxHeld: number;
  /** How long a parked delivery waits for the scheduler, at least. */
  parkMs: number;
  now?: () => Date;
}

/**
 * Dispatch: the one JetStream consumer of the pipeline. For each committed event it fans out (one
 * delivery per subscribed endpoint and callback), redacts each body for its target, seals the first
 * attempts of the batch under one signature, and writes deliveries and seal in one statement;
 * then it sends them. An event's message is acked once every delivery it made has its outcome
 * recorded (or was parked for the scheduler), a batch message once that holds for each of its
 * events, so a crash anywhere redelivers it: the deliveries then exist, and only sealed attempts
 * without an outcome are sent again — the same bytes, the same webhook-id and Idempotency-Key.
 */
export function startDispatchStage(o: DispatchOptions): Promise<RunningStage> {
  const now = o.now ?? (() => new Date());
  return runStage({
    nc: o.nc,
    prefix: o.prefix,
    hop: "events",
    logger: o.logger,
    batchSize: o.batchSize,
    concurrency: 2,
    maxHeld: o.maxHeld,
    handle: async (messages) => {
      // One item per event: a batch message's events share its delivery count and stored-at time.
      const batch = messages.flatMap((m) => eventsOf(m.data).map((data) => ({ data, deliveryCount: m.deliveryCount, storedAtMs: m.storedAtMs })));
      // The wall clock, not `now`: freshness compares with the NATS server's stored-at time.
      const events = await eventsOfMessages(o.db, batch, Date.now());
      // Platform events made together with their deliveries (fan_out false) are the scheduler's; a
      // recalled one (a backlog read after an outage, say) gets no delivery at all.
      const fanOut = [...events.values()].filter((e) => e.fanOut && !e.recalled);
      const redelivered = batch.some((b) => b.deliveryCount > 1);
      const [endpoints, existing] = await Promise.all([
        o.endpoints.ofTenants([...new Set(fanOut.map((e) => e.tenantId))]),
        redelivered ? existingDeliveries(o.db, fanOut) : Promise.resolve(new Map<string, { id: string; unsent: number | null }>()),
      ]);
      const endpointsOf = (tenantId: string) => endpoints.get(tenantId) ?? [];
      const owners = fanOut.flatMap((e) => targetsOf(e, endpointsOf(e.tenantId)).map((t) => ({ tenantId: e.tenantId, endpointId: t.endpoint?.id ?? null })));
      const secrets = await o.secrets.validSecrets(owners);

      const at = now();
      const planned = planDeliveries({
        events: fanOut,
        endpointsOf,
        secrets,
        existing: new Set(existing.keys()),
        canSendNow: (endpointId, url) => o.deliverer.claimTarget(endpointId, url),
        parkMsOf: (endpointId, url) => o.deliverer.parkMs(endpointId, url, o.parkMs),
        now: at,
        newId: newDeliveryId,
        newUuid: randomUUID,
      });
      const toSeal = planned.filter((p) => p.attempt !== undefined);
      let sealed: ReturnType<typeof sealForSending> | undefined;
      try {
        sealed =
          toSeal.length === 0
            ? undefined
            : sealForSending(
                await o.signer(),
                toSeal.map((p) => ({ attempt: p.attempt!, targetUrl: p.delivery.targetUrl, firstAttemptAt: at, lastDelayMs: null })),
                at,
              );
        // Another process made some of these meanwhile (WriteConflict, nothing written): the redelivery of this batch finds them.
        await createSealedDeliveries(
          o.db,
          planned.map((p) => p.delivery),
          sealed?.results ?? [],
        );
      } catch (err) {
        for (const p of toSeal) o.deliverer.releaseTarget(p.delivery.endpointId, p.delivery.targetUrl);
        throw err;
      }
      const resend = await loadResendable(
        o.db,
        [...existing.values()].filter((d) => d.unsent !== null).map((d) => ({ deliveryId: d.id, attemptNo: d.unsent! })),
      );

      const work = new Map<string, Array<Promise<void>>>();
      const track = (a: ReadyAttempt, p: Promise<void>) => {
        const key = eventKey(a.tenantId, a.eventId);
        work.set(key, [...(work.get(key) ?? []), p]);
      };
      for (const a of sealed?.ready ?? []) track(a, o.deliverer.deliver(a, true));
      for (const a of resend.ready) track(a, o.deliverer.deliver(a));
      for (const a of resend.erased) track(a, o.deliverer.recordNotSent(notSent(a, now(), "payload_erased", deadForErasedPayload())));
      const done = (e: { tenantId: string; eventId: string }) => Promise.all(work.get(eventKey(e.tenantId, e.eventId)) ?? []);
      return messages.map((m) => Promise.all(eventsOf(m.data).map(done)));
    },
  });
}

/**
 * Deliveries already made for these events (a redelivered message), by existingKey, with the attempt
 * still waiting to be sent again: sealed by dispatch (no scheduler lease), no outcome recorded.
 */
async function existingDeliveries(db: Db, events: readonly LoadedEvent[]): Promise<Map<string, { id: string; unsent: number | null }>> {
  if (events.length === 0) return new Map();
  const { rows } = await sql<{ id: string; tenant_id: string; event_id: string; endpoint_id: string | null; unsent: number | null }>`
    SELECT d.id, d.tenant_id, d.event_id, d.endpoint_id,
           CASE WHEN d.status = 'delivering' AND d.next_attempt_at IS NULL AND o.delivery_id IS NULL THEN d.attempts END AS unsent
    FROM unnest(${sql.val(events.map((e) => e.tenantId))}::text[], ${sql.val(events.map((e) => e.eventId))}::text[]) AS k(tenant_id, event_id)
    JOIN deliveries d ON d.tenant_id = k.tenant_id AND d.event_id = k.event_id AND d.replay_id IS NULL
    LEFT JOIN attempt_outcomes o ON o.delivery_id = d.id AND o.attempt_no = d.attempts`.execute(db);
  return new Map(rows.map((r) => [existingKey(r.tenant_id, r.event_id, r.endpoint_id), { id: r.id, unsent: r.unsent }]));
}

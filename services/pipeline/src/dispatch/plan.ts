import type { AttemptToSeal } from "@custody/custody";
import type { NewDelivery } from "@custody/deliveries";
import { matchesSubscription, type JsonValue, type RandomSource } from "@custody/redact";
import type { DeliverySecret } from "@custody/signing";
import type { EndpointInfo } from "../shared/endpoints.js";
import { ownerKey } from "../shared/secrets.js";
import { eventForBody, pathsToRemove, redactForDelivery, type PreparedBody, type Shape } from "./body.js";

/** An event as dispatch reads it. */
export interface DispatchEvent {
  tenantId: string;
  eventId: string;
  type: string;
  occurredAt: Date;
  supersedes: string | null;
  metadata: JsonValue | null;
  /** Canonical JSON of `data`; null once erased. */
  payload: Uint8Array | null;
  callbackUrl: string | null;
  /** Leaf hash of the event's ledger entry: the `ingested` hop. */
  ingested: Uint8Array;
  personalDataFields: readonly string[];
}

export interface DispatchTarget {
  endpoint: EndpointInfo | null;
  url: string;
}

/** The targets of one event: every enabled endpoint subscribed to its type, and its one-shot callback URL. */
export function targetsOf(event: { type: string; callbackUrl: string | null }, endpoints: readonly EndpointInfo[]): DispatchTarget[] {
  const targets: DispatchTarget[] = endpoints.filter((e) => e.disabledAt === null && e.subscriptions.some((pattern) => matchesSubscription(event.type, pattern))).map((e) => ({ endpoint: e, url: e.url }));
  if (event.callbackUrl !== null) targets.push({ endpoint: null, url: event.callbackUrl });
  return targets;
}

export interface PlannedDelivery {
  delivery: NewDelivery;
  /** Present when its first attempt is sealed and sent now. */
  attempt?: AttemptToSeal;
  body?: Uint8Array;
}

export interface PlanInput {
  events: readonly DispatchEvent[];
  endpointsOf: (tenantId: string) => readonly EndpointInfo[];
  /** Valid signing secrets by ownerKey (shared/secrets.ts). */
  secrets: ReadonlyMap<string, readonly DeliverySecret[]>;
  /** `${tenant}/${event}/${endpoint id or ""}` of deliveries that exist already (a redelivered event). */
  existing: ReadonlySet<string>;
  /** False when the target cannot take the delivery now (target-gate.ts): it is parked for the scheduler. */
  canSendNow: (endpointId: string | null, url: string) => boolean;
  /** How long a parked delivery of this target waits before the scheduler takes it. */
  parkMsOf: (endpointId: string | null, url: string) => number;
  now: Date;
  newId: () => string;
  newUuid: () => string;
  random?: RandomSource;
}

type DeliveryIdentity = Pick<NewDelivery, "id" | "tenantId" | "eventId" | "endpointId" | "targetUrl" | "idempotencyKey">;
type DeliveryState = Pick<NewDelivery, "status" | "attempts" | "nextAttemptAt" | "firstAttemptAt" | "redaction"> & { deadReason: string | null };

/** A delivery row, written out whole: `{ ...identity, … }` would give every one a hidden class of its own (docs/ARCHITECTURE.md, "Hot-path objects"). */
function newDelivery(d: DeliveryIdentity, s: DeliveryState): NewDelivery {
  return {
    id: d.id,
    tenantId: d.tenantId,
    eventId: d.eventId,
    endpointId: d.endpointId,
    targetUrl: d.targetUrl,
    idempotencyKey: d.idempotencyKey,
    status: s.status,
    deadReason: s.deadReason,
    attempts: s.attempts,
    nextAttemptAt: s.nextAttemptAt,
    firstAttemptAt: s.firstAttemptAt,
    redaction: s.redaction,
  };
}

export const existingKey = (tenantId: string, eventId: string, endpointId: string | null) => `${tenantId}/${eventId}/${endpointId ?? ""}`;

/**
 * Fan-out and redaction for a batch of events (pure): one delivery per (event, target) not made yet,
 * its body redacted for the target's shape, and — when the target can take it now and has a signing
 * secret — its first attempt ready to seal. Parked deliveries wait for the scheduler; deliveries that
 * can never be sent are made dead with the reason.
 */
export function planDeliveries(input: PlanInput): PlannedDelivery[] {
  const out: PlannedDelivery[] = [];
  for (const event of input.events) {
    // A body that removes nothing is the same bytes for every target of one shape (no salts): built
    // and hashed once per event, not once per delivery.
    const unredacted = new Map<Shape, PreparedBody>();
    for (const target of targetsOf(event, input.endpointsOf(event.tenantId))) {
      const endpointId = target.endpoint?.id ?? null;
      if (input.existing.has(existingKey(event.tenantId, event.eventId, endpointId))) continue;
      const base = {
        id: input.newId(),
        tenantId: event.tenantId,
        eventId: event.eventId,
        endpointId,
        targetUrl: target.url,
        idempotencyKey: input.newUuid(),
      };
      if (event.payload === null) {
        out.push({ delivery: newDelivery(base, { status: "dead", deadReason: "payload erased before delivery", attempts: 0, nextAttemptAt: null, firstAttemptAt: null, redaction: null }) });
        continue;
      }
      // Callbacks are thin too: a producer's own URL still should not receive personal data by default.
      const shape: Shape = target.endpoint?.payloadShape === "fat" ? "fat" : "thin";
      const paths = pathsToRemove(event.type, event.personalDataFields, shape, target.endpoint?.fatAckFields ?? new Set());
      let prepared = paths.length === 0 ? unredacted.get(shape) : undefined;
      if (prepared === undefined) {
        prepared = redactForDelivery(eventForBody(event, event.payload), paths, shape, input.random);
        if (paths.length === 0) unredacted.set(shape, prepared);
      }
      const secrets = input.secrets.get(ownerKey({ tenantId: event.tenantId, endpointId })) ?? [];
      if (secrets.length === 0) {
        out.push({ delivery: newDelivery(base, { status: "dead", deadReason: "no valid signing secret", attempts: 0, nextAttemptAt: null, firstAttemptAt: null, redaction: prepared.redaction }) });
        continue;
      }
      if (!input.canSendNow(endpointId, target.url)) {
        const later = new Date(input.now.getTime() + input.parkMsOf(endpointId, target.url));
        out.push({ delivery: newDelivery(base, { status: "pending", deadReason: null, attempts: 0, nextAttemptAt: later, firstAttemptAt: null, redaction: prepared.redaction }) });
        continue;
      }
      out.push({
        delivery: newDelivery(base, { status: "delivering", deadReason: null, attempts: 1, nextAttemptAt: null, firstAttemptAt: input.now, redaction: prepared.redaction }),
        body: prepared.body,
        attempt: {
          tenant: event.tenantId,
          delivery: base.id,
          event: event.eventId,
          eventType: event.type,
          attempt: 1,
          target: endpointId === null ? { callback: true } : { endpoint: endpointId },
          previous: null,
          idempotencyKey: base.idempotencyKey,
          body: prepared.body,
          ingested: event.ingested,
          redacted: prepared.redactedHop,
          secrets,
        },
      });
    }
  }
  return out;
}

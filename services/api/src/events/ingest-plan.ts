import { AppError } from "@custody/errors";
import type { DataSchemaValidators } from "../data-schema/validators.js";
import type { EventReceipt } from "./schemas.js";
import type { PreparedEvent } from "./validate.js";
import type { IngestEventType } from "../event-types/store.js";
import type { AcceptedEvent, StoredEvent } from "./ingest-store.js";

/**
 * Decides, for each event of a request, what happens to it — given what the database said. No I/O
 * of its own, so every rule (replay, conflict, type, schema, supersedes, callback) is testable with
 * plain values. Items are decided in order: within a batch an id belongs to its first item.
 */

export interface PlanItem {
  /** Field prefix of the item: `body`, or `body.events.<i>`. */
  prefix: string;
  /** The prepared event, or why the item failed before the database was asked. */
  event: PreparedEvent | AppError;
}

export interface PlanFacts {
  /** Events stored under the request's producer ids. */
  stored: ReadonlyMap<string, StoredEvent>;
  /** Latest version of each named event type. */
  eventTypes: ReadonlyMap<string, IngestEventType>;
  /** The `supersedes` ids that exist. */
  existingIds: ReadonlySet<string>;
  /** By item index: the checked callback URL, or its refusal. Absent for items without a callback. */
  targets: ReadonlyMap<number, string | AppError>;
}

export type Decision =
  | { kind: "accept"; event: AcceptedEvent }
  | { kind: "replay"; receipt: EventReceipt }
  /** A repeat, byte for byte, of an earlier item of the same batch: answered like a replay of it. */
  | { kind: "repeat"; of: number }
  | { kind: "fail"; error: AppError };

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export function receiptOf(event: { id: string; type: string; occurredAt: Date }, entryId: string, leafHash: Uint8Array): EventReceipt {
  const leaf = hex(leafHash);
  return { id: event.id, type: event.type, timestamp: event.occurredAt.toISOString(), entryId, leafHash: leaf, ledger: { leafHash: leaf, leafIndex: null } };
}

/** Whether the item is answered from storage without any further check (the callback's DNS included). */
export function isReplay(event: PreparedEvent, stored: ReadonlyMap<string, StoredEvent>): boolean {
  const earlier = event.producerId ? stored.get(event.id) : undefined;
  return earlier?.requestHash.equals(event.requestHash) === true;
}

function conflict(id: string, prefix: string, why: string): AppError {
  return new AppError("EVENT_ID_CONFLICT", `event id ${id} ${why}; send a new id for a different event`, { field: `${prefix}.id` });
}

/** The event as accepted, written out whole (a spread would give every one a hidden class of its own: docs/ARCHITECTURE.md, "Hot-path objects"). */
function acceptedEvent(e: PreparedEvent, eventTypeId: string, personalDataFields: readonly string[], callbackTarget: string | null): AcceptedEvent {
  return {
    id: e.id,
    producerId: e.producerId,
    type: e.type,
    data: e.data,
    payload: e.payload,
    payloadSha256: e.payloadSha256,
    occurredAt: e.occurredAt,
    supersedes: e.supersedes,
    metadata: e.metadata,
    callbackUrl: e.callbackUrl,
    requestHash: e.requestHash,
    eventTypeId,
    personalDataFields,
    callbackTarget,
  };
}

function decideOne(item: PlanItem, index: number, facts: PlanFacts, validators: DataSchemaValidators, acceptedIds: ReadonlySet<string>): Decision {
  const event = item.event as PreparedEvent;
  const { prefix } = item;
  if (event.producerId) {
    const stored = facts.stored.get(event.id);
    if (stored) {
      // The original answer, whatever changed since (an archived type, a callback host now refused).
      if (stored.requestHash.equals(event.requestHash)) return { kind: "replay", receipt: receiptOf(stored, stored.entryId, stored.leafHash) };
      return { kind: "fail", error: conflict(event.id, prefix, "already names a different event") };
    }
  }
  const type = facts.eventTypes.get(event.type);
  if (!type) {
    throw new AppError("EVENT_TYPE_UNKNOWN", `event type ${event.type} is not registered; create it with POST /api/v2/event-types`, { field: `${prefix}.type` });
  }
  if (type.archived) throw new AppError("EVENT_TYPE_ARCHIVED", `event type ${event.type} is archived`, { field: `${prefix}.type` });
  if (type.dataSchema !== null && type.dataSchema !== undefined) validators.check(type, event.data, prefix);
  if (event.supersedes !== null && !facts.existingIds.has(event.supersedes) && !(acceptedIds.has(event.supersedes) && event.supersedes !== event.id)) {
    throw new AppError("VALIDATION_FAILED", `supersedes: no event ${event.supersedes} of yours exists`, { field: `${prefix}.supersedes`, status: 422 });
  }
  let callbackTarget: string | null = null;
  if (event.callbackUrl !== null) {
    const target = facts.targets.get(index);
    if (target instanceof AppError) throw target;
    // Never reached: the orchestrator checks every callback before planning. Refusing is the safe default.
    if (target === undefined) throw new AppError("TARGET_REFUSED", "callbackUrl was not checked", { field: `${prefix}.callbackUrl` });
    callbackTarget = target;
  }
  return { kind: "accept", event: acceptedEvent(event, type.id, type.personalDataFields, callbackTarget) };
}

export function planIngest(items: readonly PlanItem[], facts: PlanFacts, validators: DataSchemaValidators): Decision[] {
  const decisions: Decision[] = [];
  /** First item of the batch with each id. */
  const firstWithId = new Map<string, number>();
  const acceptedIds = new Set<string>();
  items.forEach((item, index) => {
    if (item.event instanceof AppError) {
      decisions.push({ kind: "fail", error: item.event });
      return;
    }
    const event = item.event;
    const first = firstWithId.get(event.id);
    if (first !== undefined) {
      const earlier = items[first]!.event as PreparedEvent;
      const earlierDecision = decisions[first]!;
      if (!earlier.requestHash.equals(event.requestHash)) {
        decisions.push({ kind: "fail", error: conflict(event.id, item.prefix, `is already used by item ${first} of this batch`) });
      } else if (earlierDecision.kind === "fail") {
        // The same event fails the same way (the error names the first item's field).
        decisions.push({ kind: "fail", error: earlierDecision.error });
      } else {
        decisions.push({ kind: "repeat", of: first });
      }
      return;
    }
    firstWithId.set(event.id, index);
    try {
      const decision = decideOne(item, index, facts, validators, acceptedIds);
      if (decision.kind === "accept") acceptedIds.add(event.id);
      decisions.push(decision);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      decisions.push({ kind: "fail", error: err });
    }
  });
  return decisions;
}

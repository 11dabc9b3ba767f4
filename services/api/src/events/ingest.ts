import type { Db } from "@custody/db";
import { AppError } from "@custody/errors";
import type { DataSchemaValidators } from "../data-schema/validators.js";
import type { EventReceipt } from "./schemas.js";
import type { PreparedEvent } from "./validate.js";
import { isReplay, planIngest, receiptOf, type Decision, type PlanItem } from "./ingest-plan.js";
import { EventIdRace } from "@custody/events";
import type { EventTypeCache } from "../event-types/cache.js";
import type { IngestCommitter } from "./ingest-commit.js";
import { existingEventIds, findStoredEvents, type InsertedEvent } from "./ingest-store.js";

export interface IngestDeps {
  db: Db;
  /** Commits accepted events, sharing transactions between concurrent requests. */
  committer: IngestCommitter;
  eventTypes: EventTypeCache;
  validators: DataSchemaValidators;
  /** The SSRF check of a callback URL (one per request: it caches hosts); returns the normalised URL. */
  checkTarget: (raw: string, field: string) => Promise<string>;
}

export type IngestResult = { status: 201 | 200; receipt: EventReceipt } | { status: 409 | 422; error: AppError };

/** Races lost in a row before giving up; each lost race means another request just stored one of our ids. */
const MAX_ATTEMPTS = 4;

/**
 * Ingests the events of one request (one, or a batch) for a tenant: looks up what the plan needs,
 * decides each item, then appends every accepted one in one transaction (shared with concurrent
 * requests: IngestCommitter) — ledger entries, events rows, and the tenant's first callback secret
 * if a callback needs one. If a concurrent
 * request stored one of the ids in between, the transaction rolls back and the request is decided
 * again, which then answers that item as a replay or a conflict: two identical concurrent POSTs
 * store the event exactly once.
 */
export async function ingestEvents(deps: IngestDeps, tenantId: string, items: readonly PlanItem[]): Promise<IngestResult[]> {
  const prepared = items.map((i) => i.event).filter((e): e is PreparedEvent => !(e instanceof AppError));
  const producerIds = [...new Set(prepared.filter((e) => e.producerId).map((e) => e.id))];
  const typeNames = [...new Set(prepared.map((e) => e.type))];
  const supersededIds = [...new Set(prepared.flatMap((e) => (e.supersedes === null ? [] : [e.supersedes])))];
  const targets = new Map<number, string | AppError>();

  for (let attempt = 1; ; attempt++) {
    const [stored, eventTypes, existingIds] = await Promise.all([findStoredEvents(deps.db, tenantId, producerIds), deps.eventTypes.latest(tenantId, typeNames), existingEventIds(deps.db, tenantId, supersededIds)]);
    await checkTargets(deps, items, targets, (e) => isReplay(e, stored));
    // One validation budget for the whole request: a batch cannot multiply it by its item count.
    const decisions = deps.validators.forRequest(() => planIngest(items, { stored, eventTypes, existingIds, targets }, deps.validators));
    const accepted = decisions.flatMap((d) => (d.kind === "accept" ? [d.event] : []));
    try {
      const inserted = accepted.length === 0 ? [] : await deps.committer.commit(tenantId, accepted);
      return answer(decisions, inserted);
    } catch (err) {
      if (!(err instanceof EventIdRace)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw new AppError("CONFLICT", "event ids are being stored concurrently by other requests; retry", { cause: err });
    }
  }
}

/**
 * Checks every callback URL the plan may need, in parallel: not for failed items, nor for replays
 * (a retry gets its original answer even if the host is refused now). Results persist across attempts.
 */
async function checkTargets(deps: IngestDeps, items: readonly PlanItem[], targets: Map<number, string | AppError>, replay: (e: PreparedEvent) => boolean): Promise<void> {
  await Promise.all(
    items.map(async (item, index) => {
      const event = item.event;
      if (event instanceof AppError || event.callbackUrl === null || targets.has(index) || replay(event)) return;
      try {
        targets.set(index, await deps.checkTarget(event.callbackUrl, `${item.prefix}.callbackUrl`));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        targets.set(index, err);
      }
    }),
  );
}

function answer(decisions: readonly Decision[], inserted: readonly InsertedEvent[]): IngestResult[] {
  const byId = new Map(inserted.map((r) => [r.id, r]));
  const results: IngestResult[] = [];
  for (const decision of decisions) {
    switch (decision.kind) {
      case "accept": {
        const row = byId.get(decision.event.id)!;
        results.push({ status: 201, receipt: receiptOf(decision.event, row.entryId, row.leafHash) });
        break;
      }
      case "replay":
        results.push({ status: 200, receipt: decision.receipt });
        break;
      case "repeat": {
        // `of` is an earlier index, so its result is already here.
        const earlier = results[decision.of]!;
        if (!("receipt" in earlier)) throw new Error("a repeat must follow an accepted or replayed item");
        results.push({ status: 200, receipt: earlier.receipt });
        break;
      }
      case "fail":
        results.push({ status: decision.error.status === 409 ? 409 : 422, error: decision.error });
        break;
    }
  }
  return results;
}

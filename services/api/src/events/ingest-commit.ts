import type { Db } from "@custody/db";
import { EventIdRace } from "@custody/events";
import type { Logger } from "@custody/log";
import { ensureCallbackSecret } from "../callback-secret/store.js";
import type { AnnounceEvents } from "./announce.js";
import { insertEvents, type AcceptedEvent, type InsertedEvent } from "./ingest-store.js";

interface Request {
  tenantId: string;
  events: readonly AcceptedEvent[];
  resolve: (rows: InsertedEvent[]) => void;
  reject: (err: unknown) => void;
}

/** Most events one group write carries (bounds its size and how long it holds its locks). */
const MAX_GROUP_EVENTS = 2_000;

/**
 * Group commit for ingest: the accepted events of concurrent requests share one write (one
 * statement; a transaction only when a tenant's first callback secret must be made with them). A
 * request whose events are accepted goes at once if no write is under way, else with everyone who
 * arrived meanwhile when it finishes — never waiting for a batch to fill. One write at a time, not
 * two: a second beside the first split the arrivals into twice the commits of half the size, each
 * paying its statement, its commit and its offers' share (docs/benchmarks.md, "One ingest write at
 * a time"). Each request is answered only after the write that holds its events has committed.
 *
 * If a group fails because one of its producer ids was stored concurrently (EventIdRace), every
 * request of the group is committed again on its own, so only the racing request sees the race
 * (and re-plans: a replay or a conflict). After each commit the events are announced to the pipeline.
 */
export class IngestCommitter {
  private queue: Request[] = [];
  private writing = false;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Uint8Array,
    private readonly logger: Logger,
    private readonly announce: AnnounceEvents,
  ) {}

  commit(tenantId: string, events: readonly AcceptedEvent[]): Promise<InsertedEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, events, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    if (this.writing || this.queue.length === 0) return;
    let count = 0;
    let take = 0;
    while (take < this.queue.length && (take === 0 || count + this.queue[take]!.events.length <= MAX_GROUP_EVENTS)) count += this.queue[take++]!.events.length;
    const group = this.queue.splice(0, take);
    this.writing = true;
    void this.commitGroup(group).finally(() => {
      this.writing = false;
      this.drain();
    });
  }

  private async commitGroup(group: Request[]): Promise<void> {
    const events = group.flatMap((r) => r.events.map((event) => ({ tenantId: r.tenantId, event })));
    let rows: InsertedEvent[];
    try {
      rows = await this.write(group, events);
    } catch (err) {
      if (err instanceof EventIdRace && group.length > 1) {
        for (const r of group) await this.commitGroup([r]);
        return;
      }
      if (!(err instanceof EventIdRace)) this.logger.error({ err, requests: group.length }, "ingest write failed");
      for (const r of group) r.reject(err);
      return;
    }
    // Before the answers, off the commit path: a lost announcement costs latency, nothing more.
    this.announce(rows.map((stored, i) => ({ accepted: events[i]!.event, stored })));
    let at = 0;
    for (const r of group) {
      r.resolve(rows.slice(at, at + r.events.length));
      at += r.events.length;
    }
  }

  private write(group: readonly Request[], events: ReadonlyArray<{ tenantId: string; event: AcceptedEvent }>): Promise<InsertedEvent[]> {
    const callbackTenants = [...new Set(group.filter((r) => r.events.some((e) => e.callbackTarget !== null)).map((r) => r.tenantId))].sort();
    if (callbackTenants.length === 0) return insertEvents(this.db, events);
    return this.db.transaction().execute(async (trx) => {
      const rows = await insertEvents(trx, events);
      for (const tenantId of callbackTenants) await ensureCallbackSecret(trx, this.masterKey, tenantId);
      return rows;
    });
  }
}

import type { Db } from "@custody/db";
import { EventIdRace, notifyEventsAppended } from "@custody/events";
import type { Logger } from "@custody/log";
import { ensureCallbackSecret } from "./callback-secret.js";
import { insertEvents, type AcceptedEvent, type InsertedEvent } from "./ingest-store.js";

interface Request {
  tenantId: string;
  events: readonly AcceptedEvent[];
  resolve: (rows: InsertedEvent[]) => void;
  reject: (err: unknown) => void;
}

/** Most events one group transaction carries (bounds its size and how long it holds its locks). */
const MAX_GROUP_EVENTS = 2_000;

/**
 * Group commit for ingest: the accepted events of concurrent requests share one transaction. A
 * request whose events are accepted waits for the transaction under way (if any) to finish, then
 * goes with everyone who arrived meanwhile — never for a batch to fill, so a lone request commits at
 * once. Each request is answered only after the transaction that holds its events has committed.
 *
 * If a group fails because one of its producer ids was stored concurrently (EventIdRace), every
 * request of the group is committed again on its own, so only the racing request sees the race
 * (and re-plans: a replay or a conflict). After each commit the relay is woken.
 */
export class IngestCommitter {
  private queue: Request[] = [];
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Uint8Array,
    private readonly logger: Logger,
  ) {}

  commit(tenantId: string, events: readonly AcceptedEvent[]): Promise<InsertedEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, events, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        let count = 0;
        let take = 0;
        while (take < this.queue.length && (take === 0 || count + this.queue[take]!.events.length <= MAX_GROUP_EVENTS)) count += this.queue[take++]!.events.length;
        const group = this.queue.splice(0, take);
        await this.commitGroup(group);
      }
    } finally {
      this.running = false;
    }
  }

  private async commitGroup(group: Request[]): Promise<void> {
    try {
      const rows = await this.transaction(group);
      let at = 0;
      for (const r of group) {
        r.resolve(rows.slice(at, at + r.events.length));
        at += r.events.length;
      }
    } catch (err) {
      if (err instanceof EventIdRace && group.length > 1) {
        for (const r of group) await this.commitGroup([r]);
        return;
      }
      if (!(err instanceof EventIdRace)) this.logger.error({ err, requests: group.length }, "ingest transaction failed");
      for (const r of group) r.reject(err);
      return;
    }
    // Off the commit path: losing it costs the relay's poll interval, nothing more.
    notifyEventsAppended(this.db).catch((err: unknown) => this.logger.warn({ err }, "could not wake the relay"));
  }

  private transaction(group: readonly Request[]): Promise<InsertedEvent[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await insertEvents(trx, group.flatMap((r) => r.events.map((event) => ({ tenantId: r.tenantId, event }))));
      const callbackTenants = new Set(group.filter((r) => r.events.some((e) => e.callbackTarget !== null)).map((r) => r.tenantId));
      for (const tenantId of [...callbackTenants].sort()) await ensureCallbackSecret(trx, this.masterKey, tenantId);
      return rows;
    });
  }
}

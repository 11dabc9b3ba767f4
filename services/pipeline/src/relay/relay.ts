import { announce, commitMessages, type EventHopMessage, type EventMessage, type NatsConnection } from "@custody/bus";
import { sql, type Database, type Kysely } from "@custody/db";
import { EVENTS_CHANNEL } from "@custody/events";
import { assertXidCounterAhead, commitOrderRows, finalPrefix, positionOf, type CommitOrderRow, type CommitPosition } from "@custody/ledger-store";
import type { Logger } from "@custody/log";
import { HeldBackDelay } from "../shared/held-back.js";
import { Leadership, type LeaderSession } from "../shared/leadership.js";

export interface RelayOptions {
  databaseUrl: string;
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
  batchSize: number;
  /** How often to look when no notification came. */
  pollMs: number;
  lockRetryMs: number;
  /** Prepared statements with index plans on the leader's session (CUSTODY_PIPELINE_INDEX_PLANS). */
  indexPlans?: boolean;
}

// Any constant works if every relay uses it; distinct from the sequencer's.
const RELAY_LOCK = "7234567890123456790";
/** How soon to look again, at first, when an event is committed but an older transaction still runs. */
const HELD_BACK_RETRY_MS = 1;

/**
 * Announces committed events to the dispatcher. It follows the ledger in its commit-safe order
 * (libs/ledger-store commit-order.ts) from the position in `relay_cursor`: publish a batch with
 * every ack in flight, then move the cursor. A crash in between publishes that batch again with the
 * same Nats-Msg-Ids (the entry ids; a batch message's first and last, when it is cut the same way),
 * which the stream drops inside its duplicate window, and which the dispatcher finds done after it
 * (dispatch does nothing twice); so the cursor is written with asynchronous commit — losing
 * its last moves in a database crash only means publishing again. One relay leads (an advisory
 * lock); it wakes on NOTIFY from whoever appended events, and polls as a fallback.
 */
export class Relay {
  private readonly leadership: Leadership;

  constructor(private readonly o: RelayOptions) {
    this.leadership = new Leadership({ databaseUrl: o.databaseUrl, role: "relay", lock: RELAY_LOCK, lockRetryMs: o.lockRetryMs, logger: o.logger, indexPlans: o.indexPlans === true });
  }

  run(): Promise<void> {
    return this.leadership.run((session) => this.lead(session));
  }

  stop(): void {
    this.leadership.stop();
  }

  private async lead({ db, client }: LeaderSession): Promise<void> {
    await assertXidCounterAhead(db);
    client.on("notification", () => this.leadership.poke());
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    await client.query("SET synchronous_commit = off");
    const row = await db.selectFrom("relay_cursor").select(["xid", "seq"]).executeTakeFirstOrThrow();
    let position: CommitPosition = { xid: String(row.xid), seq: String(row.seq) };
    const heldBackDelay = new HeldBackDelay(HELD_BACK_RETRY_MS, this.o.logger);
    while (!this.leadership.stopped) {
      const { moved, heldBack } = await this.relayBatch(db, position);
      if (moved !== undefined) position = moved.position;
      if ((moved?.count ?? 0) < this.o.batchSize) await this.leadership.pause(heldBackDelay.after({ heldBack, progressed: moved !== undefined }, this.o.pollMs));
    }
  }

  /**
   * Publishes the events after `position` (up to a batch) and moves the cursor past every entry read.
   * The entries and their events are read in one statement: a round trip fewer on every event's way
   * to dispatch.
   */
  async relayBatch(db: Kysely<Database>, position: CommitPosition): Promise<{ moved?: { position: CommitPosition; count: number }; heldBack: boolean }> {
    const { rows } = await sql<CommitOrderRow & { event_tenant: string | null; event_id: string | null }>`
      WITH ordered AS (${commitOrderRows(position, this.o.batchSize)})
      SELECT o.*, ev.tenant_id AS event_tenant, ev.id AS event_id
      FROM ordered o
      LEFT JOIN events ev ON o.kind = 'event' AND ev.entry_id = o.id AND ev.fan_out
      ORDER BY o.xid::xid8, o.seq`.execute(db);
    const { ready, heldBack } = finalPrefix(rows);
    if (ready.length === 0) return { heldBack };
    await announce(this.o.nc, this.o.prefix, "events", eventMessages(ready));
    const last = positionOf(ready[ready.length - 1]!);
    await sql`UPDATE relay_cursor SET xid = ${last.xid}::xid8, seq = ${last.seq}::bigint, updated_at = now()`.execute(db);
    return { moved: { position: last, count: ready.length }, heldBack };
  }
}

/**
 * The messages announcing the events among `rows` (in commit order), cut commit by commit (one xid)
 * by commitMessages: the API offered a commit of at most OFFER_MOST_EVENTS cut the same way, so the
 * stream drops this copy of it as a duplicate, and a larger commit, which no offer duplicates, costs
 * the stream one message per batch instead of one per event.
 */
export function eventMessages(rows: ReadonlyArray<CommitOrderRow & { event_tenant: string | null; event_id: string | null }>): EventHopMessage[] {
  const out: EventHopMessage[] = [];
  let commit: EventMessage[] = [];
  let xid: string | undefined;
  const flush = () => {
    out.push(...commitMessages(commit));
    commit = [];
  };
  for (const r of rows) {
    if (r.event_tenant === null || r.event_id === null) continue;
    if (r.xid !== xid) {
      flush();
      xid = r.xid;
    }
    commit.push({ tenantId: r.event_tenant, eventId: r.event_id, entryId: r.id });
  }
  flush();
  return out;
}

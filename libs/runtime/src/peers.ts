import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { sql, type Db } from "@custody/db";
import type { Logger } from "@custody/log";

export interface LivePeersOptions {
  db: Db;
  /** Processes that split the same limits: `api`, or the pipeline's `deliver`. */
  kind: string;
  /** CUSTODY_PEER_HEARTBEAT_MS */
  heartbeatMs: number;
  /** CUSTODY_PEER_TTL_MS: a peer silent this long is taken for dead, and its share returns to the others. */
  ttlMs: number;
  logger: Logger;
}

/** Rows of processes gone this long are deleted by whichever peer beats next. */
const FORGET_AFTER_SECONDS = 600;

/**
 * How many processes of a kind are alive, this one included: each writes a heartbeat row in
 * Postgres every `heartbeatMs` and counts the rows seen within `ttlMs`, in the same statement, off
 * any request's path (`count` is a field read).
 *
 * Postgres rather than a NATS KV bucket with a TTL: every process already holds a Postgres pool,
 * while the API holds no NATS connection (nor does a scheduler-only pipeline), and liveness is
 * judged on one clock, the database's.
 */
export class LivePeers {
  readonly processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private live = 1;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly o: LivePeersOptions) {}

  get count(): number {
    return this.live;
  }

  /** Beats once, so the process starts with a count, then keeps beating. */
  async start(): Promise<void> {
    await this.beat();
    this.schedule();
  }

  /** Stops beating and removes this process, so its share returns at the peers' next beat rather than after the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    await sql`DELETE FROM process_heartbeats WHERE kind = ${this.o.kind} AND process_id = ${this.processId}`
      .execute(this.o.db)
      .catch((err: unknown) => this.o.logger.warn({ err }, "could not remove this process's heartbeat"));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.schedule();
      });
    }, this.o.heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const { kind } = this.o;
    try {
      // SKIP LOCKED: two peers forgetting the same dead rows must neither wait for nor deadlock on each other.
      const { rows } = await sql<{ others: number }>`
        WITH me AS (
          INSERT INTO process_heartbeats (kind, process_id) VALUES (${kind}, ${this.processId})
          ON CONFLICT (kind, process_id) DO UPDATE SET last_seen = now()
        ), gone AS (
          DELETE FROM process_heartbeats WHERE (kind, process_id) IN (
            SELECT kind, process_id FROM process_heartbeats
            WHERE kind = ${kind} AND last_seen < now() - make_interval(secs => ${FORGET_AFTER_SECONDS})
            FOR UPDATE SKIP LOCKED)
        )
        SELECT count(*)::int AS others FROM process_heartbeats
        WHERE kind = ${kind} AND process_id <> ${this.processId} AND last_seen > now() - make_interval(secs => ${this.o.ttlMs / 1000})`.execute(this.o.db);
      this.live = 1 + rows[0]!.others;
      if (this.failing) this.o.logger.info({ kind, live: this.live }, "heartbeat written again");
      this.failing = false;
    } catch (err) {
      // The last count stands: while this process cannot reach Postgres it accepts and records nothing anyway.
      if (!this.failing) this.o.logger.warn({ err, kind }, "heartbeat failed; limits keep the last count of live processes");
      this.failing = true;
    }
  }
}

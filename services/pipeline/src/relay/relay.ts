import pg from "pg";
import { publishAll, subjectFor, type NatsConnection } from "@custody/bus";
import { sql, type Db } from "@custody/db";
import type { Logger } from "@custody/log";

export interface RelayOptions {
  db: Db;
  databaseUrl: string;
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
  batchSize: number;
  pollMs: number;
}

// Outbox subjects are names of the stage that consumes them.
const STAGE_OF_SUBJECT = { events: "fanout" } as const;

/**
 * Moves committed outbox rows to JetStream. Each batch is taken with FOR UPDATE SKIP LOCKED (so any
 * number of relays share the work), published with every ack in flight, and marked relayed in the
 * same transaction. A crash after publishing and before COMMIT publishes again later with the same
 * Nats-Msg-Id (the entry id), which the stream drops as a duplicate. Relays wake on NOTIFY from the
 * outbox insert trigger and poll as a fallback.
 */
export class Relay {
  private stopping = false;
  private wake: (() => void) | undefined;
  private listener: pg.Client | undefined;

  constructor(private readonly options: RelayOptions) {}

  async run(): Promise<void> {
    await this.listen();
    while (!this.stopping) {
      let moved = 0;
      try {
        moved = await this.relayBatch();
      } catch (err) {
        this.options.logger.error({ err }, "relay batch failed; retrying");
      }
      if (moved < this.options.batchSize) await this.pause();
    }
    await this.listener?.end().catch(() => undefined);
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: "custody-relay-listen" });
    client.on("notification", () => this.wake?.());
    // Losing the listener only costs latency (polling continues), so it is logged, not fatal.
    client.on("error", (err) => this.options.logger.warn({ err }, "outbox listener failed; falling back to polling"));
    try {
      await client.connect();
      await client.query("LISTEN custody_outbox");
      this.listener = client;
    } catch (err) {
      this.options.logger.warn({ err }, "cannot LISTEN for outbox rows; polling only");
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  async relayBatch(): Promise<number> {
    const { prefix, nc } = this.options;
    return this.options.db.transaction().execute(async (trx) => {
      const rows = await sql<{ seq: string; entry_id: string; subject: string; payload: Buffer }>`
        SELECT seq, entry_id, subject, payload FROM outbox
        WHERE relayed_at IS NULL ORDER BY seq LIMIT ${this.options.batchSize}
        FOR UPDATE SKIP LOCKED`.execute(trx);
      if (rows.rows.length === 0) return 0;
      await publishAll(
        nc,
        rows.rows.map((r) => {
          const stage = STAGE_OF_SUBJECT[r.subject as keyof typeof STAGE_OF_SUBJECT];
          if (!stage) throw new Error(`outbox row ${r.seq} has unknown subject ${r.subject}`);
          return { subject: subjectFor(prefix, stage), data: JSON.parse(r.payload.toString("utf8")) as unknown, msgId: r.entry_id };
        }),
      );
      await sql`UPDATE outbox SET relayed_at = now() WHERE seq = ANY(${sql.val(rows.rows.map((r) => r.seq))}::bigint[])`.execute(trx);
      return rows.rows.length;
    });
  }
}

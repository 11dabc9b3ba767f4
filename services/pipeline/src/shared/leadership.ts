import type pg from "pg";
import { createClient, type Database, type Kysely } from "@custody/db";
import type { Logger } from "@custody/log";
import { kyselyOnClient } from "./single-connection.js";

export interface LeadershipOptions {
  databaseUrl: string;
  /** Names the role in logs and in pg_stat_activity (`custody-<role>`). */
  role: string;
  /** The session advisory lock that makes its holder the leader; every replica of the role uses the same. */
  lock: string;
  lockRetryMs: number;
  logger: Logger;
  /** Prepared statements with index plans on the leader's session (@custody/db plans.ts), as on the pipeline's pool. */
  indexPlans: boolean;
}

/** The leader's session: its statements run on the connection that holds the lock. */
export interface LeaderSession {
  db: Kysely<Database>;
  client: pg.Client;
}

/**
 * One leader among replicas, by a Postgres session advisory lock held on a dedicated connection.
 * The leader's work runs on that same connection, so if it dies the lock and any open transaction
 * die with it and nothing can be written by a process that no longer leads. Standbys try the lock
 * every `lockRetryMs`; a leader that fails (lost connection, lost compare-and-swap) reconnects and
 * competes again.
 */
export class Leadership {
  private stopping = false;
  private wake: (() => void) | undefined;
  /** A poke that came while nobody was pausing: the next pause returns at once. */
  private poked = false;

  constructor(private readonly o: LeadershipOptions) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Runs `lead` whenever this process holds the lock, until stop(). */
  async run(lead: (session: LeaderSession) => Promise<void>): Promise<void> {
    const { logger } = this.o;
    while (!this.stopping) {
      const client = createClient({ url: this.o.databaseUrl, applicationName: `custody-${this.o.role}`, indexPlans: this.o.indexPlans });
      client.on("error", (err) => logger.warn({ err }, `${this.o.role} connection failed`));
      try {
        await client.connect();
        if (await this.acquire(client)) {
          logger.info(`${this.o.role} is the leader`);
          await lead({ db: kyselyOnClient(client), client });
        }
      } catch (err) {
        if (!this.stopping) logger.error({ err }, `${this.o.role} lost its connection or leadership; retrying`);
      } finally {
        await client.end().catch(() => undefined);
      }
      if (!this.stopping) await this.pause(this.o.lockRetryMs);
    }
  }

  /** Stops after the current step; closing the connection releases the lock for a standby. */
  stop(): void {
    this.stopping = true;
    this.poke();
  }

  /** Ends the current pause early, or the next one at once if none is under way. */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w === undefined) this.poked = true;
    else w();
  }

  /** Waits `ms`, or less if poked or stopped. */
  pause(ms: number): Promise<void> {
    if (this.stopping || this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  private async acquire(client: pg.Client): Promise<boolean> {
    while (!this.stopping) {
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [this.o.lock]);
      if (rows[0]?.ok) return true;
      await this.pause(this.o.lockRetryMs);
    }
    return false;
  }
}

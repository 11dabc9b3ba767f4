import { msgIds, publishAll, subjectFor, type NatsConnection } from "@custody/bus";
import { sql, type Db } from "@custody/db";
import type { Logger } from "@custody/log";

export interface SchedulerOptions {
  db: Db;
  nc: NatsConnection;
  prefix: string;
  logger: Logger;
  intervalMs: number;
  batchSize: number;
}

/** How long a published retry may wait for the seal stage before the scheduler publishes it again. */
const LEASE = "30 seconds";
/** A delivery still pending after this long lost its announcement (a crash between commit and publish). */
const STALE_PENDING = "30 seconds";

/**
 * The retry scheduler: retry timers live in Postgres (`deliveries.next_attempt_at`), so they
 * survive restarts of every component. Each tick leases the due deliveries (moving their timer 30 s
 * ahead, FOR UPDATE SKIP LOCKED so replicas share the work) and publishes their next attempt to the
 * seal stage. If the publish or the seal is lost, the lease runs out and the attempt is published
 * again; the seal stage seals an attempt at most once. It also re-announces deliveries left pending
 * (created by a replay, recall or test event whose publish was lost) to redact or seal.
 */
export class RetryScheduler {
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: SchedulerOptions) {}

  async run(): Promise<void> {
    while (!this.stopping) {
      let due = 0;
      try {
        due = await this.tick();
      } catch (err) {
        this.options.logger.error({ err }, "retry scheduler tick failed");
      }
      if (due < this.options.batchSize && !this.stopping) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.options.intervalMs);
        });
      }
    }
  }

  stop(): void {
    this.stopping = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  async tick(): Promise<number> {
    const { rows } = await sql<{ id: string; attempts: number }>`
      UPDATE deliveries SET next_attempt_at = now() + ${LEASE}::interval
      WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 'retrying' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT ${this.options.batchSize}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, attempts`.execute(this.options.db);
    await publishAll(
      this.options.nc,
      rows.map((r) => ({
        subject: subjectFor(this.options.prefix, "seal"),
        data: { deliveryId: r.id, attemptNo: r.attempts + 1 },
        msgId: msgIds.seal(r.id, r.attempts + 1),
      })),
    );
    const stale = await sql<{ id: string; has_body: boolean }>`
      UPDATE deliveries d SET updated_at = now()
      WHERE d.id IN (
        SELECT id FROM deliveries
        WHERE status = 'pending' AND updated_at < now() - ${STALE_PENDING}::interval
        LIMIT ${this.options.batchSize}
        FOR UPDATE SKIP LOCKED)
      RETURNING d.id, EXISTS (SELECT 1 FROM delivery_bodies b WHERE b.delivery_id = d.id) AS has_body`.execute(this.options.db);
    await publishAll(
      this.options.nc,
      stale.rows.map((r) =>
        r.has_body
          ? { subject: subjectFor(this.options.prefix, "seal"), data: { deliveryId: r.id, attemptNo: 1 }, msgId: msgIds.seal(r.id, 1) }
          : { subject: subjectFor(this.options.prefix, "redact"), data: { deliveryId: r.id }, msgId: msgIds.redact(r.id) },
      ),
    );
    return rows.length + stale.rows.length;
  }
}

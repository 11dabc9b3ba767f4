import type { Logger } from "@custody/log";

/** Held back this long, a reader says so (and again at this interval while it lasts). */
const WARN_AFTER_MS = 10_000;

/**
 * How long a commit-order reader (relay, sequencer) waits before reading again. While a committed
 * entry is held back by an older transaction still running it looks again soon — a short
 * transaction ends within a millisecond or two — but each further round held back without progress
 * doubles the wait, up to the idle poll interval: one long-open transaction anywhere in the cluster
 * then costs a few queries a second, not a thousand. Held back for long without progress, it says
 * so in the log: only an operator can find and end that transaction (docs/ledger.md).
 */
export class HeldBackDelay {
  private rounds = 0;
  private stuckSince: number | undefined;
  private warnedAt = 0;

  constructor(
    private readonly firstMs: number,
    private readonly logger: Pick<Logger, "warn">,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The wait after a round that was `heldBack` or not, and that moved entries (`progressed`) or not. */
  after(round: { heldBack: boolean; progressed: boolean }, idleMs: number): number {
    if (!round.heldBack || round.progressed) {
      this.rounds = 0;
      this.stuckSince = undefined;
      if (!round.heldBack) return idleMs;
    }
    const now = this.clock();
    this.stuckSince ??= now;
    if (now - this.stuckSince >= WARN_AFTER_MS && now - this.warnedAt >= WARN_AFTER_MS) {
      this.warnedAt = now;
      this.logger.warn({ stuckForMs: now - this.stuckSince }, "committed ledger entries are held back by an older transaction still open somewhere in this Postgres cluster (docs/ledger.md: the commit-safe order)");
    }
    return Math.min(idleMs, this.firstMs * 2 ** this.rounds++);
  }
}

/**
 * Which deliveries a target (an endpoint, or a callback origin) takes now, and which wait in
 * Postgres: pure bookkeeping over its exchanges in this process, with an injected clock.
 *
 * A target that answers takes everything: under load its queue here grows and shrinks, and the
 * stage's bound on held messages is the backpressure, so a busy but healthy endpoint is never
 * parked (parking costs a Postgres write per delivery and per look). A target is *slow* while an
 * exchange of it has run longer than `slowMs` (a hanging endpoint, one that answers in seconds):
 * then it takes only up to `queue` attempts and the rest are parked, so it holds few messages and
 * slows nobody else — a circuit breaker. `hardCap` bounds any target's queue whatever its speed.
 */
export interface TargetGateSettings {
  queue: number;
  hardCap: number;
  slowMs: number;
  now: () => number;
}

interface TargetState {
  claimed: number;
  /** Start times of this target's exchanges under way, by a token of each. */
  running: Map<number, number>;
  /** When it was last found slow; cleared when it is not. */
  slowSince: number | undefined;
}

/** Longest a parked delivery of a target that stays slow waits before it is looked at again. */
const MAX_PARK_MS = 5 * 60_000;

export class TargetGate {
  private readonly targets = new Map<string, TargetState>();
  private seq = 0;

  constructor(private readonly s: TargetGateSettings) {}

  /** One more attempt for `key`, which has `users` sending or waiting in the sender; false: park it. */
  claim(key: string, users: number): boolean {
    const t = this.stateOf(key);
    const load = users + t.claimed;
    if (load >= this.s.hardCap || (this.isSlow(key) && load >= this.s.queue)) {
      this.forget(key);
      return false;
    }
    t.claimed++;
    return true;
  }

  release(key: string): void {
    const t = this.targets.get(key);
    if (t === undefined) return;
    t.claimed = Math.max(0, t.claimed - 1);
    this.forget(key);
  }

  /** An exchange of `key` starts; call the returned function when it ends. */
  started(key: string): () => void {
    const t = this.stateOf(key);
    const token = this.seq++;
    t.running.set(token, this.s.now());
    return () => {
      t.running.delete(token);
      this.forget(key);
    };
  }

  isSlow(key: string): boolean {
    const t = this.targets.get(key);
    if (t === undefined) return false;
    const now = this.s.now();
    let oldest = Infinity;
    for (const at of t.running.values()) oldest = Math.min(oldest, at);
    const slow = now - oldest >= this.s.slowMs;
    if (!slow) t.slowSince = undefined;
    else t.slowSince ??= now;
    return slow;
  }

  /** How long to park a delivery of `key`: longer the longer it has been slow (half of that, within [min, 5 min]). */
  parkMs(key: string, minMs: number): number {
    const since = this.isSlow(key) ? this.targets.get(key)!.slowSince! : undefined;
    if (since === undefined) return minMs;
    return Math.min(MAX_PARK_MS, Math.max(minMs, (this.s.now() - since) / 2));
  }

  private stateOf(key: string): TargetState {
    let t = this.targets.get(key);
    if (t === undefined) {
      t = { claimed: 0, running: new Map(), slowSince: undefined };
      this.targets.set(key, t);
    }
    return t;
  }

  private forget(key: string): void {
    const t = this.targets.get(key);
    if (t !== undefined && t.claimed === 0 && t.running.size === 0) this.targets.delete(key);
  }
}

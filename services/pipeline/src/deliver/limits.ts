/**
 * The deliver stage's throttles: a counting semaphore, a token bucket, and the keyed limiter that
 * combines them per endpoint. Pure bookkeeping — the clock, the sleep and the count of live
 * delivering processes are injected, so the tests drive them by hand.
 */
import { concurrencyShare, rateShare } from "@custody/runtime/peer-share";

/** A FIFO counting semaphore: waiters get slots in the order they asked. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private max: number) {
    Semaphore.check(max);
  }

  private static check(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a semaphore needs a limit >= 1, got ${limit}`);
  }

  get limit(): number {
    return this.max;
  }

  /** A higher limit lets waiters in at once; a lower one takes effect as holders release (none is taken back). */
  setLimit(limit: number): void {
    Semaphore.check(limit);
    this.max = limit;
    while (this.active < this.max && this.waiters.length > 0) {
      this.active++;
      this.waiters.shift()!();
    }
  }

  acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    if (this.active > this.max) {
      // Over a lowered limit: the slot retires instead of passing on.
      this.active--;
      return;
    }
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter, so a newcomer can never overtake it.
    if (next !== undefined) next();
    else if (this.active > 0) this.active--;
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }
}

/**
 * A token bucket with reservations: `reserve` takes a token now, even one that has not refilled yet,
 * and says how long to wait before using it. Tokens may go negative, which queues callers in order
 * without polling — the n-th caller past the burst waits n / rate seconds.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private ratePerSecond: number,
    private capacity: number,
    nowMs: number,
  ) {
    TokenBucket.check(ratePerSecond, capacity);
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  private static check(rate: number, capacity: number): void {
    if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    if (!(Number.isFinite(capacity) && capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
  }

  private refill(nowMs: number): void {
    // A clock that steps backwards adds nothing rather than taking tokens away.
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.lastMs = Math.max(this.lastMs, nowMs);
  }

  /** Takes one token; returns the wait in ms before the caller may go (0: at once). */
  reserve(nowMs: number): number {
    this.refill(nowMs);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }

  /** Adopts a new rate (the endpoint was edited); reservations already handed out stand. */
  setRate(ratePerSecond: number, capacity: number, nowMs: number): void {
    TokenBucket.check(ratePerSecond, capacity);
    this.refill(nowMs);
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  get rate(): number {
    return this.ratePerSecond;
  }

  /** Full again: forgetting the bucket now is indistinguishable from keeping it. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }
}

/**
 * The burst a rate allows: 20 ms worth of tokens, at least one. A burst of a whole second would let
 * a receiver see twice its rate inside one second (a full bucket, then the refill); one token per
 * request spaces requests evenly but cannot exceed ~1,000/s on millisecond timers. 20 ms keeps any
 * one-second window within about 2 % of the configured rate.
 */
export function burstFor(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond / 50));
}

export interface LimiterSettings {
  /** Most requests in flight in total (CUSTODY_DELIVER_CONCURRENCY). */
  maxInFlight: number;
  /** Most requests in flight per key across all delivering processes (CUSTODY_ENDPOINT_CONCURRENCY). */
  maxPerKey: number;
  /** Live delivering processes, this one included, among which each key's concurrency and rate are split; 1 when absent. */
  peers?: () => number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

interface KeyState {
  slots: Semaphore;
  bucket: TokenBucket | undefined;
  /** Callers between acquire and release (waiting or holding). */
  users: number;
}

// Idle keys whose buckets have refilled are dropped once the map grows past this, so a process that
// has talked to many endpoints does not keep a record of each forever.
const SWEEP_ABOVE = 1_000;

/**
 * Bounds deliveries in total and per key, and paces each key by its rate limit; a key's bound and
 * rate are this process's share of them (`concurrencyShare`, `rateShare`). Order of waiting:
 * the key's concurrency slot, then its rate-limit turn, then a global slot — so a request paced
 * by its endpoint never sits on a global slot other endpoints could use.
 */
export class DeliveryLimiter {
  private readonly global: Semaphore;
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly settings: LimiterSettings) {
    this.global = new Semaphore(settings.maxInFlight);
  }

  /** Waits for the caller's turn; the returned function releases it (call it exactly once). */
  async acquire(key: string, ratePerSecond: number | null): Promise<() => void> {
    const state = this.stateOf(key, ratePerSecond);
    state.users++;
    let heldKey = false;
    try {
      await state.slots.acquire();
      heldKey = true;
      if (state.bucket !== undefined) {
        const waitMs = state.bucket.reserve(this.settings.now());
        if (waitMs > 0) await this.settings.sleep(waitMs);
      }
      await this.global.acquire();
    } catch (err) {
      if (heldKey) state.slots.release();
      this.leave(key, state);
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.global.release();
      state.slots.release();
      this.leave(key, state);
    };
  }

  /** Requests holding a global slot now. */
  get inFlight(): number {
    return this.global.inUse;
  }

  /** Callers of `key` between acquire and release: sending, or waiting for their turn. */
  usersOf(key: string): number {
    return this.keys.get(key)?.users ?? 0;
  }

  /** Keys currently remembered (for tests of the clean-up). */
  get trackedKeys(): number {
    return this.keys.size;
  }

  private stateOf(key: string, ratePerSecond: number | null): KeyState {
    if (this.keys.size > SWEEP_ABOVE) this.sweep();
    const peers = this.settings.peers?.() ?? 1;
    const slots = concurrencyShare(this.settings.maxPerKey, peers);
    let state = this.keys.get(key);
    if (state === undefined) {
      state = { slots: new Semaphore(slots), bucket: undefined, users: 0 };
      this.keys.set(key, state);
    } else if (state.slots.limit !== slots) state.slots.setLimit(slots);
    const now = this.settings.now();
    const rate = ratePerSecond === null ? null : rateShare(ratePerSecond, peers);
    if (rate === null) state.bucket = undefined;
    else if (state.bucket === undefined) state.bucket = new TokenBucket(rate, burstFor(rate), now);
    else if (state.bucket.rate !== rate) state.bucket.setRate(rate, burstFor(rate), now);
    return state;
  }

  private leave(key: string, state: KeyState): void {
    state.users--;
    if (state.users === 0 && (state.bucket === undefined || state.bucket.isFull(this.settings.now()))) this.keys.delete(key);
  }

  private sweep(): void {
    const now = this.settings.now();
    for (const [key, state] of this.keys) {
      if (state.users === 0 && (state.bucket === undefined || state.bucket.isFull(now))) this.keys.delete(key);
    }
  }
}

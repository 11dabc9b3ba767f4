import { AppError } from "@custody/errors";
import { rateShare } from "@custody/runtime/peer-share";

/** Milliseconds on a clock that only moves forward; injected so tests can step time by hand. */
export type Clock = () => number;

/** `performance.now()`: monotonic, so a wall-clock step (NTP, DST) neither refills nor drains a bucket. */
export const monotonicClock: Clock = () => performance.now();

export interface TokenBucketOptions {
  /** Tokens added per second, continuously. */
  ratePerSecond: number;
  /** Most tokens a bucket holds: how much may be spent at once after a quiet spell. */
  burst: number;
  now?: Clock;
  /** Buckets kept before full ones are swept; bounds memory when many keys pass through. */
  sweepAbove?: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per key, in memory. A refused take spends nothing, so a client that honours
 * Retry-After is admitted when it comes back.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private rate: number;
  private burst: number;
  private readonly now: Clock;
  private readonly sweepAbove: number;

  constructor(options: TokenBucketOptions) {
    TokenBuckets.check(options.ratePerSecond, options.burst);
    this.rate = options.ratePerSecond;
    this.burst = options.burst;
    this.now = options.now ?? monotonicClock;
    this.sweepAbove = options.sweepAbove ?? 10_000;
  }

  private static check(rate: number, burst: number): void {
    if (!(rate > 0) || !(burst > 0)) throw new RangeError("rate and burst must be positive");
  }

  /**
   * Adopts a new rate and burst for every key. Each bucket is first filled up to now at the old rate,
   * so time before the change counts at the rate that held then; tokens above the new burst go.
   */
  setLimits(ratePerSecond: number, burst: number): void {
    TokenBuckets.check(ratePerSecond, burst);
    const now = this.now();
    for (const key of this.buckets.keys()) this.buckets.set(key, this.refilled(key, now));
    this.rate = ratePerSecond;
    this.burst = burst;
    for (const bucket of this.buckets.values()) bucket.tokens = Math.min(bucket.tokens, burst);
  }

  /**
   * Spends `cost` tokens of `key`'s bucket if it holds them. A cost above the burst is charged as
   * the burst (it waits for a full bucket) rather than refused forever: a batch the configuration
   * allows must remain sendable even when the burst is configured lower than the batch limit.
   */
  take(key: string, cost: number): Admission {
    const now = this.now();
    const charge = Math.min(Math.max(cost, 0), this.burst);
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= charge) {
      bucket.tokens -= charge;
      this.buckets.set(key, bucket);
      if (this.buckets.size > this.sweepAbove) this.sweep(now);
      return { admitted: true };
    }
    this.buckets.set(key, bucket);
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((charge - bucket.tokens) / this.rate)) };
  }

  /** Buckets currently held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.burst, at: now };
    // A clock that steps back (only an injected one can) must not drain the bucket.
    const elapsed = Math.max(0, now - bucket.at);
    return { tokens: Math.min(this.burst, bucket.tokens + (elapsed / 1000) * this.rate), at: Math.max(now, bucket.at) };
  }

  /** A bucket that has refilled to the brim is the same as no bucket: drop it. */
  private sweep(now: number): void {
    for (const key of [...this.buckets.keys()]) {
      if (this.refilled(key, now).tokens >= this.burst) this.buckets.delete(key);
    }
  }
}

export interface IngestRateLimitOptions {
  /** The tenant's limit across all API processes. */
  ratePerSecond: number;
  burst: number;
  now?: Clock;
  /** Live API processes, this one included (a field read of `LivePeers`); 1 when absent. */
  peers?: () => number;
}

/**
 * The per-tenant ingest limit: throws 429 RATE_LIMITED with `Retry-After` when the tenant is over
 * it. Each API process holds its share of the rate and the burst (`rateShare`), so the tenant gets
 * the configured rate in total however many processes serve it.
 */
export class IngestRateLimit {
  private readonly buckets: TokenBuckets;
  private peers = 1;

  constructor(private readonly options: IngestRateLimitOptions) {
    this.buckets = new TokenBuckets(options);
  }

  /** Charges `events` events to `tenantId`. */
  charge(tenantId: string, events: number): void {
    const peers = this.options.peers?.() ?? 1;
    if (peers !== this.peers) {
      this.peers = peers;
      // A burst share under one token would let a single event through at a fraction of its cost (a cost above the burst is charged as the burst).
      this.buckets.setLimits(rateShare(this.options.ratePerSecond, peers), Math.max(1, rateShare(this.options.burst, peers)));
    }
    const admission = this.buckets.take(tenantId, events);
    if (admission.admitted) return;
    throw new AppError("RATE_LIMITED", `ingest rate limit: ${this.options.ratePerSecond} events per second (bursts up to ${this.options.burst}); retry after ${admission.retryAfterSeconds} s`, {
      headers: { "retry-after": String(admission.retryAfterSeconds) },
      details: { retryAfterSeconds: admission.retryAfterSeconds, ratePerSecond: this.options.ratePerSecond, burst: this.options.burst },
    });
  }
}

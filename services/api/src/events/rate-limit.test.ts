import { describe, expect, it } from "vitest";
import { AppError } from "@custody/errors";
import { IngestRateLimit, TokenBuckets } from "./rate-limit.js";

function manualClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TokenBuckets", () => {
  it("admits a burst, then refills at the rate", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 5, now: clock.now });
    for (let i = 0; i < 5; i++) expect(buckets.take("a", 1)).toEqual({ admitted: true });
    expect(buckets.take("a", 1)).toEqual({ admitted: false, retryAfterSeconds: 1 });
    clock.advance(100);
    expect(buckets.take("a", 1)).toEqual({ admitted: true });
    expect(buckets.take("a", 1).admitted).toBe(false);
  });

  it("never holds more than the burst however long it waited", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 3, now: clock.now });
    buckets.take("a", 1);
    clock.advance(3_600_000);
    expect(buckets.take("a", 3)).toEqual({ admitted: true });
    expect(buckets.take("a", 1).admitted).toBe(false);
  });

  it("spends nothing on a refusal and says when the cost will fit", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 10, now: clock.now });
    expect(buckets.take("a", 10).admitted).toBe(true);
    // 7 tokens at 2/s: 3.5 s, rounded up.
    expect(buckets.take("a", 7)).toEqual({ admitted: false, retryAfterSeconds: 4 });
    clock.advance(3_500);
    expect(buckets.take("a", 7)).toEqual({ admitted: true });
  });

  it("charges a cost above the burst as a full bucket rather than refusing it forever", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 4, now: clock.now });
    expect(buckets.take("a", 100)).toEqual({ admitted: true });
    expect(buckets.take("a", 100)).toEqual({ admitted: false, retryAfterSeconds: 4 });
    clock.advance(4_000);
    expect(buckets.take("a", 100)).toEqual({ admitted: true });
  });

  it("keeps keys apart", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, now: clock.now });
    expect(buckets.take("a", 1).admitted).toBe(true);
    expect(buckets.take("a", 1).admitted).toBe(false);
    expect(buckets.take("b", 1).admitted).toBe(true);
  });

  it("does not drain when the clock steps back", () => {
    const clock = manualClock(10_000);
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 2, now: clock.now });
    expect(buckets.take("a", 1).admitted).toBe(true);
    clock.advance(-5_000);
    expect(buckets.take("a", 1).admitted).toBe(true);
    expect(buckets.take("a", 1).admitted).toBe(false);
  });

  it("sweeps full buckets so idle keys do not pile up", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, now: clock.now, sweepAbove: 3 });
    for (const key of ["a", "b", "c"]) buckets.take(key, 1);
    clock.advance(1_000);
    buckets.take("d", 1);
    // a, b and c refilled to the brim: dropped; d is empty: kept.
    expect(buckets.size).toBe(1);
    expect(buckets.take("d", 1).admitted).toBe(false);
  });
});

describe("TokenBuckets.setLimits", () => {
  it("counts the time before a change at the old rate and drops tokens above the new burst", () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 10, now: clock.now });
    expect(buckets.take("a", 10).admitted).toBe(true);
    clock.advance(500);
    // 5 tokens refilled at 10/s before the rate halves; the new burst of 4 keeps 4 of them.
    buckets.setLimits(5, 4);
    expect(buckets.take("a", 4).admitted).toBe(true);
    expect(buckets.take("a", 1)).toEqual({ admitted: false, retryAfterSeconds: 1 });
    clock.advance(200);
    expect(buckets.take("a", 1).admitted).toBe(true);
  });
});

describe("IngestRateLimit", () => {
  it("holds this process's share of the rate and burst while it has peers, and all of it alone", () => {
    const clock = manualClock();
    let peers = 2;
    const limit = new IngestRateLimit({ ratePerSecond: 10, burst: 4, now: clock.now, peers: () => peers });
    const admitted = () => {
      try {
        limit.charge("ten_a", 1);
        return true;
      } catch {
        return false;
      }
    };
    // Half the burst, then half the rate: one event per 200 ms.
    expect([admitted(), admitted(), admitted()]).toEqual([true, true, false]);
    clock.advance(200);
    expect([admitted(), admitted()]).toEqual([true, false]);
    // The peer is gone: the whole rate from the next charge on, one event per 100 ms.
    peers = 1;
    expect(admitted()).toBe(false);
    clock.advance(100);
    expect([admitted(), admitted()]).toEqual([true, false]);
  });

  it("keeps a burst share of at least one event", () => {
    const clock = manualClock();
    const limit = new IngestRateLimit({ ratePerSecond: 4, burst: 1, now: clock.now, peers: () => 4 });
    limit.charge("ten_a", 1);
    expect(() => limit.charge("ten_a", 1)).toThrow(AppError);
    clock.advance(999);
    expect(() => limit.charge("ten_a", 1)).toThrow(AppError);
    clock.advance(1);
    expect(() => limit.charge("ten_a", 1)).not.toThrow();
  });

  it("throws 429 RATE_LIMITED with Retry-After in whole seconds", () => {
    const clock = manualClock();
    const limit = new IngestRateLimit({ ratePerSecond: 1, burst: 2, now: clock.now });
    limit.charge("ten_a", 2);
    let thrown: unknown;
    try {
      limit.charge("ten_a", 2);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: "RATE_LIMITED", status: 429, headers: { "retry-after": "2" }, details: { retryAfterSeconds: 2, ratePerSecond: 1, burst: 2 } });
    clock.advance(2_000);
    expect(() => limit.charge("ten_a", 2)).not.toThrow();
  });
});

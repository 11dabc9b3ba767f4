import { describe, expect, it } from "vitest";
import { burstFor, DeliveryLimiter, Semaphore, TokenBucket } from "./limits.js";

describe("TokenBucket", () => {
  it("lets a full bucket's burst through at once, then queues callers 1/rate apart", () => {
    const b = new TokenBucket(5, 2, 0);
    expect([b.reserve(0), b.reserve(0), b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 0, 200, 400, 600]);
  });

  it("refills with time, never above capacity", () => {
    const b = new TokenBucket(10, 1, 0);
    expect(b.reserve(0)).toBe(0);
    expect(b.reserve(50)).toBe(50); // half a token back after 50 ms
    expect(b.isFull(10_000)).toBe(true);
    expect(b.reserve(10_000)).toBe(0);
    expect(b.reserve(10_000)).toBe(100); // an hour idle still buys only one token
  });

  it("paces a steady stream at exactly the rate", () => {
    const b = new TokenBucket(4, 1, 0);
    let clock = 0;
    const starts: number[] = [];
    for (let i = 0; i < 9; i++) {
      clock += b.reserve(clock);
      starts.push(clock);
    }
    expect(starts).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  });

  it("ignores a clock stepping backwards", () => {
    const b = new TokenBucket(1, 1, 1000);
    expect(b.reserve(1000)).toBe(0);
    expect(b.reserve(500)).toBe(1000);
  });

  it("adopts a new rate for later reservations", () => {
    const b = new TokenBucket(1, 1, 0);
    expect(b.reserve(0)).toBe(0);
    b.setRate(100, 2, 0);
    expect(b.reserve(0)).toBe(10);
  });

  it("refuses nonsense", () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 1, 0)).toThrow(RangeError);
  });

  it("bursts 20 ms worth of a rate, at least one", () => {
    expect(burstFor(1)).toBe(1);
    expect(burstFor(50)).toBe(1);
    expect(burstFor(51)).toBe(2);
    expect(burstFor(10_000)).toBe(200);
  });
});

describe("Semaphore", () => {
  it("admits up to its limit and hands slots over in order", async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    await s.acquire();
    await s.acquire();
    const waiting = [3, 4, 5].map((n) => s.acquire().then(() => order.push(n)));
    expect(s.waiting).toBe(3);
    s.release();
    s.release();
    s.release();
    await Promise.all(waiting);
    expect(order).toEqual([3, 4, 5]);
    expect(s.inUse).toBe(2);
  });

  it("lets waiters in when its limit rises, and retires released slots while over a lowered one", async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const admitted: number[] = [];
    const waiting = [2, 3, 4].map((n) => s.acquire().then(() => admitted.push(n)));
    s.setLimit(3);
    await Promise.all(waiting.slice(0, 2));
    expect([admitted, s.inUse, s.waiting]).toEqual([[2, 3], 3, 1]);
    s.setLimit(1);
    s.release();
    s.release();
    expect([s.inUse, s.waiting]).toEqual([1, 1]);
    s.release();
    await waiting[2];
    expect([admitted, s.inUse, s.waiting]).toEqual([[2, 3, 4], 1, 0]);
  });
});

describe("DeliveryLimiter", () => {
  function fakeTime() {
    let clock = 0;
    const sleeps: number[] = [];
    return {
      now: () => clock,
      // Records the waits; the clock stands still, as if every caller reserved in the same instant.
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      advance: (ms: number) => {
        clock += ms;
      },
      sleeps,
    };
  }

  it("bounds requests per key and in total", async () => {
    const t = fakeTime();
    const limiter = new DeliveryLimiter({ maxInFlight: 3, maxPerKey: 2, ...t });
    const a1 = await limiter.acquire("a", null);
    const a2 = await limiter.acquire("a", null);
    let a3Done = false;
    const a3 = limiter.acquire("a", null).then((r) => {
      a3Done = true;
      return r;
    });
    const b1 = await limiter.acquire("b", null);
    let b2Done = false;
    const b2 = limiter.acquire("b", null).then((r) => {
      b2Done = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(limiter.inFlight).toBe(3);
    expect([a3Done, b2Done]).toEqual([false, false]);
    a1(); // frees a key slot for a3 and a global slot, which b2 (first in the global queue) or a3 takes
    await new Promise((r) => setImmediate(r));
    expect(limiter.inFlight).toBe(3);
    a2();
    b1();
    const [r3, r4] = await Promise.all([a3, b2]);
    expect(limiter.inFlight).toBe(2);
    r3();
    r4();
    r4(); // a second release is ignored
    expect(limiter.inFlight).toBe(0);
    expect(limiter.trackedKeys).toBe(0);
  });

  it("paces a key by its rate by waiting, not failing", async () => {
    const t = fakeTime();
    const limiter = new DeliveryLimiter({ maxInFlight: 100, maxPerKey: 100, ...t });
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const release = await limiter.acquire("slow", 2);
        release();
      }),
    );
    expect(t.sleeps).toEqual([500, 1000, 1500, 2000]);
    // Other keys are not held back by it.
    const release = await limiter.acquire("fast", null);
    release();
    expect(t.sleeps).toHaveLength(4);
  });

  it("holds this process's share of a key's concurrency and rate, and takes it all back when its peers go", async () => {
    const t = fakeTime();
    let peers = 3;
    const limiter = new DeliveryLimiter({ maxInFlight: 100, maxPerKey: 8, peers: () => peers, ...t });
    // 8 slots among 3 processes: 2 here (rounded down); 30/s among 3: 10/s, so 100 ms apart.
    const held = [await limiter.acquire("k", 30), await limiter.acquire("k", 30)];
    let thirdIn = false;
    const third = limiter.acquire("k", 30).then((r) => {
      thirdIn = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect([thirdIn, t.sleeps]).toEqual([false, [100]]);
    // Alone now: 8 slots and 30/s, from the next caller on.
    peers = 1;
    const fourth = await limiter.acquire("k", 30);
    await new Promise((r) => setImmediate(r));
    expect(thirdIn).toBe(true);
    // Queued behind the reservation made at 10/s, then 1/30 s apart.
    expect(t.sleeps).toEqual([100, 67, 100]);
    for (const release of [...held, await third, fourth]) release();
    expect(limiter.inFlight).toBe(0);
  });

  it("forgets a key only once its bucket has refilled", async () => {
    const t = fakeTime();
    const limiter = new DeliveryLimiter({ maxInFlight: 10, maxPerKey: 10, ...t });
    (await limiter.acquire("k", 1))();
    expect(limiter.trackedKeys).toBe(1);
    (await limiter.acquire("k", 1))(); // waits 1 s: the bucket survived
    expect(t.sleeps).toEqual([1000]);
    // Idle keys with refilled buckets are swept once many keys are remembered.
    for (let i = 0; i < 1_001; i++) (await limiter.acquire(`key${i}`, 1))();
    expect(limiter.trackedKeys).toBe(1_002);
    t.advance(60_000);
    (await limiter.acquire("other", null))();
    expect(limiter.trackedKeys).toBe(0);
  });
});

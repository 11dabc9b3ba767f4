import { describe, expect, it } from "vitest";
import { expectRetryError } from "./expect.fixture.js";
import type { RetryPolicy } from "./policy.js";
import { describePolicy, doublingDelaysWithin, scheduleOf } from "./schedule.js";

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe("preset schedules (nominal, no jitter)", () => {
  it("exponential: immediate, then 1, 2, 4, 8 s; 5 attempts", () => {
    expect(describePolicy({ kind: "exponential" })).toEqual({ kind: "exponential", maxAttempts: 5, delaysSeconds: [1, 2, 4, 8], windowSeconds: 15, jitter: { kind: "none" } });
  });

  it("callback: 3^k minutes for k = 1..6; 7 attempts; 54 h window", () => {
    const d = describePolicy({ kind: "callback" });
    expect(d.maxAttempts).toBe(7);
    expect(d.delaysSeconds.map((s) => s / 60)).toEqual([3, 9, 27, 81, 243, 729]);
    expect(d.windowSeconds).toBe(54 * 3600);
    // The docs' "~1.4 h, ~4 h, ~12 h" rows.
    expect(d.delaysSeconds.slice(3).map((s) => Math.round((s / 3600) * 10) / 10)).toEqual([1.4, 4.1, 12.2]);
    expect(sum(d.delaysSeconds) / 60).toBe(1092);
  });

  it("jittered: 4 attempts, decorrelated base 15 s cap 300 s, midpoint path 30, 52.5, 86.25 s", () => {
    expect(describePolicy({ kind: "jittered" })).toEqual({
      kind: "jittered",
      maxAttempts: 4,
      delaysSeconds: [30, 52.5, 86.25],
      windowSeconds: 45 + 135 + 300,
      jitter: { kind: "decorrelated", baseSeconds: 15, capSeconds: 300 },
    });
  });

  it("default: 30 s doubling, 14 attempts fit in 3 days", () => {
    const d = describePolicy({ kind: "default" });
    expect(d.delaysSeconds).toEqual([30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 61440, 122880]);
    expect(d.maxAttempts).toBe(14);
    expect(d.windowSeconds).toBe(3 * 24 * 3600);
    expect(d.jitter).toEqual({ kind: "proportional", ratio: 0.3 });
    // Last nominal attempt at 68.3 h; one more doubling would land at 136.5 h.
    expect(sum(d.delaysSeconds)).toBe(245_730);
    expect(sum(d.delaysSeconds) + 245_760).toBeGreaterThan(d.windowSeconds);
  });

  it("custom: attempts = delays + 1, window = their sum", () => {
    expect(describePolicy({ kind: "custom", delaysSeconds: [0, 10, 3600] })).toEqual({
      kind: "custom",
      maxAttempts: 4,
      delaysSeconds: [0, 10, 3600],
      windowSeconds: 3610,
      jitter: { kind: "none" },
    });
  });

  it("re-checks policies that did not come through parseRetryPolicy", () => {
    expectRetryError(() => describePolicy({ kind: "custom", delaysSeconds: [] }), "DELAY_COUNT");
    expectRetryError(() => describePolicy({ kind: "custom", delaysSeconds: [1e9] }), "DELAY_RANGE", "delaysSeconds.0");
    expectRetryError(() => describePolicy({ kind: "weekly" } as unknown as RetryPolicy), "UNKNOWN_KIND");
    expectRetryError(() => describePolicy(null as unknown as RetryPolicy), "NOT_AN_OBJECT");
  });

  it("hands out copies, and the presets are frozen", () => {
    const d = describePolicy({ kind: "exponential" });
    (d.delaysSeconds as number[]).push(99);
    expect(describePolicy({ kind: "exponential" }).delaysSeconds).toEqual([1, 2, 4, 8]);
    expect(Object.isFrozen(scheduleOf({ kind: "default" }).nominalDelaysMs)).toBe(true);
  });
});

describe("doublingDelaysWithin", () => {
  it("keeps doubling while the running total fits", () => {
    expect(doublingDelaysWithin(1, 15)).toEqual([1, 2, 4, 8]);
    expect(doublingDelaysWithin(1, 14)).toEqual([1, 2, 4]);
    expect(doublingDelaysWithin(5, 4)).toEqual([]);
  });
});

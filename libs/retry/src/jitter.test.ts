import { describe, expect, it } from "vitest";
import { decorrelatedJitter, proportionalJitter } from "./jitter.js";
import { nextAttempt } from "./next-attempt.js";
import { ALMOST_ONE, median, mulberry32 } from "./prng.fixture.js";
import { describePolicy } from "./schedule.js";

const SAMPLES = 20_001;

function firstRetryDelays(kind: "jittered" | "default", seed: number, n = SAMPLES): number[] {
  const random = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = nextAttempt({ policy: { kind }, attemptsMade: 1, firstAttemptAtMs: 0, nowMs: 0, outcome: { kind: "retryable" }, random });
    if (d.kind !== "retry") throw new Error("expected a retry");
    out.push(d.delayMs);
  }
  return out;
}

describe("jitter shapes", () => {
  it("proportional: ±ratio around nominal", () => {
    expect(proportionalJitter(1000, 0.3, 0)).toBe(700);
    expect(proportionalJitter(1000, 0.3, 0.5)).toBe(1000);
    expect(proportionalJitter(1000, 0.3, ALMOST_ONE)).toBeLessThan(1300);
  });

  it("decorrelated: min(cap, uniform(base, 3 * prev)), prev clamped to [base, cap]", () => {
    expect(decorrelatedJitter(15, 300, 15, 0)).toBe(15);
    expect(decorrelatedJitter(15, 300, 15, 0.5)).toBe(30);
    expect(decorrelatedJitter(15, 300, 100, 0.5)).toBe(15 + 0.5 * 285);
    expect(decorrelatedJitter(15, 300, 200, ALMOST_ONE)).toBe(300);
    // A Retry-After-sized previous sleep is clamped to cap first; a nonsense one to base.
    expect(decorrelatedJitter(15, 300, 86_400, 0.5)).toBe(300);
    expect(decorrelatedJitter(15, 300, -5, 0.5)).toBe(30);
  });
});

describe("jittered policy (decorrelated)", () => {
  it("first retry: median ~30 s over many seeded samples, all within [15 s, 45 s]", () => {
    for (const seed of [1, 42, 0xc0ffee]) {
      const delays = firstRetryDelays("jittered", seed);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(15_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(45_000);
      // Uniform(15, 45): the sample median of 20,001 draws has a standard error of ~0.1 s.
      expect(Math.abs(median(delays) - 30_000)).toBeLessThan(750);
    }
  });

  it("later retries stay within [15 s, min(300 s, 3 * previous)]", () => {
    const random = mulberry32(7);
    const violations: string[] = [];
    for (let run = 0; run < 2000; run++) {
      let prev: number | undefined;
      for (let attemptsMade = 1; attemptsMade <= 3; attemptsMade++) {
        const d = nextAttempt({ policy: { kind: "jittered" }, attemptsMade, firstAttemptAtMs: 0, nowMs: 0, previousDelayMs: prev, outcome: { kind: "retryable" }, random });
        if (d.kind !== "retry") throw new Error("expected a retry");
        if (d.delayMs < 15_000 || d.delayMs > Math.min(300_000, 3 * (prev ?? 15_000))) violations.push(`run ${run} retry ${attemptsMade}: ${d.delayMs} after ${prev}`);
        prev = d.delayMs;
      }
    }
    expect(violations).toEqual([]);
  });

  it("ignores previousDelayMs on the first retry", () => {
    const d = nextAttempt({ policy: { kind: "jittered" }, attemptsMade: 1, firstAttemptAtMs: 0, nowMs: 0, previousDelayMs: 300_000, outcome: { kind: "retryable" }, random: () => 0.5 });
    expect(d).toEqual({ kind: "retry", atMs: 30_000, delayMs: 30_000 });
  });
});

describe("default policy (±30 %)", () => {
  it("every retry stays within [0.7, 1.3] x nominal and centres on it", () => {
    const nominal = describePolicy({ kind: "default" }).delaysSeconds.map((s) => s * 1000);
    const random = mulberry32(2024);
    nominal.forEach((n, i) => {
      const ratios: number[] = [];
      for (let k = 0; k < 2001; k++) {
        // nowMs = firstAttemptAtMs, so the whole 3-day window is left and cuts nothing (the
        // largest upward draw, 1.3 x 34.1 h, is 44.4 h); next-attempt.test.ts covers the cut.
        const d = nextAttempt({ policy: { kind: "default" }, attemptsMade: i + 1, firstAttemptAtMs: 0, nowMs: 0, outcome: { kind: "retryable" }, random });
        if (d.kind !== "retry") throw new Error("expected a retry");
        ratios.push(d.delayMs / n);
      }
      // Delays are rounded to whole ms, hence the 1 ms slack on the 30 s retry.
      expect(Math.min(...ratios)).toBeGreaterThanOrEqual(0.7 - 1 / n);
      expect(Math.max(...ratios)).toBeLessThanOrEqual(1.3 + 1 / n);
      expect(Math.abs(median(ratios) - 1)).toBeLessThan(0.03);
    });
  });

  it("first retry is 21-39 s", () => {
    const delays = firstRetryDelays("default", 99, 5000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(21_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(39_000);
  });
});

import { describe, expect, it } from "vitest";
import type { Outcome } from "./classify.js";
import { expectRetryError } from "./expect.fixture.js";
import { nextAttempt, type Decision, type NextAttemptInput } from "./next-attempt.js";
import type { RetryPolicy } from "./policy.js";
import { ALMOST_ONE, always, noRandom } from "./prng.fixture.js";
import { describePolicy } from "./schedule.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 15);
const RETRYABLE: Outcome = { kind: "retryable" };

function next(partial: Partial<NextAttemptInput> & Pick<NextAttemptInput, "policy">): Decision {
  return nextAttempt({ attemptsMade: 1, firstAttemptAtMs: T0, nowMs: T0, outcome: RETRYABLE, random: noRandom, ...partial });
}

/**
 * Runs one delivery that fails every time (each attempt taking `durationMs`) and returns the
 * attempt times relative to the first, plus the final decision.
 */
function runToEnd(policy: RetryPolicy, random: () => number, outcome: (attempt: number) => Outcome = () => RETRYABLE, durationMs = 0) {
  const times = [0];
  let now = T0 + durationMs;
  let previousDelayMs: number | undefined;
  for (let attemptsMade = 1; ; attemptsMade++) {
    const d = nextAttempt({ policy, attemptsMade, firstAttemptAtMs: T0, nowMs: now, previousDelayMs, outcome: outcome(attemptsMade), random });
    if (d.kind !== "retry") return { times, final: d };
    expect(d.atMs).toBe(now + d.delayMs);
    times.push(d.atMs - T0);
    previousDelayMs = d.delayMs;
    now = d.atMs + durationMs;
  }
}

describe("nextAttempt: outcomes other than retryable", () => {
  it("passes delivered through and dead-letters fatal and gone at once, even on attempt 1", () => {
    expect(next({ policy: { kind: "default" }, outcome: { kind: "delivered" } })).toEqual({ kind: "delivered" });
    expect(next({ policy: { kind: "default" }, outcome: { kind: "fatal", reason: "client_error" } })).toEqual({ kind: "dead_letter", reason: "fatal" });
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "fatal", reason: "refused_target" } })).toEqual({ kind: "dead_letter", reason: "fatal" });
    expect(next({ policy: { kind: "exponential" }, outcome: { kind: "fatal", reason: "redirect" } })).toEqual({ kind: "dead_letter", reason: "fatal" });
    expect(next({ policy: { kind: "jittered" }, outcome: { kind: "gone" } })).toEqual({ kind: "dead_letter", reason: "gone" });
  });

  it("reports delivered even after the last attempt", () => {
    expect(next({ policy: { kind: "exponential" }, attemptsMade: 5, outcome: { kind: "delivered" } })).toEqual({ kind: "delivered" });
  });
});

describe("nextAttempt: nominal schedules end to end", () => {
  it("exponential: attempts at 0, 1, 3, 7, 15 s, then exhausted", () => {
    expect(runToEnd({ kind: "exponential" }, noRandom)).toEqual({ times: [0, 1000, 3000, 7000, 15_000], final: { kind: "dead_letter", reason: "exhausted" } });
  });

  it("callback: attempts at 0, 3, 12, 39, 120, 363, 1092 min, then exhausted", () => {
    const { times, final } = runToEnd({ kind: "callback" }, noRandom);
    expect(times.map((t) => t / 60_000)).toEqual([0, 3, 12, 39, 120, 363, 1092]);
    expect(final).toEqual({ kind: "dead_letter", reason: "exhausted" });
  });

  it("custom: exactly the given delays, zero included", () => {
    const { times, final } = runToEnd({ kind: "custom", delaysSeconds: [0, 5, 0, 60] }, noRandom);
    expect(times).toEqual([0, 0, 5000, 5000, 65_000]);
    expect(final).toEqual({ kind: "dead_letter", reason: "exhausted" });
  });

  it("jittered: with every draw at 0.5, the nominal 30, 52.5, 86.25 s path", () => {
    const { times } = runToEnd({ kind: "jittered" }, always(0.5));
    expect(times).toEqual([0, 30_000, 82_500, 168_750]);
  });

  it("default: with every draw at 0.5, the nominal doubling path, last attempt at 68.3 h", () => {
    const { times, final } = runToEnd({ kind: "default" }, always(0.5));
    expect(times).toHaveLength(14);
    expect(times.at(-1)).toBe(245_730_000);
    expect(final).toEqual({ kind: "dead_letter", reason: "exhausted" });
  });
});

describe("nextAttempt: exhaustion at exactly maxAttempts", () => {
  for (const policy of [{ kind: "exponential" }, { kind: "callback" }, { kind: "jittered" }, { kind: "default" }, { kind: "custom", delaysSeconds: [1, 2] }] as const) {
    it(`${policy.kind}`, () => {
      const { maxAttempts } = describePolicy(policy);
      const random = always(0.25);
      expect(next({ policy, attemptsMade: maxAttempts - 1, random }).kind).toBe("retry");
      expect(next({ policy, attemptsMade: maxAttempts, random })).toEqual({ kind: "dead_letter", reason: "exhausted" });
      // A policy swapped for a shorter one mid-delivery is simply exhausted.
      expect(next({ policy, attemptsMade: maxAttempts + 3, random })).toEqual({ kind: "dead_letter", reason: "exhausted" });
      expect(runToEnd(policy, random).times).toHaveLength(maxAttempts);
    });
  }
});

describe("nextAttempt: Retry-After", () => {
  it("replaces the computed delay, shorter or longer", () => {
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: 5000 } })).toEqual({ kind: "retry", atMs: T0 + 5000, delayMs: 5000 });
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: 2 * HOUR } })).toEqual({ kind: "retry", atMs: T0 + 2 * HOUR, delayMs: 2 * HOUR });
    expect(next({ policy: { kind: "default" }, random: always(0.9), outcome: { kind: "retryable", retryAfterMs: 24 * HOUR } })).toMatchObject({ delayMs: 24 * HOUR });
  });

  it("never reaches past the policy window", () => {
    // exponential's window is its 15 s schedule: 2 s in, 13 s are left.
    expect(next({ policy: { kind: "exponential" }, nowMs: T0 + 2000, outcome: { kind: "retryable", retryAfterMs: 60_000 } })).toMatchObject({ delayMs: 13_000 });
    // callback's window is 54 h: 50 h in, 4 h are left.
    expect(next({ policy: { kind: "callback" }, attemptsMade: 3, nowMs: T0 + 50 * HOUR, outcome: { kind: "retryable", retryAfterMs: 24 * HOUR } })).toMatchObject({ delayMs: 4 * HOUR });
  });

  it("once the window is spent, is capped at the policy's own delay", () => {
    // 20 s into exponential's 15 s window: the 4 s retry after attempt 3 stands.
    expect(next({ policy: { kind: "exponential" }, attemptsMade: 3, nowMs: T0 + 20_000, outcome: { kind: "retryable", retryAfterMs: 60_000 } })).toMatchObject({ delayMs: 4000 });
    // ...but a shorter Retry-After still wins.
    expect(next({ policy: { kind: "exponential" }, attemptsMade: 3, nowMs: T0 + 20_000, outcome: { kind: "retryable", retryAfterMs: 1000 } })).toMatchObject({ delayMs: 1000 });
  });

  it("cannot buy an attempt beyond maxAttempts", () => {
    const { times, final } = runToEnd({ kind: "exponential" }, noRandom, () => ({ kind: "retryable", retryAfterMs: 1000 }));
    expect(times).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(final).toEqual({ kind: "dead_letter", reason: "exhausted" });
  });

  it("sanitises a hand-built retryAfterMs like a parsed one", () => {
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: 0 } })).toMatchObject({ delayMs: 1000 });
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: -5 } })).toMatchObject({ delayMs: 1000 });
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: Number.POSITIVE_INFINITY } })).toMatchObject({ delayMs: 24 * HOUR });
    expect(next({ policy: { kind: "callback" }, outcome: { kind: "retryable", retryAfterMs: Number.NaN } })).toMatchObject({ delayMs: 180_000 });
  });

  it("a long Retry-After on jittered does not blow up the next decorrelated draw", () => {
    const d = next({ policy: { kind: "jittered" }, attemptsMade: 2, previousDelayMs: 24 * HOUR, random: always(ALMOST_ONE) });
    expect(d).toMatchObject({ delayMs: 300_000 });
  });
});

describe("nextAttempt: the default policy's 3-day window", () => {
  it("cuts upward jitter so the last attempt lands no later than 72 h", () => {
    const { times } = runToEnd({ kind: "default" }, always(ALMOST_ONE));
    expect(times).toHaveLength(14);
    // Every draw at +30 % would put attempt 14 at 88.7 h; the window stops it at 72 h.
    expect(times.at(-1)).toBe(72 * HOUR);
    const { times: low } = runToEnd({ kind: "default" }, always(0));
    expect(low.at(-1)).toBe(0.7 * 245_730_000);
  });

  it("never cuts below the smallest jittered delay when the delivery runs late", () => {
    // 80 h in (the worker was down): retry 13 still waits at least 0.7 x 34.1 h.
    expect(next({ policy: { kind: "default" }, attemptsMade: 13, nowMs: T0 + 80 * HOUR, random: always(ALMOST_ONE) })).toMatchObject({ delayMs: 0.7 * 122_880_000 });
    expect(next({ policy: { kind: "default" }, attemptsMade: 2, nowMs: T0 + 80 * HOUR, random: always(0.5) })).toMatchObject({ delayMs: 42_000 });
  });

  it("treats a clock that went backwards as no time elapsed", () => {
    expect(next({ policy: { kind: "exponential" }, nowMs: T0 - HOUR, outcome: { kind: "retryable", retryAfterMs: 60_000 } })).toEqual({ kind: "retry", atMs: T0 - HOUR + 15_000, delayMs: 15_000 });
  });
});

describe("nextAttempt: arguments", () => {
  it("draws randomness only for the jittered kinds, once per decision", () => {
    let calls = 0;
    const counting = () => {
      calls++;
      return 0.5;
    };
    for (const kind of ["jittered", "default"] as const) next({ policy: { kind }, random: counting });
    expect(calls).toBe(2);
    for (const kind of ["exponential", "callback"] as const) expect(next({ policy: { kind } }).kind).toBe("retry");
  });

  it("refuses impossible inputs", () => {
    const policy: RetryPolicy = { kind: "default" };
    for (const attemptsMade of [0, -1, 1.5, Number.NaN]) expectRetryError(() => next({ policy, attemptsMade, random: always(0.5) }), "BAD_ARGUMENT");
    expectRetryError(() => next({ policy, nowMs: Number.NaN, random: always(0.5) }), "BAD_ARGUMENT");
    expectRetryError(() => next({ policy, firstAttemptAtMs: Number.POSITIVE_INFINITY, random: always(0.5) }), "BAD_ARGUMENT");
    for (const r of [1, -0.1, Number.NaN, 2]) expectRetryError(() => next({ policy, random: always(r) }), "BAD_ARGUMENT");
    expectRetryError(() => next({ policy, outcome: { kind: "maybe" } as unknown as Outcome, random: always(0.5) }), "BAD_ARGUMENT");
    expectRetryError(() => next({ policy: { kind: "custom", delaysSeconds: [-1] } }), "DELAY_RANGE");
  });
});

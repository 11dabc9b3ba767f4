import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyResponse, TRANSPORT_ERRORS, type Outcome } from "./classify.js";
import { nextAttempt } from "./next-attempt.js";
import { CUSTOM_MAX_DELAY_SECONDS, type RetryPolicy } from "./policy.js";
import { describePolicy } from "./schedule.js";

/*
 * Whole deliveries driven by arbitrary policies, failure sequences, random draws and attempt
 * durations. Sizes keep the file well under a second.
 */

const policyArb: fc.Arbitrary<RetryPolicy> = fc.oneof(
  fc.constantFrom<RetryPolicy>({ kind: "exponential" }, { kind: "callback" }, { kind: "jittered" }, { kind: "default" }),
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: CUSTOM_MAX_DELAY_SECONDS }), fc.constantFrom(0, 1, CUSTOM_MAX_DELAY_SECONDS)), { minLength: 1, maxLength: 50 })
    .map((delaysSeconds): RetryPolicy => ({ kind: "custom", delaysSeconds })),
);

// Retry-After as classifyResponse makes it, plus hand-built oddities nextAttempt must survive.
const retryableArb: fc.Arbitrary<Outcome> = fc.oneof(
  fc.constant<Outcome>({ kind: "retryable" }),
  fc.integer({ min: 1000, max: 86_400_000 }).map((retryAfterMs): Outcome => ({ kind: "retryable", retryAfterMs })),
  fc.double().map((retryAfterMs): Outcome => ({ kind: "retryable", retryAfterMs })),
);

const unitArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

interface Run {
  attempts: number;
  delays: number[];
  times: number[];
  final: string;
}

function simulate(policy: RetryPolicy, outcomes: readonly Outcome[], draws: readonly number[], durations: readonly number[], skewMs = 0): Run {
  const T0 = 1_700_000_000_000;
  const { maxAttempts } = describePolicy(policy);
  let drawIndex = 0;
  const random = () => draws[drawIndex++ % draws.length] ?? 0.5;
  let now = T0 + (durations[0] ?? 0);
  let previousDelayMs: number | undefined;
  const run: Run = { attempts: 1, delays: [], times: [0], final: "" };
  // Bounded by maxAttempts + 1 so a bug shows up as a failed assertion, not a hang.
  for (let attemptsMade = 1; attemptsMade <= maxAttempts + 1; attemptsMade++) {
    const outcome = outcomes[(attemptsMade - 1) % outcomes.length] ?? { kind: "retryable" };
    const d = nextAttempt({ policy, attemptsMade, firstAttemptAtMs: T0 + skewMs, nowMs: now, previousDelayMs, outcome, random });
    if (d.kind !== "retry") {
      run.final = d.kind === "dead_letter" ? d.reason : d.kind;
      return run;
    }
    expect(d.atMs).toBe(now + d.delayMs);
    run.delays.push(d.delayMs);
    run.times.push(d.atMs - T0);
    run.attempts++;
    previousDelayMs = d.delayMs;
    now = d.atMs + (durations[attemptsMade % Math.max(1, durations.length)] ?? 0);
  }
  run.final = "runaway";
  return run;
}

describe("whole deliveries (fast-check)", () => {
  it("never exceed maxAttempts; delays are finite, whole, non-negative and within the window", () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(retryableArb, { minLength: 1, maxLength: 8 }),
        fc.array(unitArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 10 * 3_600_000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -3_600_000, max: 3_600_000 }),
        (policy, outcomes, draws, durations, skew) => {
          const { maxAttempts, windowSeconds } = describePolicy(policy);
          const run = simulate(policy, outcomes, draws, durations, skew);
          expect(run.final).toBe("exhausted");
          expect(run.attempts).toBe(maxAttempts);
          for (const d of run.delays) {
            expect(Number.isSafeInteger(d)).toBe(true);
            expect(d).toBeGreaterThanOrEqual(0);
            // Every policy's single largest computed delay fits its window, and Retry-After is capped to it.
            expect(d).toBeLessThanOrEqual(Math.max(windowSeconds * 1000, 0));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("without Retry-After or slow attempts, the whole schedule stays inside the window", () => {
    fc.assert(
      fc.property(policyArb, fc.array(unitArb, { minLength: 1, maxLength: 16 }), (policy, draws) => {
        const run = simulate(policy, [{ kind: "retryable" }], draws, [0]);
        expect(run.attempts).toBe(describePolicy(policy).maxAttempts);
        expect(run.times.at(-1)).toBeLessThanOrEqual(describePolicy(policy).windowSeconds * 1000);
      }),
      { numRuns: 300 },
    );
  });

  it("stop at the first non-retryable outcome, whatever came before", () => {
    const terminal = fc.constantFrom<Outcome>({ kind: "delivered" }, { kind: "gone" }, { kind: "fatal", reason: "client_error" }, { kind: "fatal", reason: "redirect" }, { kind: "fatal", reason: "refused_target" });
    fc.assert(
      fc.property(policyArb, fc.array(retryableArb, { maxLength: 60 }), terminal, unitArb, (policy, before, last, r) => {
        const { maxAttempts } = describePolicy(policy);
        const run = simulate(policy, [...before, last, ...Array<Outcome>(60).fill({ kind: "retryable" })], [r], [0]);
        if (before.length >= maxAttempts) {
          expect(run.final).toBe("exhausted");
          expect(run.attempts).toBe(maxAttempts);
        } else {
          expect(run.final).toBe(last.kind === "fatal" ? "fatal" : last.kind);
          expect(run.attempts).toBe(before.length + 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("classifyResponse (fast-check)", () => {
  it("is total over statuses and only 429/503 carry a Retry-After", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 1000 }), fc.option(fc.oneof(fc.string(), fc.nat().map(String)), { nil: undefined }), (status, retryAfter) => {
        const o = classifyResponse({ status, retryAfter, nowMs: 1_700_000_000_000 });
        expect(["delivered", "retryable", "fatal", "gone"]).toContain(o.kind);
        if (o.kind === "retryable" && o.retryAfterMs !== undefined) expect([429, 503]).toContain(status);
        if (status >= 400 && status < 500) expect(o.kind === "fatal" || o.kind === "gone" || [408, 425, 429].includes(status)).toBe(true);
      }),
    );
    for (const error of TRANSPORT_ERRORS) expect(classifyResponse({ error, nowMs: 0 }).kind).toBe(error === "refused_target" ? "fatal" : "retryable");
  });
});

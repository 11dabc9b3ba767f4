import type { Outcome } from "./classify.js";
import { RetryPolicyError } from "./errors.js";
import type { RetryPolicy } from "./policy.js";
import { RETRY_AFTER_MAX_MS, RETRY_AFTER_MIN_MS } from "./retry-after.js";
import { retryDelay, scheduleOf } from "./schedule.js";

export interface NextAttemptInput {
  readonly policy: RetryPolicy;
  /** Attempts already made, the one that produced `outcome` included (so >= 1). */
  readonly attemptsMade: number;
  readonly firstAttemptAtMs: number;
  readonly nowMs: number;
  /** The delayMs of the previous "retry" decision; only decorrelated jitter reads it. */
  readonly previousDelayMs?: number | undefined;
  readonly outcome: Outcome;
  /** Uniform in [0, 1). Called at most once, and only by the jittered policies. */
  readonly random: () => number;
}

export type DeadLetterReason = "exhausted" | "fatal" | "gone";

export type Decision = { readonly kind: "retry"; readonly atMs: number; readonly delayMs: number } | { readonly kind: "dead_letter"; readonly reason: DeadLetterReason } | { readonly kind: "delivered" };

function finite(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new RetryPolicyError("BAD_ARGUMENT", `${name} must be a finite number`);
  return value;
}

function checkedRandom(random: () => number): () => number {
  if (typeof random !== "function") throw new RetryPolicyError("BAD_ARGUMENT", "random must be a function");
  return () => {
    const r = random();
    if (typeof r !== "number" || !(r >= 0 && r < 1)) throw new RetryPolicyError("BAD_ARGUMENT", `random() must return a number in [0, 1), got ${String(r)}`);
    return r;
  };
}

/** A Retry-After from a hand-built Outcome gets the same sanity as a parsed one. */
function retryAfterOf(outcome: Outcome): number | undefined {
  if (outcome.kind !== "retryable") return undefined;
  const ms = outcome.retryAfterMs;
  if (typeof ms !== "number" || Number.isNaN(ms)) return undefined;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/**
 * Decides what happens after an attempt. For a retryable outcome with attempts left:
 *   computed  = the policy's delay for this retry (jitter applied)
 *   ceiling   = max(minDelay, what is left of the window)
 *   delay     = min(Retry-After ?? computed, ceiling)
 * where minDelay is the smallest delay the policy itself could have drawn for this retry. So
 * Retry-After replaces the computed delay (shorter or longer) but never reaches past the window,
 * upward jitter is cut off at the window's end, and a delivery that is already running late still
 * waits at least minDelay instead of retrying back to back. Attempts are counted first, so no
 * Retry-After can buy an attempt beyond maxAttempts.
 */
export function nextAttempt(input: NextAttemptInput): Decision {
  const { policy, attemptsMade, outcome, previousDelayMs } = input;
  const firstAttemptAtMs = finite("firstAttemptAtMs", input.firstAttemptAtMs);
  const nowMs = finite("nowMs", input.nowMs);
  if (!Number.isSafeInteger(attemptsMade) || attemptsMade < 1) throw new RetryPolicyError("BAD_ARGUMENT", `attemptsMade must be an integer >= 1, got ${String(attemptsMade)}`);
  const random = checkedRandom(input.random);
  const schedule = scheduleOf(policy);

  switch (outcome?.kind) {
    case "delivered":
      return { kind: "delivered" };
    case "fatal":
      return { kind: "dead_letter", reason: "fatal" };
    case "gone":
      return { kind: "dead_letter", reason: "gone" };
    case "retryable":
      break;
    default:
      throw new RetryPolicyError("BAD_ARGUMENT", "outcome must be a classifyResponse result");
  }

  // `>=`, not `===`: a policy swapped for a shorter one mid-delivery is simply exhausted.
  if (attemptsMade >= schedule.maxAttempts) return { kind: "dead_letter", reason: "exhausted" };

  const { delayMs: computed, minDelayMs } = retryDelay(schedule, attemptsMade, previousDelayMs, random);
  // A clock that went backwards between workers counts as no time elapsed.
  const elapsed = Math.max(0, nowMs - firstAttemptAtMs);
  const ceiling = Math.max(minDelayMs, schedule.windowMs - elapsed);
  const delayMs = Math.round(Math.min(retryAfterOf(outcome) ?? computed, ceiling));
  return { kind: "retry", atMs: nowMs + delayMs, delayMs };
}

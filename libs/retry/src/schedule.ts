import { RetryPolicyError } from "./errors.js";
import { decorrelatedJitter, proportionalJitter } from "./jitter.js";
import { checkCustomDelays, type RetryPolicy, type RetryPolicyKind } from "./policy.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export type JitterDescription =
  | { readonly kind: "none" }
  /** Each delay is its nominal value times a factor uniform in [1 - ratio, 1 + ratio). */
  | { readonly kind: "proportional"; readonly ratio: number }
  /** AWS decorrelated jitter: delay = min(cap, uniform(base, previous delay * 3)). */
  | { readonly kind: "decorrelated"; readonly baseSeconds: number; readonly capSeconds: number };

/** The resolved schedule of a policy, in milliseconds. Internal: the public view is describePolicy. */
export interface Schedule {
  readonly kind: RetryPolicyKind;
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Nominal delay before attempt 2, 3, ... (length maxAttempts - 1), with no jitter. */
  readonly nominalDelaysMs: readonly number[];
  /**
   * How long after the first attempt retries may still be scheduled. The window can shorten a
   * delay (upward jitter, Retry-After) but never below `minDelayMs`; see next-attempt.ts.
   */
  readonly windowMs: number;
  readonly jitter: JitterDescription;
}

// exponential — product docs: "attempt 1 immediate, then retries after ~1, 2, 4, 8 seconds; after 5
// failed attempts (or a 4xx client error) the delivery is marked failed". The docs give no window
// beyond the schedule itself, so the window is the schedule's length, 15 s.
const EXPONENTIAL_DELAYS_MS = [1, 2, 4, 8].map((s) => s * SECOND);

// callback — product docs: up to 7 attempts, the table lists attempts 2..7 at 3, 9, 27 min,
// ~1.4 h, ~4 h, ~12 h after the previous attempt, i.e. 3^k minutes for k = 1..6 (sum 1,092 min =
// 18.2 h). The same docs call the total window "~54 h", which is the sum up to 3^7 (3,279 min); we
// keep the six tabled delays and use the stated 54 h only as the ceiling for Retry-After.
const CALLBACK_DELAYS_MS = [3, 9, 27, 81, 243, 729].map((m) => m * MINUTE);
const CALLBACK_WINDOW_MS = 54 * HOUR;

// jittered — product docs: "resend up to 3 times; each retry uses a decorrelated jitter backoff
// algorithm with a median of 30 seconds for the first try". The first draw is uniform(base,
// 3 * base), whose median is 2 * base, so base = 15 s gives the documented 30 s (range 15-45 s).
// The cap is our choice (the docs name none): 5 min trims only the third retry's tail (uncapped it
// could reach 405 s) and bounds the whole delivery to 45 + 135 + 300 s = 8 min.
const JITTERED_BASE_MS = 15 * SECOND;
const JITTERED_CAP_MS = 5 * MINUTE;
const JITTERED_RETRIES = 3;

// default — product docs: "~30 s, doubling, with ±30 % jitter, until about 3 days have passed
// since the first attempt". The attempt count is derived below: 13 doubling delays (30 s .. 34.1 h)
// sum to 245,730 s = 68.3 h, and a 14th (68.3 h more) would overshoot, so 14 attempts in all.
const DEFAULT_FIRST_DELAY_MS = 30 * SECOND;
const DEFAULT_JITTER_RATIO = 0.3;
const DEFAULT_WINDOW_MS = 72 * HOUR;

/** Doubling delays from `firstMs` for as long as their running total stays within `windowMs`. */
export function doublingDelaysWithin(firstMs: number, windowMs: number): number[] {
  const out: number[] = [];
  let total = 0;
  for (let d = firstMs; total + d <= windowMs; d *= 2) {
    out.push(d);
    total += d;
  }
  return out;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Decorrelated delays with every draw at r: r = 0.5 is the "nominal" path, r -> 1 the slowest. */
function decorrelatedPath(r: number): number[] {
  const out: number[] = [];
  let prev = JITTERED_BASE_MS;
  for (let i = 0; i < JITTERED_RETRIES; i++) {
    prev = decorrelatedJitter(JITTERED_BASE_MS, JITTERED_CAP_MS, prev, r);
    out.push(prev);
  }
  return out;
}

/** Freezes a schedule: presets are shared module-level values. */
const frozen = (s: Schedule): Schedule => Object.freeze({ kind: s.kind, maxAttempts: s.maxAttempts, nominalDelaysMs: Object.freeze([...s.nominalDelaysMs]), windowMs: s.windowMs, jitter: Object.freeze({ ...s.jitter }) });

function fixed(kind: RetryPolicyKind, delaysMs: readonly number[], windowMs = sum(delaysMs)): Schedule {
  return frozen({ kind, maxAttempts: delaysMs.length + 1, nominalDelaysMs: delaysMs, windowMs, jitter: { kind: "none" } });
}

const PRESETS = {
  exponential: fixed("exponential", EXPONENTIAL_DELAYS_MS),
  callback: fixed("callback", CALLBACK_DELAYS_MS, CALLBACK_WINDOW_MS),
  jittered: frozen({
    kind: "jittered",
    maxAttempts: JITTERED_RETRIES + 1,
    // "Nominal" for decorrelated jitter is the path with every draw at its midpoint: 30, 52.5,
    // 86.25 s. The first is the true median; later ones are a typical path, not marginal medians.
    nominalDelaysMs: decorrelatedPath(0.5),
    // The longest total the algorithm can produce (r -> 1): 45 + 135 + 300 s = 480 s.
    windowMs: sum(decorrelatedPath(1)),
    jitter: { kind: "decorrelated", baseSeconds: JITTERED_BASE_MS / SECOND, capSeconds: JITTERED_CAP_MS / SECOND },
  }),
  default: (() => {
    const delays = doublingDelaysWithin(DEFAULT_FIRST_DELAY_MS, DEFAULT_WINDOW_MS);
    return frozen({
      kind: "default",
      maxAttempts: delays.length + 1,
      nominalDelaysMs: delays,
      windowMs: DEFAULT_WINDOW_MS,
      jitter: { kind: "proportional", ratio: DEFAULT_JITTER_RATIO },
    });
  })(),
} satisfies Record<Exclude<RetryPolicyKind, "custom">, Schedule>;

/** Resolves a policy to its schedule. Re-checks custom delays: policies also come from storage. */
export function scheduleOf(policy: RetryPolicy): Schedule {
  if (typeof policy !== "object" || policy === null) throw new RetryPolicyError("NOT_AN_OBJECT", "a retry policy must be an object");
  switch (policy.kind) {
    case "exponential":
    case "callback":
    case "jittered":
    case "default":
      return PRESETS[policy.kind];
    case "custom":
      return fixed(
        "custom",
        checkCustomDelays(policy.delaysSeconds).map((s) => s * SECOND),
      );
    default:
      throw new RetryPolicyError("UNKNOWN_KIND", `unknown retry policy kind ${String((policy as { kind: unknown }).kind)}`, "kind");
  }
}

/**
 * The delay before retry number `retry` (1 = before attempt 2), jitter applied with one draw from
 * `r` (only the jittered kinds draw), plus `minDelayMs`, the smallest delay the policy could have
 * produced for that retry. nextAttempt never lets the window cut a delay below minDelayMs, so a
 * delivery that is already running late still backs off instead of retrying back to back.
 */
export function retryDelay(schedule: Schedule, retry: number, previousDelayMs: number | undefined, r: () => number): { delayMs: number; minDelayMs: number } {
  const nominal = schedule.nominalDelaysMs[retry - 1];
  if (nominal === undefined) throw new RetryPolicyError("BAD_ARGUMENT", `a ${schedule.kind} policy has no retry ${retry}`);
  const j = schedule.jitter;
  switch (j.kind) {
    case "none":
      return { delayMs: nominal, minDelayMs: nominal };
    case "proportional":
      return { delayMs: proportionalJitter(nominal, j.ratio, r()), minDelayMs: nominal * (1 - j.ratio) };
    case "decorrelated": {
      const base = j.baseSeconds * SECOND;
      // The first retry always starts from base, whatever the caller passes, so its median is the
      // documented 30 s.
      const prev = retry === 1 || previousDelayMs === undefined || !Number.isFinite(previousDelayMs) ? base : previousDelayMs;
      return { delayMs: decorrelatedJitter(base, j.capSeconds * SECOND, prev, r()), minDelayMs: base };
    }
  }
}

export interface PolicyDescription {
  readonly kind: RetryPolicyKind;
  /** Attempts in total, the first one included. */
  readonly maxAttempts: number;
  /** Nominal delay before attempts 2..maxAttempts, in seconds, jitter not applied. */
  readonly delaysSeconds: readonly number[];
  /** How long after the first attempt retries may be scheduled, in seconds. */
  readonly windowSeconds: number;
  readonly jitter: JitterDescription;
}

/** The schedule of a policy in plain numbers, for API responses and docs. */
export function describePolicy(policy: RetryPolicy): PolicyDescription {
  const s = scheduleOf(policy);
  return {
    kind: s.kind,
    maxAttempts: s.maxAttempts,
    delaysSeconds: s.nominalDelaysMs.map((ms) => ms / SECOND),
    windowSeconds: s.windowMs / SECOND,
    jitter: { ...s.jitter },
  };
}

import { RetryPolicyError } from "./errors.js";

/**
 * A retry policy as stored per endpoint and accepted by the API: plain data, no functions, so it
 * round-trips through JSON and Postgres unchanged. The schedules behind each kind live in
 * schedule.ts.
 */
export type RetryPolicy =
  | { readonly kind: "exponential" }
  | { readonly kind: "callback" }
  | { readonly kind: "jittered" }
  | { readonly kind: "default" }
  | { readonly kind: "custom"; readonly delaysSeconds: readonly number[] };

export type RetryPolicyKind = RetryPolicy["kind"];

export const RETRY_POLICY_KINDS = ["exponential", "callback", "jittered", "default", "custom"] as const satisfies readonly RetryPolicyKind[];

/** What an endpoint gets when it names no policy. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ kind: "default" });

/** Custom policy limits (product docs: "1-50 entries, each 0..7 days"). */
export const CUSTOM_MIN_DELAYS = 1;
export const CUSTOM_MAX_DELAYS = 50;
export const CUSTOM_MAX_DELAY_SECONDS = 7 * 24 * 60 * 60;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isKind(value: unknown): value is RetryPolicyKind {
  return typeof value === "string" && (RETRY_POLICY_KINDS as readonly string[]).includes(value);
}

/**
 * Validates custom delays: whole seconds (sub-second precision is meaningless next to queue
 * latency and keeps the stored form canonical), 0..7 days each, 1..50 of them.
 */
export function checkCustomDelays(delays: unknown): readonly number[] {
  if (!Array.isArray(delays)) throw new RetryPolicyError("BAD_DELAYS", "delaysSeconds must be an array of seconds", "delaysSeconds");
  if (delays.length < CUSTOM_MIN_DELAYS || delays.length > CUSTOM_MAX_DELAYS) {
    throw new RetryPolicyError("DELAY_COUNT", `delaysSeconds must have ${CUSTOM_MIN_DELAYS} to ${CUSTOM_MAX_DELAYS} entries, got ${delays.length}`, "delaysSeconds");
  }
  const out: number[] = [];
  // An index loop, not for..of, so holes in a sparse array are seen (as undefined) and refused.
  for (let i = 0; i < delays.length; i++) {
    const d: unknown = delays[i];
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > CUSTOM_MAX_DELAY_SECONDS) {
      throw new RetryPolicyError("DELAY_RANGE", `delaysSeconds[${i}] must be a whole number of seconds from 0 to ${CUSTOM_MAX_DELAY_SECONDS} (7 days)`, `delaysSeconds.${i}`);
    }
    // Normalise -0 so the stored form is canonical JSON.
    out.push(d === 0 ? 0 : d);
  }
  return out;
}

/**
 * Parses an untrusted value (request body, database row) into a RetryPolicy. Strict: unknown
 * kinds and unknown keys are refused rather than dropped, so a typo such as `delaySeconds` is an
 * error instead of silently becoming a different policy. Returns a fresh object that shares nothing
 * with the input.
 */
export function parseRetryPolicy(input: unknown): RetryPolicy {
  if (!isPlainObject(input)) throw new RetryPolicyError("NOT_AN_OBJECT", "a retry policy must be a JSON object");
  const kind = input.kind;
  if (!Object.hasOwn(input, "kind") || !isKind(kind)) {
    throw new RetryPolicyError("UNKNOWN_KIND", `kind must be one of ${RETRY_POLICY_KINDS.join(", ")}`, "kind");
  }
  const allowed = kind === "custom" ? ["kind", "delaysSeconds"] : ["kind"];
  for (const key of Reflect.ownKeys(input)) {
    if (typeof key !== "string" || !allowed.includes(key)) {
      throw new RetryPolicyError("UNKNOWN_FIELD", `a ${kind} policy has no field ${String(key)}`, String(key));
    }
  }
  if (kind === "custom") return { kind, delaysSeconds: checkCustomDelays(input.delaysSeconds) };
  return { kind };
}

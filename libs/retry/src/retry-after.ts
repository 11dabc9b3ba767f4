import { parseHttpDate } from "./http-date.js";

/*
 * Retry-After, RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`, delay-seconds = 1*DIGIT.
 * The receiver's wish is clamped: at least 1 s, so "0" or a past date cannot turn into a hot loop,
 * and at most 24 h, so one header cannot park a delivery for weeks (the policy window then caps it
 * further; see next-attempt.ts).
 */
export const RETRY_AFTER_MIN_MS = 1000;
export const RETRY_AFTER_MAX_MS = 24 * 60 * 60 * 1000;

// OWS around a field value (RFC 9110 §5.5) is SP / HTAB only.
const OWS = /^[ \t]+|[ \t]+$/g;
const DELAY_SECONDS = /^\d+$/;

const clamp = (ms: number): number => Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));

/**
 * The wait a Retry-After value asks for, in ms, clamped to [1 s, 24 h]; undefined when the header
 * is absent or not exactly one of the two RFC forms (garbage is ignored, not guessed at).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.replace(OWS, "");
  // A huge digit string becomes a huge (or infinite) float, which the clamp handles.
  if (DELAY_SECONDS.test(v)) return clamp(Number(v) * 1000);
  const at = parseHttpDate(v, nowMs);
  return at === undefined ? undefined : clamp(at - nowMs);
}

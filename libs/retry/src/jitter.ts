/*
 * The two jitter shapes the presets use, as pure functions of one uniform draw r in [0, 1). Kept
 * apart from the schedules so the bounds tests can drive them with exact values.
 */

/** Proportional jitter: `nominal` scaled by a factor uniform in [1 - ratio, 1 + ratio). */
export function proportionalJitter(nominalMs: number, ratio: number, r: number): number {
  return nominalMs * (1 - ratio + 2 * ratio * r);
}

/**
 * Decorrelated jitter, AWS Architecture Blog "Exponential Backoff And Jitter" (Marc Brooker, 2015):
 *   sleep = min(cap, random_between(base, sleep * 3))
 * `previousMs` is the previous sleep (the article seeds it with `base`). It is clamped into
 * [base, cap] first so a stale or Retry-After-sized value from the caller cannot push the draw
 * outside the algorithm's own range.
 */
export function decorrelatedJitter(baseMs: number, capMs: number, previousMs: number, r: number): number {
  const prev = Math.min(capMs, Math.max(baseMs, previousMs));
  return Math.min(capMs, baseMs + r * (prev * 3 - baseMs));
}

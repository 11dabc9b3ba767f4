import { RetryPolicyError } from "./errors.js";

/** Product docs: an endpoint whose deliveries have all failed for 5 days is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

export interface DisableCheck {
  /** Start of the endpoint's current unbroken run of failures; null/undefined when it is healthy. */
  readonly failingSinceMs: number | null | undefined;
  readonly nowMs: number;
  readonly thresholdMs?: number | undefined;
}

/** True once the endpoint has been failing for at least `thresholdMs` (default 5 days). */
export function shouldDisableEndpoint({ failingSinceMs, nowMs, thresholdMs = DISABLE_AFTER_MS }: DisableCheck): boolean {
  if (typeof nowMs !== "number" || !Number.isFinite(nowMs)) throw new RetryPolicyError("BAD_ARGUMENT", "nowMs must be a finite number");
  if (typeof thresholdMs !== "number" || !Number.isFinite(thresholdMs) || thresholdMs <= 0) throw new RetryPolicyError("BAD_ARGUMENT", "thresholdMs must be a positive finite number");
  if (failingSinceMs === null || failingSinceMs === undefined) return false;
  if (typeof failingSinceMs !== "number" || !Number.isFinite(failingSinceMs)) throw new RetryPolicyError("BAD_ARGUMENT", "failingSinceMs must be a finite number");
  return nowMs - failingSinceMs >= thresholdMs;
}

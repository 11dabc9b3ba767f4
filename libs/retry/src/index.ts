export { RetryPolicyError, RetryPolicyErrorCodes, type RetryPolicyErrorCode } from "./errors.js";
export {
  parseRetryPolicy,
  RETRY_POLICY_KINDS,
  DEFAULT_RETRY_POLICY,
  CUSTOM_MIN_DELAYS,
  CUSTOM_MAX_DELAYS,
  CUSTOM_MAX_DELAY_SECONDS,
  type RetryPolicy,
  type RetryPolicyKind,
} from "./policy.js";
export { describePolicy, type PolicyDescription, type JitterDescription } from "./schedule.js";
export { classifyResponse, TRANSPORT_ERRORS, type AttemptResult, type Outcome, type TransportError, type FatalReason } from "./classify.js";
export { parseRetryAfter, RETRY_AFTER_MIN_MS, RETRY_AFTER_MAX_MS } from "./retry-after.js";
export { parseHttpDate } from "./http-date.js";
export { nextAttempt, type NextAttemptInput, type Decision, type DeadLetterReason } from "./next-attempt.js";
export { shouldDisableEndpoint, DISABLE_AFTER_MS, type DisableCheck } from "./endpoint.js";

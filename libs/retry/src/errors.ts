/**
 * Every way this library refuses an input. Closed on purpose: the API layer maps these to
 * VALIDATION_FAILED (with `field`) and the delivery worker treats the argument codes as bugs.
 */
export const RetryPolicyErrorCodes = [
  /** The policy is not a plain JSON object. */
  "NOT_AN_OBJECT",
  /** `kind` is missing or not one of RETRY_POLICY_KINDS. */
  "UNKNOWN_KIND",
  /** The object has a key its kind does not define (policies are parsed strictly). */
  "UNKNOWN_FIELD",
  /** A custom policy's `delaysSeconds` is missing or not an array. */
  "BAD_DELAYS",
  /** A custom policy has fewer than 1 or more than 50 delays. */
  "DELAY_COUNT",
  /** A custom delay is not a whole number of seconds in 0..7 days. */
  "DELAY_RANGE",
  /** A caller passed an impossible argument (attemptsMade < 1, a non-finite clock, random() outside [0, 1)...). */
  "BAD_ARGUMENT",
] as const;

export type RetryPolicyErrorCode = (typeof RetryPolicyErrorCodes)[number];

/** The only error this library throws on purpose. */
export class RetryPolicyError extends Error {
  readonly code: RetryPolicyErrorCode;
  /** The offending field as a dotted path relative to the policy object (e.g. `delaysSeconds.3`), when there is one. */
  readonly field: string | undefined;

  constructor(code: RetryPolicyErrorCode, message: string, field?: string) {
    super(message);
    this.name = "RetryPolicyError";
    this.code = code;
    this.field = field;
  }
}

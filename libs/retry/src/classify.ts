import { RetryPolicyError } from "./errors.js";
import { parseRetryAfter } from "./retry-after.js";

/** How an attempt failed before any HTTP status arrived. */
export type TransportError =
  | "timeout"
  | "connect"
  | "dns"
  | "tls"
  /** The target resolved to an address netguard refuses (SSRF protection): no request was sent. */
  | "refused_target"
  | "other";

export const TRANSPORT_ERRORS = ["timeout", "connect", "dns", "tls", "refused_target", "other"] as const satisfies readonly TransportError[];

export type FatalReason = "redirect" | "client_error" | "refused_target";

/** What one attempt tells us, independent of policy. */
export type Outcome =
  | { readonly kind: "delivered" }
  /** Worth trying again; retryAfterMs is the receiver's Retry-After, already clamped to [1 s, 24 h]. */
  | { readonly kind: "retryable"; readonly retryAfterMs?: number }
  /** Will fail the same way every time: dead-letter now. */
  | { readonly kind: "fatal"; readonly reason: FatalReason }
  /** 410: dead-letter now and disable the endpoint. */
  | { readonly kind: "gone" };

export interface AttemptResult {
  /** The response status, when a status line arrived. Wins over `error` when both are set. */
  readonly status?: number | undefined;
  /** Why no status arrived. */
  readonly error?: TransportError | undefined;
  /** The raw Retry-After header value, if any. */
  readonly retryAfter?: string | undefined;
  /** The clock, for Retry-After's HTTP-date form. */
  readonly nowMs: number;
}

// Client errors that are about timing, not about the request: 408 Request Timeout (RFC 9110
// §15.5.9), 425 Too Early (RFC 8470 §5.2), 429 Too Many Requests (RFC 6585 §4).
const RETRYABLE_4XX = new Set([408, 425, 429]);
// RFC 9110 §10.2.3 names 503 as the status Retry-After accompanies; RFC 6585 §4 adds 429. Other
// statuses' Retry-After is ignored, as the product docs say.
const HONOURS_RETRY_AFTER = new Set([429, 503]);

/**
 * Classifies one attempt. The table (product docs plus RFC 9110 §15):
 *   2xx -> delivered; 3xx -> fatal "redirect" (redirects are not followed; 3xx is a failure);
 *   408, 425, 429, 5xx -> retryable (429/503 with Retry-After); 410 -> gone; other 4xx -> fatal;
 *   transport errors -> retryable, except refused_target -> fatal (an SSRF refusal will not change).
 * A status outside 200..599 (1xx as a final answer, or not a real status) is a broken exchange,
 * not the receiver's verdict, so it is retryable like any other transport failure.
 */
export function classifyResponse(result: AttemptResult): Outcome {
  const { status, error, retryAfter, nowMs } = result;
  if (status !== undefined) {
    if (typeof status !== "number") throw new RetryPolicyError("BAD_ARGUMENT", "status must be a number");
    if (!Number.isInteger(status) || status < 200 || status > 599) return { kind: "retryable" };
    if (status < 300) return { kind: "delivered" };
    if (status < 400) return { kind: "fatal", reason: "redirect" };
    if (status === 410) return { kind: "gone" };
    if (status < 500 && !RETRYABLE_4XX.has(status)) return { kind: "fatal", reason: "client_error" };
    if (!HONOURS_RETRY_AFTER.has(status)) return { kind: "retryable" };
    if (!Number.isFinite(nowMs)) throw new RetryPolicyError("BAD_ARGUMENT", "nowMs must be a finite number");
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    return retryAfterMs === undefined ? { kind: "retryable" } : { kind: "retryable", retryAfterMs };
  }
  if (error === undefined) throw new RetryPolicyError("BAD_ARGUMENT", "an attempt result needs a status or an error");
  if (!(TRANSPORT_ERRORS as readonly string[]).includes(error)) throw new RetryPolicyError("BAD_ARGUMENT", `unknown transport error ${String(error)}`);
  return error === "refused_target" ? { kind: "fatal", reason: "refused_target" } : { kind: "retryable" };
}

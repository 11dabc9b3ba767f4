import type { AddressClass } from "./classify.js";

/**
 * Closed set of refusal codes. Callers branch on these (e.g. to tell a customer why a webhook URL
 * was rejected), so adding one is an API change.
 */
export const TARGET_REFUSED_CODES = ["URL_INVALID", "URL_TOO_LONG", "SCHEME_NOT_ALLOWED", "CREDENTIALS_IN_URL", "HOST_NOT_RESOLVABLE", "ADDRESS_NOT_ALLOWED"] as const;

export type TargetRefusedCode = (typeof TARGET_REFUSED_CODES)[number];

export interface TargetRefusedDetails {
  /** The offending IP address, when the refusal is about one. */
  readonly address?: string;
  readonly addressClass?: AddressClass;
  readonly cause?: unknown;
}

/**
 * Thrown (or passed to a lookup callback) whenever a delivery target is refused. `reason` is meant to
 * be safe to show the customer: it never echoes the raw URL, which may carry secrets in its query.
 */
export class TargetRefusedError extends Error {
  override readonly name = "TargetRefusedError";
  readonly code: TargetRefusedCode;
  readonly reason: string;
  readonly address: string | undefined;
  readonly addressClass: AddressClass | undefined;

  constructor(code: TargetRefusedCode, reason: string, details: TargetRefusedDetails = {}) {
    super(`${code}: ${reason}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = reason;
    this.address = details.address;
    this.addressClass = details.addressClass;
  }
}

import { isUsableReceiptKey } from "@custody/custody";
import { AppError } from "@custody/errors";
import { describePolicy, parseRetryPolicy, RetryPolicyError, type PolicyDescription, type RetryPolicy } from "@custody/retry";

/** What an endpoint subscribes to when it names nothing: final outcomes, and their corrections. */
export const DEFAULT_SUBSCRIPTIONS: readonly string[] = ["*.final", "*.retracted", "*.recalled"];
export const SUBSCRIPTION_PATTERN = /^[a-z0-9_.*]+$/;

/** Each pattern once, in the order given: the list is shown back as sent, minus repeats. */
export function uniqueSubscriptions(patterns: readonly string[]): string[] {
  return [...new Set(patterns)];
}

/** Standard (padded) base64 of exactly 32 bytes, the raw Ed25519 public key. */
export function decodeReceiptPublicKey(text: string, field = "body.receiptPublicKey"): Buffer {
  const bytes = Buffer.from(text, "base64");
  // Buffer.from skips characters it does not know; re-encoding shows whether the text was canonical.
  if (bytes.length !== 32 || bytes.toString("base64") !== text) {
    throw new AppError("VALIDATION_FAILED", "receiptPublicKey must be the base64 of a 32-byte Ed25519 public key", { field });
  }
  // Strict verification (FORMAT.md §1) accepts no signature under such a key; under ZIP-215 a
  // small-order key would accept the all-zero signature for any statement.
  if (!isUsableReceiptKey(bytes)) {
    throw new AppError("VALIDATION_FAILED", "receiptPublicKey is not a usable Ed25519 public key: it is of small order or not canonically encoded (y ≥ p), so no receipt could ever verify under it", { field });
  }
  return bytes;
}

export function encodeReceiptPublicKey(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString("base64");
}

/** A request's retry policy, or INVALID_RETRY_POLICY naming the field at fault. */
export function retryPolicyFromRequest(input: unknown, field = "body.retryPolicy"): RetryPolicy {
  try {
    return parseRetryPolicy(input);
  } catch (err) {
    if (!(err instanceof RetryPolicyError)) throw err;
    throw new AppError("INVALID_RETRY_POLICY", err.message, { field: err.field === undefined ? field : `${field}.${err.field}`, details: { reason: err.code } });
  }
}

/** The stored policy with its resolved schedule, as responses show it. */
export function describeStoredPolicy(stored: unknown): PolicyDescription {
  return describePolicy(parseRetryPolicy(stored));
}

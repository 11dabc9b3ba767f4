/**
 * Every way this library refuses an input or a signature. Closed on purpose: the delivery worker,
 * the test receiver and the verifier switch on `code`, so a new failure mode must be a deliberate,
 * reviewed addition (errors.test.ts has one trigger per code and fails if one is missing).
 */
export const SigningErrorCodes = [
  /** A secret is not `whsec_` + canonical padded base64 of 24–64 bytes. */
  "BAD_SECRET",
  /** The injected random source returned something other than n fresh bytes (or no source exists). */
  "BAD_RANDOM",
  /** A list of secrets is empty or not an array: nothing could be signed or verified. */
  "NO_SECRETS",
  /** The same secret appears twice in one list; a rotation bug upstream, never intended. */
  "DUPLICATE_SECRET",
  /** A `keyId` handed in with a secret is not `secretKeyId(secret)`: the key-id header would lie. */
  "KEY_ID_MISMATCH",
  /** A message id is not 1–255 visible ASCII characters without ','. */
  "BAD_MSG_ID",
  /** A timestamp is not a non-negative safe integer of unix seconds (or a header is not its canonical decimal). */
  "BAD_TIMESTAMP",
  /** A body is not a Uint8Array (signatures cover the exact raw bytes, never a re-serialised string). */
  "BAD_BODY",
  /** An event type is not 1–255 visible ASCII characters. */
  "BAD_EVENT_TYPE",
  /** An idempotency key is not an RFC 9562 UUID in 8-4-4-4-12 hex form. */
  "BAD_IDEMPOTENCY_KEY",
  /** A header name is not an RFC 9110 token, a value has characters that do not survive HTTP, or a name appears twice. */
  "BAD_HEADER",
  /** An extra header would override one this library sets, or an HTTP framing header. */
  "RESERVED_HEADER",
  /** A timestamp tolerance is not a non-negative safe integer of seconds. */
  "BAD_TOLERANCE",
  /** A header verification needs is absent or empty. */
  "MISSING_HEADER",
  /** An `x-custody-signature` header is not `sha256=` followed by 64 lowercase hex digits (or signatures to pack or unpack are not as packed.ts writes them). */
  "BAD_SIGNATURE_HEADER",
  /** No signature in the header matches any of the given secrets. */
  "SIGNATURE_MISMATCH",
  /** The signature is authentic but its timestamp is further than the tolerance from now. */
  "TIMESTAMP_OUT_OF_TOLERANCE",
] as const;

export type SigningErrorCode = (typeof SigningErrorCodes)[number];

/** The only error this library throws on purpose; a failed verification is reported by throwing it. */
export class SigningError extends Error {
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string) {
    super(message);
    this.name = "SigningError";
    this.code = code;
  }
}

export function fail(code: SigningErrorCode, message: string): never {
  throw new SigningError(code, message);
}

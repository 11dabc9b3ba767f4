/**
 * Every way this library refuses an input. Closed on purpose: the delivery pipeline, the proof
 * service and the browser verifier switch on `code`, so a new failure mode must be a deliberate,
 * reviewed addition. `errors.test.ts` holds one negative test per code and is type-checked against
 * this list, so a code cannot be added without a test that reaches it.
 *
 * Messages name paths and checks but never include a JSON value: the values handled here are
 * personal data, and error messages end up in logs.
 */
export const RedactionErrorCodes = [
  /** An argument has the wrong type or shape (not an array, a RemovedField that is not an object of three strings, an unknown `shape`, …). */
  "BAD_ARGUMENT",
  /**
   * A JSON Pointer is not acceptable as a personal-data path: not RFC 6901 syntax (must start with
   * "/", "~" only in "~0"/"~1"), the empty pointer "", longer than MAX_POINTER_LENGTH UTF-8 bytes,
   * more than MAX_POINTER_DEPTH tokens, a lone UTF-16 surrogate, or a U+0000 character.
   */
  "BAD_POINTER",
  /**
   * A value is not plain JSON: undefined, NaN/Infinity, bigint, function, symbol, a string or key
   * with a lone surrogate, an array hole, an object that is not a plain object (Date, Map, class
   * instance), or nesting deeper than MAX_JSON_DEPTH (which also catches cycles).
   */
  "NOT_JSON",
  /** A salt is not the canonical unpadded base64url encoding of exactly SALT_SIZE (16) bytes. */
  "BAD_SALT",
  /** A commitment is not exactly 64 lowercase hex digits. */
  "BAD_COMMITMENT",
  /** The injected random source did not return a Uint8Array of the requested length. */
  "BAD_RANDOM",
  /** A removed field's path does not resolve to a value in the original document. */
  "PATH_ABSENT",
  /** The commitment recomputed from the original value, path and salt differs from the recorded one. */
  "COMMITMENT_MISMATCH",
  /** The same path appears more than once in a removed-field list. */
  "DUPLICATE_PATH",
  /** Applying the recorded removals to the original does not give the delivered payload. */
  "PAYLOAD_MISMATCH",
  /**
   * Two different (event type, personal-data field) pairs produce the same acknowledgement string
   * (e.g. "a.b" + "/c" and "a" + "/b.c" both give "a.b.c"), so acknowledging one would silently
   * acknowledge the other.
   */
  "AMBIGUOUS_ACKNOWLEDGEMENT",
] as const;

export type RedactionErrorCode = (typeof RedactionErrorCodes)[number];

/** The only error this library throws on purpose; verification failure is reported by throwing it. */
export class RedactionError extends Error {
  readonly code: RedactionErrorCode;

  constructor(code: RedactionErrorCode, message: string) {
    super(message);
    this.name = "RedactionError";
    this.code = code;
  }
}

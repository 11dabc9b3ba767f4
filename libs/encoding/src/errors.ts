/** Thrown by the codecs that throw (hex); base64 and base64url return undefined instead. */
export type EncodingErrorCode = "BAD_HEX" | "BAD_ARGUMENT_TYPE";

export class EncodingError extends Error {
  readonly code: EncodingErrorCode;

  constructor(code: EncodingErrorCode, message: string) {
    super(message);
    this.name = "EncodingError";
    this.code = code;
  }
}

/**
 * Every way this library refuses an input. Closed on purpose: callers (the verifier CLI, the HTTP
 * layer, the checkpoint publisher) switch on `code`, so a new failure mode must be a deliberate,
 * reviewed addition. `errors.test.ts` holds one negative test per code and is type-checked against
 * this list, so a code cannot be added without a test that reaches it.
 */
export const NoteErrorCodes = [
  /**
   * The note is not a syntactically valid signed note (c2sp.org/signed-note §Format): not UTF-8,
   * contains an ASCII control character other than newline, has no blank line before the
   * signatures, does not end in a newline, or (when signing) the text is empty / lacks its final
   * newline.
   */
  "MALFORMED_NOTE",
  /**
   * The input exceeds a resource limit: the note's byte size (MAX_NOTE_SIZE), its number of
   * signature lines (MAX_SIGNATURES; the spec lets verifiers cap this as long as they accept 16),
   * or a tlog-proof's byte size / hash count. Checked before any expensive work.
   */
  "NOTE_TOO_LARGE",
  /**
   * A line after the last blank line is not `— <name> <base64(keyID || sig)>`: wrong prefix, invalid
   * key name, non-canonical base64, or fewer than 4+1 decoded bytes.
   */
  "BAD_SIGNATURE_LINE",
  /**
   * A signature line names a trusted key (same name AND key ID) but the signature does not verify.
   * The spec says clients SHOULD reject the whole note in that case; we always do.
   */
  "SIGNATURE_INVALID",
  /** No signature line came from a trusted key, so the note MUST be rejected (signed-note §Signatures). */
  "NO_VERIFIED_SIGNATURE",
  /** A checkpoint body violates c2sp.org/tlog-checkpoint §Note text (or a value given to formatCheckpoint does). */
  "MALFORMED_CHECKPOINT",
  /** A verified checkpoint's origin line is not the origin the caller expected. */
  "ORIGIN_MISMATCH",
  /**
   * A verifier key is unusable: bad `name+hex8+base64` syntax, invalid name, unsupported signature
   * type, wrong length, a key ID that does not match the key, a non-canonical or small-order
   * Ed25519 point, or two different trusted keys sharing one (name, key ID).
   */
  "BAD_VKEY",
  /**
   * A signer key is unusable: bad `PRIVATE+KEY+name+hex8+base64` syntax, invalid name, wrong seed
   * length, a key ID that does not match the key, or the same signer passed twice to signNote.
   */
  "BAD_SIGNER_KEY",
  /** A text does not follow the c2sp.org/tlog-proof@v1 layout (or a value given to formatTlogProof is invalid). */
  "MALFORMED_TLOG_PROOF",
] as const;

export type NoteErrorCode = (typeof NoteErrorCodes)[number];

/** The only error this library throws on purpose; verification failure is reported by throwing it. */
export class NoteError extends Error {
  readonly code: NoteErrorCode;

  constructor(code: NoteErrorCode, message: string) {
    super(message);
    this.name = "NoteError";
    this.code = code;
  }
}

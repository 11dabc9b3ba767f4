/**
 * Every way this library refuses an input. Closed on purpose: callers (the HTTP layer, the
 * sequencer) switch on `code`, so a new failure mode must be a deliberate, reviewed addition.
 */
export const MerkleErrorCodes = [
  /** A size or index is not a non-negative safe integer (JS numbers lose exactness past 2^53 - 1). */
  "BAD_INTEGER",
  /** A value is not of the type the API requires (e.g. a hash that is not a Uint8Array). */
  "BAD_ARGUMENT_TYPE",
  /** A hash is not exactly 32 bytes (RFC 9162 §2.1 fixes SHA-256 for the tree). */
  "BAD_HASH_SIZE",
  /** A leaf index is not < tree size (RFC 9162 §2.1.3.2 step 1). */
  "INDEX_OUT_OF_RANGE",
  /** A proof has more or fewer hashes than the sizes imply. */
  "WRONG_PROOF_SIZE",
  /** A recomputed root differs from the root the caller trusts. */
  "ROOT_MISMATCH",
  /** A consistency proof from the empty tree was asked for; it proves nothing (RFC 9162 §2.1.4). */
  "SIZE_ZERO_CONSISTENCY",
  /** The first tree size is larger than the second. */
  "SIZE_ORDER",
  /** A leaf range is not one the RFC 9162 §2.1.1 recursion ever produces. */
  "BAD_RANGE",
  /** A frontier handed to appendLeaves is not the perfect-subtree roots of a tree of that size. */
  "BAD_FRONTIER",
  /** A node lookup returned nothing for a node a proof plan needs. */
  "MISSING_NODE",
] as const;

export type MerkleErrorCode = (typeof MerkleErrorCodes)[number];

/** The only error this library throws on purpose; verification failure is reported by throwing it. */
export class MerkleProofError extends Error {
  readonly code: MerkleErrorCode;

  constructor(code: MerkleErrorCode, message: string) {
    super(message);
    this.name = "MerkleProofError";
    this.code = code;
  }
}

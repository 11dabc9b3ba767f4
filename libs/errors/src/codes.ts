/**
 * The closed registry of error codes every service answers with. A code is a contract with API
 * clients: once shipped it keeps its meaning and its HTTP status.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN_SCOPE: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_CONFLICT: 409,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  EXPECTATION_FAILED: 417,
  UNPROCESSABLE: 422,
  /** A JSON number the platform could not keep exactly (see docs/api.md); send it as a string. */
  NUMBER_NOT_EXACT: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  // Endpoints and event types
  TARGET_REFUSED: 422,
  FAT_ACK_INCOMPLETE: 422,
  PENDING_DELIVERIES: 409,
  EVENT_TYPE_EXISTS: 409,
  EVENT_TYPE_UNKNOWN: 422,
  EVENT_TYPE_ARCHIVED: 422,
  INVALID_JSON_SCHEMA: 422,
  INVALID_RETRY_POLICY: 422,
  PERSONAL_DATA_FIELD_AMBIGUOUS: 422,
  // Event ingest
  EVENT_ID_CONFLICT: 409,
  DATA_SCHEMA_MISMATCH: 422,
  DATA_SCHEMA_TOO_COSTLY: 422,
  JSON_TOO_DEEP: 422,
  BATCH_TOO_LARGE: 413,
  RESERVED_EVENT_TYPE: 422,
  // Receipts
  RECEIPTS_NOT_ENABLED: 422,
  RECEIPT_INVALID: 422,
  // Proofs
  /** A chain-of-custody document would exceed its bounds (proofs/FORMAT.md §13). */
  PROOF_TOO_LARGE: 422,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
  /** The API was started without a built operator console (`node console/build.mjs`). */
  CONSOLE_NOT_BUILT: 503,
  /** Postgres cannot be reached (down, restarting, refusing connections); answered with Retry-After. */
  DATABASE_UNAVAILABLE: 503,
  /** The process is draining for shutdown; another instance, or this one restarted, will answer. */
  SHUTTING_DOWN: 503,
  /**
   * A proof read from the read replica (DATABASE_READ_URL) needs a tree size, leaf or checkpoint the
   * replica has not replayed yet though the primary has it; answered with Retry-After.
   */
  REPLICA_BEHIND: 503,
  // Non-HTTP codes used by the CLI and workers; the status only matters if one ever reaches HTTP.
  CONFIG_INVALID: 500,
  MIGRATION_CHECKSUM_MISMATCH: 500,
  MIGRATION_FAILED: 500,
  MASTER_KEY_MISSING: 500,
  KEY_DECRYPTION_FAILED: 500,
  LEDGER_APPEND_ONLY: 500,
  // Delivery pipeline
  DELIVERY_RECORD_FAILED: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ErrorCodes;

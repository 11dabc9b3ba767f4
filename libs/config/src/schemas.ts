import { fields, type FieldName } from "./fields.js";

const common = [
  "CUSTODY_ENV",
  "DATABASE_URL",
  "CUSTODY_DB_POOL_MAX",
  "CUSTODY_DB_STATEMENT_TIMEOUT_MS",
  "CUSTODY_DB_CONNECT_TIMEOUT_MS",
  "NATS_URL",
  "CUSTODY_NATS_PREFIX",
  "CUSTODY_LOG_LEVEL",
  "CUSTODY_MASTER_KEY",
  "CUSTODY_LOG_ORIGIN",
  "CUSTODY_SHUTDOWN_GRACE_MS",
] as const satisfies readonly FieldName[];

/** Which settings each process reads. A process never sees a variable outside its list. */
export const serviceFields = {
  api: [
    ...common,
    "CUSTODY_API_HOST",
    "CUSTODY_API_PORT",
    "CUSTODY_ALLOW_LOOPBACK_TARGETS",
    "CUSTODY_SECRET_OVERLAP_HOURS",
    "CUSTODY_INGEST_RATE_PER_SECOND",
    "CUSTODY_INGEST_BURST",
    "CUSTODY_MAX_BATCH_EVENTS",
    "CUSTODY_MAX_JSON_DEPTH",
  ],
  proofs: [...common, "CUSTODY_PROOFS_HOST", "CUSTODY_PROOFS_PORT"],
  pipeline: [
    ...common,
    "CUSTODY_PIPELINE_STAGES",
    "CUSTODY_SEQUENCER_BATCH",
    "CUSTODY_SEQUENCER_POLL_MS",
    "CUSTODY_CHECKPOINT_INTERVAL_MS",
    "CUSTODY_SEQUENCER_LOCK_RETRY_MS",
    "CUSTODY_STAGE_BATCH",
    "CUSTODY_STAGE_ACK_WAIT_MS",
    "CUSTODY_DELIVER_CONCURRENCY",
    "CUSTODY_ENDPOINT_CONCURRENCY",
    "CUSTODY_ENDPOINT_QUEUE",
    "CUSTODY_DELIVERY_TIMEOUT_MS",
    "CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS",
    "CUSTODY_SCHEDULER_INTERVAL_MS",
    "CUSTODY_RELAY_POLL_MS",
    "CUSTODY_ALLOW_LOOPBACK_TARGETS",
  ],
  cli: [...common, "CUSTODY_API_HOST", "CUSTODY_API_PORT", "CUSTODY_PROOFS_HOST", "CUSTODY_PROOFS_PORT"],
} as const satisfies Record<string, readonly FieldName[]>;

export type ServiceName = keyof typeof serviceFields;

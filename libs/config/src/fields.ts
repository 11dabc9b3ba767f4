import { z } from "zod";

/**
 * Every setting Custody reads, by environment variable. Each service picks the subset it needs
 * (see `schemas.ts`); `docs/configuration.md` is generated from these descriptions and a test keeps it in sync.
 */
/**
 * The pipeline's components: the relay announces committed events; dispatch fans them out, redacts,
 * seals and sends; the scheduler seals and sends retries and parked deliveries; the sequencer
 * extends the ledger's tree and signs checkpoints.
 */
export const PIPELINE_STAGES = ["relay", "dispatch", "scheduler", "sequencer"] as const;

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** A flag; its default is given as the text it would be set to, so that the reference shows it. */
const flag = (byDefault: "true" | "false") =>
  z
    .enum(["true", "false", "1", "0"])
    .default(byDefault)
    .transform((v) => v === "true" || v === "1");

export const fields = {
  CUSTODY_ENV: z.enum(["development", "test", "production"]).default("development").describe("Deployment mode. `production` refuses to start without `CUSTODY_MASTER_KEY` and turns off development conveniences."),
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/custody").describe("PostgreSQL connection URL. The database is created by `custody migrate` if it does not exist."),
  DATABASE_READ_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "PostgreSQL URL of a streaming replica (hot standby) of `DATABASE_URL`'s database for the public ledger proofs (checkpoint, inclusion and consistency proofs, entries and tlog-proof bundles), served by the proof service and by the API. Unset (the default): they read from `DATABASE_URL`. Each answer is read in one snapshot of the replica; one that needs a tree size, leaf or checkpoint the replica has not replayed yet answers 503 `REPLICA_BEHIND` with `Retry-After`, never a proof of another size. Keys, chain-of-custody documents, recall, replay and authentication always use `DATABASE_URL`. The pool has `CUSTODY_DB_POOL_MAX` connections of its own.",
    ),
  CUSTODY_DB_POOL_MAX: positiveInt.max(200).default(10).describe("Maximum connections in each process's Postgres pool."),
  CUSTODY_DB_STATEMENT_TIMEOUT_MS: positiveInt.default(30_000).describe("Statement timeout set on every pooled connection, in milliseconds."),
  CUSTODY_DB_CONNECT_TIMEOUT_MS: positiveInt
    .max(300_000)
    .default(5_000)
    .describe("How long a new Postgres connection may take before the attempt fails (a request then answers 503 DATABASE_UNAVAILABLE), in milliseconds."),
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222").describe("NATS server URL(s), comma-separated. JetStream must be enabled."),
  CUSTODY_NATS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, "letters, digits, '_' or '-', at most 32")
    .default("custody")
    .describe("Prefix of every JetStream stream, consumer and subject, so several deployments (or test runs) share one NATS without colliding."),
  CUSTODY_NATS_REPLICAS: positiveInt
    .max(5)
    .default(1)
    .describe(
      "Copies JetStream keeps of the pipeline's stream (1 to 5): 1 for a single NATS server, 3 in a cluster of three or more, so the stream survives a server's loss. Applied when a pipeline process starts, to a stream that already exists too (JetStream rescales it in place); every pipeline process must have the same value, and it cannot exceed the number of JetStream servers.",
    ),
  CUSTODY_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("Minimum log level. Logs are JSON lines, or pretty-printed when stdout is a TTY."),
  CUSTODY_MASTER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, "base64 of exactly 32 bytes")
    .optional()
    .describe("AES-256-GCM key (base64, 32 bytes) that encrypts platform private keys and endpoint secrets at rest. Required in production; development uses a fixed, public, insecure key and says so in the log."),
  CUSTODY_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]{1,255}$/, "non-empty, no whitespace or '+'")
    .default("custody.localhost/log")
    .describe("The ledger's log origin: the first line of every checkpoint and the name of the platform signing key (C2SP tlog-checkpoint)."),
  CUSTODY_API_HOST: z.string().min(1).default("127.0.0.1").describe("Address the REST API listens on."),
  CUSTODY_API_PORT: port.default(3000).describe("Port of the REST API."),
  CUSTODY_PROOFS_HOST: z.string().min(1).default("127.0.0.1").describe("Address the proof service listens on."),
  CUSTODY_PROOFS_PORT: port.default(3001).describe("Port of the proof service."),
  CUSTODY_SHUTDOWN_GRACE_MS: positiveInt.default(10_000).describe("How long a stopping process waits for in-flight work before it exits anyway."),
  CUSTODY_SEQUENCER_BATCH: positiveInt.max(100_000).default(5_000).describe("Most ledger entries the sequencer assigns indexes to in one transaction."),
  CUSTODY_SEQUENCER_POLL_MS: positiveInt
    .default(50)
    .describe(
      "How often the sequencer looks for unsequenced entries after a round that found fewer than a batch, in milliseconds. Each round in a row that finds none doubles the wait, up to 8 times this (an idle platform reads the ledger a few times a second); a checkpoint still owed is signed on time.",
    ),
  CUSTODY_CHECKPOINT_INTERVAL_MS: positiveInt.default(250).describe("How often the sequencer signs a new checkpoint, in milliseconds (only when the tree grew)."),
  CUSTODY_SEQUENCER_LOCK_RETRY_MS: positiveInt.default(1_000).describe("How often a standby sequencer tries to take the leader lock, in milliseconds."),
  CUSTODY_PIPELINE_STAGES: z
    .string()
    .default("all")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.enum(["all", ...PIPELINE_STAGES])).min(1))
    .describe(`Which pipeline stages this process runs, comma-separated: \`all\` or any of ${PIPELINE_STAGES.map((s) => `\`${s}\``).join(", ")}. Run stages in separate processes to scale them apart.`),
  CUSTODY_SECRET_OVERLAP_HOURS: positiveInt
    .max(24 * 30)
    .default(24)
    .describe("How long a rotated-out endpoint signing secret stays valid (deliveries carry signatures of both), in hours."),
  CUSTODY_INGEST_RATE_PER_SECOND: positiveInt
    .default(2_000)
    .describe("Events each tenant may append per second across all API processes (a token bucket in each, holding its share: this ÷ the live API processes); beyond it, 429 with Retry-After."),
  CUSTODY_INGEST_BURST: positiveInt.default(4_000).describe("Events a tenant may append at once above its steady rate, across all API processes (each holds its share)."),
  CUSTODY_MAX_BATCH_EVENTS: positiveInt.max(10_000).default(500).describe("Most events in one `POST /api/v2/events/batch`."),
  CUSTODY_MAX_JSON_DEPTH: positiveInt.max(256).default(32).describe("Deepest nesting accepted in an event's `data` and `metadata`."),
  CUSTODY_STAGE_BATCH: positiveInt.max(4_096).default(256).describe("Most events dispatch (and deliveries the scheduler) handles in one batch: one Postgres write, one seal signature per 4,096 attempts."),
  CUSTODY_STAGE_ACK_WAIT_MS: positiveInt
    .min(1_000)
    .max(600_000)
    .default(30_000)
    .describe("How long JetStream waits before handing an unacknowledged pipeline message to another process: how long the messages of a process that died stay stranded (live ones are kept alive while they work)."),
  CUSTODY_DELIVER_CONCURRENCY: positiveInt.max(10_000).default(512).describe("Most HTTP deliveries in flight in one pipeline process."),
  CUSTODY_ENDPOINT_CONCURRENCY: positiveInt
    .max(1_000)
    .default(16)
    .describe(
      "Most deliveries in flight to one endpoint (or one callback origin) across all delivering pipeline processes: each allows this ÷ the live ones, rounded down, at least 1. An endpoint's own rate limit is split among them the same way.",
    ),
  CUSTODY_ENDPOINT_QUEUE: positiveInt
    .max(100_000)
    .default(256)
    .describe(
      "Most attempts of a slow endpoint (or callback origin: one whose exchange has run over 1 s) sending or waiting their turn in one pipeline process; beyond it, its new deliveries are parked in Postgres for the scheduler, so a slow endpoint holds back only its own. An endpoint that answers is never parked.",
    ),
  CUSTODY_DELIVERY_TIMEOUT_MS: positiveInt.max(60_000).default(10_000).describe("How long one delivery attempt may take, connect to last byte, in milliseconds."),
  CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS: positiveInt
    .default(120)
    .describe("An endpoint whose deliveries have failed continuously for this long is disabled (and a `webhook.endpoint.disabled` event is sent to its tenant)."),
  CUSTODY_SCHEDULER_INTERVAL_MS: positiveInt.default(250).describe("How often the retry scheduler looks for deliveries whose next attempt is due, in milliseconds."),
  CUSTODY_OUTCOME_LINGER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000)
    .default(20)
    .describe(
      "How long the pipeline waits for more attempt outcomes before it records those finished, in milliseconds (0: none). Recording is off the delivery's path (the endpoint has the payload already); waiting lets one statement, one ledger entry and one commit carry the outcomes of many attempts at low rates. A delivery's status and attempt show this much later; its JetStream message is acked this much later.",
    ),
  CUSTODY_RELAY_POLL_MS: positiveInt.default(500).describe("How often the relay looks for committed events when no notification woke it, in milliseconds."),
  CUSTODY_PEER_HEARTBEAT_MS: positiveInt
    .min(100)
    .max(10_000)
    .default(1_000)
    .describe(
      "How often an API or delivering pipeline process writes its heartbeat in Postgres and counts its live peers, by which it splits the limits that hold across processes (ingest rate, endpoint rate and concurrency), in milliseconds.",
    ),
  CUSTODY_PEER_TTL_MS: positiveInt
    .min(200)
    .max(60_000)
    .default(3_000)
    .describe(
      "How long a process's heartbeat counts: a process silent this long (killed, hung, cut off) is taken for dead and its share of the limits returns to its peers, in milliseconds. At least twice CUSTODY_PEER_HEARTBEAT_MS, and the same in every process.",
    ),
  CUSTODY_PIPELINE_INDEX_PLANS: flag("true").describe(
    "The pipeline prepares each statement once per connection and plans it once, as nested loops over indexes (hash and merge joins and sequential scans priced out, and JIT compilation off, on its connections only, the relay's and sequencer's leader sessions included): its statements are keyed reads and writes of small batches, and planning them afresh was a third of their Postgres CPU at low load. `false` plans every statement anew, as the other processes do.",
  ),
  CUSTODY_API_PREPARED_INGEST: flag("true").describe(
    "The API's ingest group commit writes through one connection of its own, on which its statement is prepared once and planned once (as CUSTODY_PIPELINE_INDEX_PLANS plans the pipeline's), instead of being parsed and planned on every commit. `false` writes through the API's pool, every statement planned anew: for a transaction-mode connection pooler, which keeps neither prepared statements nor startup options.",
  ),
  CUSTODY_ALLOW_LOOPBACK_TARGETS: flag("false").describe(
    "Development only: allow webhook and callback URLs on loopback addresses (and plain http). Never allowed in production; link-local and metadata addresses are never allowed.",
  ),
  CUSTODY_PORTAL_FRAME_ANCESTORS: z
    .string()
    .default("")
    .transform((v) => v.split(/[\s,]+/).filter((s) => s.length > 0))
    .pipe(z.array(z.string().regex(/^(?:'self'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/, "an origin such as https://app.example.com (a leading *. for subdomains), or 'self'")).max(50))
    .describe(
      "Origins allowed to embed the endpoint-owner portal (`/console/portal`) in an iframe, space- or comma-separated (e.g. `https://app.example.com https://*.example.org`): sent as the portal page's CSP `frame-ancestors`. Empty (the default): no site may frame it. The operator console itself can never be framed.",
    ),
  CUSTODY_CONSOLE_DIR: z
    .string()
    .default("")
    .describe("Directory of the built operator console that the API serves at `/console` (`node console/build.mjs` writes it). Empty (the default): `console/dist` of this checkout, which `npm start` builds."),
} as const;

export type FieldName = keyof typeof fields;

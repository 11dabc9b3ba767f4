import { connectBus, checkJetStream, type NatsConnection } from "@custody/bus";
import type { Config } from "@custody/config";
import { createDb, postgresReadiness, type Db } from "@custody/db";
import { createLogger, type Logger } from "@custody/log";
import type pg from "pg";
import { useNativeCrypto } from "./native-crypto.js";

/** Within the 2 s `/readyz` gives each check. */
const READINESS_TIMEOUT_MS = 1_500;

type CommonConfig = Config<"proofs"> | Config<"api"> | Config<"pipeline"> | Config<"cli">;

export interface Dependencies {
  logger: Logger;
  db: Db;
  pool: pg.Pool;
  /** The read replica's pool (DATABASE_READ_URL), for the proof routes; absent when it is not set. */
  readDb: Db | undefined;
  /** One connection with index plans, for a batch write made one at a time (`writer` option); absent otherwise. */
  writerDb: Db | undefined;
  /** Only for processes that use the bus (the pipeline): the API and the proof service never publish. */
  nc: NatsConnection | undefined;
  readiness: Record<string, () => Promise<void>>;
  /** Drains NATS and closes the pool; call after the service stopped taking work. */
  close(): Promise<void>;
}

/** What every long-running service holds: a logger, a Postgres pool and, if it uses the bus, a NATS connection. */
export async function openDependencies(
  service: string,
  config: CommonConfig,
  options: {
    nats: boolean;
    /** Report not ready while the read replica does not answer: for a process whose reads depend on it. */
    replicaReadiness?: boolean;
    /** Prepared statements with index plans on the main pool (@custody/db plans.ts). */
    indexPlans?: boolean;
    /**
     * A connection of its own, with prepared statements and index plans, for a write that one
     * committer makes one batch at a time (the API's ingest group commit): its statement is then
     * parsed and planned once, not on every commit.
     */
    writer?: boolean;
  },
): Promise<Dependencies> {
  useNativeCrypto();
  const logger = createLogger({ service, level: config.CUSTODY_LOG_LEVEL });
  const primary = (name: string, poolMax: number, indexPlans: boolean) =>
    createDb({
      url: config.DATABASE_URL,
      poolMax,
      statementTimeoutMs: config.CUSTODY_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: config.CUSTODY_DB_CONNECT_TIMEOUT_MS,
      applicationName: name,
      indexPlans,
    });
  const { db, pool } = primary(`custody-${service}`, config.CUSTODY_DB_POOL_MAX, options.indexPlans === true);
  pool.on("error", (err) => logger.warn({ err }, "idle Postgres connection failed"));
  const writer = options.writer === true ? primary(`custody-${service}-writer`, 1, true) : undefined;
  writer?.pool.on("error", (err) => logger.warn({ err }, "idle Postgres connection failed"));
  const readUrl = "DATABASE_READ_URL" in config ? config.DATABASE_READ_URL : undefined;
  const read =
    readUrl === undefined
      ? undefined
      : createDb({
          url: readUrl,
          poolMax: config.CUSTODY_DB_POOL_MAX,
          statementTimeoutMs: config.CUSTODY_DB_STATEMENT_TIMEOUT_MS,
          connectTimeoutMs: config.CUSTODY_DB_CONNECT_TIMEOUT_MS,
          applicationName: `custody-${service}-read`,
        });
  read?.pool.on("error", (err) => logger.warn({ err }, "idle Postgres replica connection failed"));
  const nc = options.nats ? await connectBus({ url: config.NATS_URL, name: `custody-${service}` }) : undefined;
  return {
    logger,
    db,
    pool,
    readDb: read?.db,
    writerDb: writer?.db,
    nc,
    readiness: {
      // On a connection of its own: a pool busy with work must not read as Postgres being down.
      postgres: postgresReadiness(config.DATABASE_URL, READINESS_TIMEOUT_MS, `custody-${service}-readiness`),
      ...(readUrl !== undefined && options.replicaReadiness === true ? { postgresReplica: postgresReadiness(readUrl, READINESS_TIMEOUT_MS, `custody-${service}-readiness`) } : {}),
      ...(nc === undefined ? {} : { nats: () => checkJetStream(nc) }),
    },
    async close() {
      await nc?.drain().catch((err: unknown) => logger.warn({ err }, "NATS drain failed"));
      await Promise.all([db.destroy(), read?.db.destroy(), writer?.db.destroy()]);
    },
  };
}

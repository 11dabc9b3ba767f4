import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { INDEX_PLAN_OPTIONS, prepareStatements } from "./plans.js";
import type { Database } from "./tables.js";

export type Db = Kysely<Database>;

export interface DbSettings {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** How long a new connection may take; without it a host that drops packets hangs requests for the TCP timeout. */
  connectTimeoutMs?: number;
  applicationName: string;
  /** Prepared statements with index plans (plans.ts): for a process of keyed small-batch statements only. */
  indexPlans?: boolean;
}

// bigint columns (leaf indexes, tree sizes) come back as strings: JS numbers lose precision past 2^53,
// and callers convert at the edge where they check the range.
export function createPool(settings: DbSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.poolMax,
    statement_timeout: settings.statementTimeoutMs,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5_000,
    application_name: settings.applicationName,
    ...(settings.indexPlans === true ? { options: INDEX_PLAN_OPTIONS } : {}),
  });
  // pg-pool listens for a client's 'error' only while the client is idle; a connection that dies
  // while checked out (a Postgres restart mid-query) emits 'error' with no listener, which would
  // kill the process. The query under way is rejected with that error already, and the pool drops
  // the broken client when it is released, so nothing more is to be done here.
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
    if (settings.indexPlans === true) prepareStatements(client);
  });
  return pool;
}

/**
 * A dedicated connection (a leader's session, which must hold its lock for as long as it leads),
 * planned like a pool with the same settings.
 */
export function createClient(settings: Pick<DbSettings, "url" | "applicationName" | "indexPlans">): pg.Client {
  const client = new pg.Client({
    connectionString: settings.url,
    application_name: settings.applicationName,
    ...(settings.indexPlans === true ? { options: INDEX_PLAN_OPTIONS } : {}),
  });
  if (settings.indexPlans === true) prepareStatements(client);
  return client;
}

export function createDb(settings: DbSettings): { db: Db; pool: pg.Pool } {
  const pool = createPool(settings);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}

/** The database name in a Postgres URL, and the URL of the maintenance database on the same server. */
export function splitDatabaseUrl(url: string): { database: string; adminUrl: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres";
  parsed.pathname = "/postgres";
  return { database, adminUrl: parsed.toString() };
}

/** Creates the database if it does not exist. Safe to race: a concurrent creator's win counts as success. */
export async function ensureDatabase(url: string): Promise<void> {
  const { database, adminUrl } = splitDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      } catch (err) {
        // 42P04 duplicate_database, 23505 unique_violation: another process created it first.
        const code = (err as { code?: string }).code;
        if (code !== "42P04" && code !== "23505") throw err;
      }
    }
  } finally {
    await client.end();
  }
}

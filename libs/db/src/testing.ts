import { randomBytes } from "node:crypto";
import pg from "pg";
import { loadConfig } from "@custody/config";
import { createDb, ensureDatabase, splitDatabaseUrl, type Db } from "./connect.js";
import { migrate } from "./migrate.js";

export interface TestDatabase {
  url: string;
  name: string;
  db: Db;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file, so runs never collide. `migrationsDir`
 * migrates it with other files (a test of a migration starts from the ones before it).
 */
export async function createTestDatabase(label = "t", migrationsDir?: string): Promise<TestDatabase> {
  // The server comes from DATABASE_URL like everything else; only the database name is the test's own.
  const server = new URL(loadConfig("cli").DATABASE_URL);
  const name = `custody_${label}_${randomBytes(6).toString("hex")}`.toLowerCase();
  server.pathname = `/${name}`;
  const url = server.toString();
  await ensureDatabase(url);
  await migrate(url, migrationsDir);
  const { db, pool } = createDb({ url, poolMax: 8, statementTimeoutMs: 60_000, applicationName: `test-${label}` });
  // DROP … WITH (FORCE) terminates connections the pool may still be closing; that is expected here.
  pool.on("error", () => undefined);
  return {
    url,
    name,
    db,
    pool,
    async drop() {
      // A test may have closed the pool already (e.g. to use the database as a template).
      await db.destroy().catch(() => undefined);
      await dropDatabase(url);
    },
  };
}

export async function dropDatabase(url: string): Promise<void> {
  const { database, adminUrl } = splitDatabaseUrl(url);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // A closed pool's sockets may still be saying goodbye: wait for them rather than terminate them
    // (a terminated session surfaces as an uncaught error in the process that owned it).
    for (let attempt = 0; attempt < 40; attempt++) {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [database]);
      if (rows[0]!.n === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

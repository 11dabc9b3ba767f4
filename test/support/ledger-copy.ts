import pg from "pg";
import { createDb, sql, type Db } from "@custody/db";
import { dropDatabase, type TestDatabase } from "@custody/db/testing";

/**
 * A copy of a test database (CREATE DATABASE … TEMPLATE, a cheap file copy: nothing may be connected
 * to the original), vandalised by `tamper` as a superuser with every trigger off — replica mode
 * skips user and foreign-key triggers, which is what someone bent on rewriting history would do.
 * Returns the copy's URL; the caller drops it.
 */
export async function tamperedCopy(t: TestDatabase, n: number, tamper: (db: Db) => Promise<void>): Promise<string> {
  const admin = new pg.Client({ connectionString: t.url.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  const name = `${t.name}_x${n}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${t.name}`);
  await admin.end();
  const url = t.url.replace(/\/[^/]+$/, `/${name}`);
  const { db } = createDb({ url, poolMax: 1, statementTimeoutMs: 60_000, applicationName: "tamper" });
  try {
    await db.connection().execute(async (conn) => {
      await sql`SET session_replication_role = replica`.execute(conn);
      await tamper(conn);
    });
  } catch (err) {
    await db.destroy();
    await dropDatabase(url);
    throw err;
  }
  await db.destroy();
  return url;
}

/** The id and stored bytes of the entry at leaf `index`. */
export async function entryAtLeaf(db: Db, index: number): Promise<{ id: string; body: Buffer }> {
  const { rows } = await sql<{ id: string; body: Buffer }>`
    SELECT e.id, e.body FROM ledger_leaves l JOIN ledger_entries e ON e.id = l.entry_id WHERE l.leaf_index = ${index}`.execute(db);
  return rows[0]!;
}

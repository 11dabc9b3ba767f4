import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { AppError } from "@custody/errors";

/** `migrations/` at the repository root. Migrations are data, frozen in time: they never import code. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../migrations/", import.meta.url));

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;
// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK = 0x637573746f6479n;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const [i, name] of names.entries()) {
    const match = FILE_NAME.exec(name);
    if (!match || Number(match[1]) !== i + 1) {
      throw new AppError("MIGRATION_FAILED", `migration files must be named NNNN_name.sql and numbered 0001, 0002, … without gaps; found ${name} at position ${i + 1}`);
    }
    const sql = await readFile(join(dir, name), "utf8");
    migrations.push({ name, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return migrations;
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that
 * several processes starting at once migrate exactly once. Before applying anything it checks that
 * every already-applied file still has the checksum it had when applied: an edited landed migration
 * would mean databases that claim the same version but differ.
 */
export async function migrate(url: string, dir: string = MIGRATIONS_DIR): Promise<MigrationReport> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: url, application_name: "custody-migrate" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK.toString()]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ name: string; checksum: string }>("SELECT name, checksum FROM schema_migrations ORDER BY name");
    const onDisk = new Map(migrations.map((m) => [m.name, m]));
    for (const row of rows) {
      const file = onDisk.get(row.name);
      if (!file) {
        throw new AppError("MIGRATION_CHECKSUM_MISMATCH", `migration ${row.name} was applied to this database but is missing from ${dir}; this code is older than the database`);
      }
      if (file.checksum !== row.checksum) {
        throw new AppError(
          "MIGRATION_CHECKSUM_MISMATCH",
          `migration ${row.name} was edited after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ${file.checksum.slice(0, 12)}… on disk). Landed migrations are never edited: restore the file and put the change in a new migration.`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.name));
    const report: MigrationReport = { applied: [], alreadyApplied: [...done] };
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      try {
        await client.query("BEGIN");
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [m.name, m.checksum]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new AppError("MIGRATION_FAILED", `migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      report.applied.push(m.name);
    }
    return report;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK.toString()]).catch(() => undefined);
    await client.end();
  }
}

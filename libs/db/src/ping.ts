import pg from "pg";

/**
 * Resolves when Postgres at `url` answers `SELECT 1` on a connection of its own, opened for this and
 * closed after: a readiness probe that a busy pool (every connection checked out, requests queued)
 * cannot fail, and that a dead server fails within `timeoutMs`.
 */
export async function pingDatabase(url: string, timeoutMs: number, applicationName = "custody-readiness"): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
    application_name: applicationName,
  });
  // A connection that dies after connecting emits 'error' besides rejecting the query under way.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A readiness check for Postgres on a dedicated connection (see `pingDatabase`); concurrent probes
 * share the one under way, so a burst of `/readyz` calls opens one connection, not one each.
 */
export function postgresReadiness(url: string, timeoutMs = 2_000, applicationName?: string): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= pingDatabase(url, timeoutMs, applicationName).finally(() => {
      running = undefined;
    });
    return running;
  };
}

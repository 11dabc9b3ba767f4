import type pg from "pg";

/**
 * Index plans, for a process whose every statement is a keyed read or write of a small batch (the
 * pipeline: ids in `unnest($n)` arrays joined to primary keys and unique indexes).
 *
 * Postgres planned those multi-CTE statements afresh on every execution: at 100 events/s, parsing
 * and planning were 35–40 % of the pipeline's Postgres CPU (docs/benchmarks.md). Prepared once per
 * connection and planned generically, they are planned once — but a generic plan sees `unnest($n)`
 * as 100 rows of unknown ids and picks hash joins over sequential scans, which is slower than
 * planning. With hash and merge joins and sequential scans priced out, the generic plan is what a
 * custom plan for a few ids is: nested loops over index scans, which also stay right for a batch of
 * thousands (one index probe per id). Nothing is forbidden: a table with no usable index is still
 * scanned, only priced high — so high (10^10) that it passes the JIT's cost threshold, and a
 * one-row UPDATE of a singleton table was compiled on every execution (27 ms instead of 0.1): JIT
 * is off, as it should be for statements of a few rows anyway.
 */
export const INDEX_PLAN_OPTIONS = "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off -c jit=off";

/** Most distinct statements one connection prepares; any beyond run unprepared (and still generic). */
export const MAX_PREPARED_PER_CONNECTION = 256;

type Query = (...args: unknown[]) => unknown;

/**
 * Makes every parameterised statement the client runs (`query(text, values)`, as Kysely calls it) a
 * named prepared statement, one per distinct text. The pipeline's statements are a fixed set with
 * their rows in array parameters, so the texts repeat; the cap bounds a connection's server memory
 * should a caller build texts that do not.
 */
export function prepareStatements(client: pg.ClientBase, max = MAX_PREPARED_PER_CONNECTION): void {
  const query = client.query.bind(client) as Query;
  const names = new Map<string, string>();
  (client as unknown as { query: Query }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config !== "string" || !Array.isArray(values)) return query(config, values, callback);
    let name = names.get(config);
    if (name === undefined && names.size < max) {
      name = `custody_${names.size}`;
      names.set(config, name);
    }
    return name === undefined ? query(config, values, callback) : query({ name, text: config, values }, callback);
  };
}

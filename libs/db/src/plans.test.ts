import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createClient, createDb } from "./connect.js";
import { prepareStatements } from "./plans.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

describe("index plans", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("plans");
    await sql`CREATE TABLE plan_probe (id text PRIMARY KEY, n int NOT NULL)`.execute(t.db);
    await sql`INSERT INTO plan_probe SELECT 'k' || i, i FROM generate_series(1, 20000) i`.execute(t.db);
    await sql`ANALYZE plan_probe`.execute(t.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  it("prepares each statement once per connection, plans it generically, and joins an id array by index", async () => {
    const { db, pool } = createDb({ url: t.url, poolMax: 1, statementTimeoutMs: 10_000, applicationName: "test-plans", indexPlans: true });
    try {
      const lookup = (ids: string[]) => sql<{ n: number }>`SELECT p.n FROM unnest(${ids}::text[]) AS u(id) JOIN plan_probe p ON p.id = u.id ORDER BY p.n`.execute(db);
      for (const ids of [["k1"], ["k2", "k3"], ["k20000"], Array.from({ length: 500 }, (_, i) => `k${i + 1}`)]) {
        expect((await lookup(ids)).rows.map((r) => r.n)).toEqual(ids.map((id) => Number(id.slice(1))).sort((a, b) => a - b));
      }
      // The pool's one connection: its prepared statements and settings.
      const { rows } = await pool.query<{ name: string; generic_plans: string; custom_plans: string }>("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%plan_probe%'");
      expect(rows).toEqual([{ name: "custody_0", generic_plans: "4", custom_plans: "0" }]);
      expect((await pool.query("SHOW enable_hashjoin")).rows[0].enable_hashjoin).toBe("off");
      const plan = JSON.stringify((await pool.query(`EXPLAIN (FORMAT JSON) EXECUTE custody_0('{k1,k2}')`)).rows[0]);
      expect(plan).toContain('"Node Type":"Nested Loop"');
      expect(plan).toContain('"Index Name":"plan_probe_pkey"');
      expect(plan).not.toContain("Seq Scan");
    } finally {
      await db.destroy();
    }
  });

  it("never JIT-compiles a statement that only a priced-out sequential scan can run (a singleton table's UPDATE)", async () => {
    await sql`CREATE TABLE plan_singleton (n int NOT NULL)`.execute(t.db);
    await sql`INSERT INTO plan_singleton VALUES (0)`.execute(t.db);
    const client = createClient({ url: t.url, applicationName: "test-plans-client", indexPlans: true });
    await client.connect();
    try {
      expect((await client.query("SHOW enable_seqscan")).rows[0].enable_seqscan).toBe("off");
      await client.query("UPDATE plan_singleton SET n = $1", [1]);
      const { rows } = await client.query<{ name: string; generic_plans: string }>("SELECT name, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%plan_singleton%'");
      expect(rows).toEqual([{ name: "custody_0", generic_plans: "1" }]);
      const plan = JSON.stringify((await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ${rows[0]!.name}(2)`)).rows[0]);
      // The priced-out scan is far above jit_above_cost (100,000): with JIT on, the plan would say "JIT".
      expect(plan).toContain('"Total Cost":1000000');
      expect(plan).not.toContain('"JIT"');
    } finally {
      await client.end();
    }
  });

  it("prepares at most the cap of distinct statements on a connection; the rest still run", async () => {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      prepareStatements(client, 2);
      for (const k of [1, 2, 3, 1, 3]) expect((await client.query(`SELECT $1::int + ${k} AS v`, [10])).rows[0].v).toBe(10 + k);
      const { rows } = await client.query("SELECT name, statement FROM pg_prepared_statements ORDER BY name");
      expect(rows).toEqual([
        { name: "custody_0", statement: "SELECT $1::int + 1 AS v" },
        { name: "custody_1", statement: "SELECT $1::int + 2 AS v" },
      ]);
    } finally {
      await client.end();
    }
  });

  it("leaves connections of other processes planning every statement anew", async () => {
    const { rows } = await sql<{ enable_hashjoin: string; plan_cache_mode: string }>`SELECT current_setting('enable_hashjoin') AS enable_hashjoin, current_setting('plan_cache_mode') AS plan_cache_mode`.execute(t.db);
    expect(rows[0]).toEqual({ enable_hashjoin: "on", plan_cache_mode: "auto" });
  });
});

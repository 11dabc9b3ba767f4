import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "./testing.js";

describe("createDb", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("connect");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("survives a connection that dies while checked out: the query fails, the process lives, queries are answered again", async () => {
    const slow = sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(30)`.execute(t.db);
    const failed = slow.then(
      () => undefined,
      (err: unknown) => err,
    );
    // Find the sleeping backend and end it, as a Postgres restart would.
    let terminated = false;
    for (let i = 0; i < 100 && !terminated; i++) {
      const { rows } = await sql<{ done: boolean }>`
        SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`.execute(t.db);
      terminated = rows.some((r) => r.done);
      if (!terminated) await new Promise((r) => setTimeout(r, 20));
    }
    expect(terminated).toBe(true);
    expect(await failed).toBeInstanceOf(Error);
    // The pool drops the broken connection (a query may still meet it while it closes) and opens a new one.
    let answered = false;
    for (let i = 0; i < 10 && !answered; i++) {
      answered = await sql<{ one: number }>`SELECT 1 AS one`.execute(t.db).then(
        (r) => r.rows[0]!.one === 1,
        () => false,
      );
    }
    expect(answered).toBe(true);
  });
});

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { newId } from "./ids.js";
import { fixedAtomicWrite, WriteConflict, writeAtomically } from "./statement.js";
import { createDb } from "./connect.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

describe("writeAtomically", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("statement");
    await sql`CREATE TABLE claims (k int PRIMARY KEY)`.execute(t.db);
    await sql`INSERT INTO claims VALUES (1)`.execute(t.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  const entries = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ledger_entries`.execute(t.db)).rows[0]!.n;
  const claims = async () => (await sql<{ k: number }>`SELECT k FROM claims ORDER BY k`.execute(t.db)).rows.map((r) => r.k);
  const parts = (keys: number[]) => {
    const body = Buffer.from(`{"n":${keys[0]}}`);
    return [
      {
        name: "entry",
        sql: sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash) VALUES (${newId("ent")}, 'event', ${body}, ${createHash("sha256")
          .update(Buffer.concat([Buffer.from([0]), body]))
          .digest()})`,
      },
      { name: "claimed", sql: sql`INSERT INTO claims SELECT unnest(${sql.val(keys)}::int[]) ON CONFLICT DO NOTHING RETURNING k`, expect: { rows: keys.length, what: "claims" } },
    ];
  };

  it("writes every part when each count is as expected", async () => {
    const before = await entries();
    await writeAtomically(t.db, parts([2, 3]));
    expect(await entries()).toBe(before + 1);
    expect(await claims()).toEqual([1, 2, 3]);
  });

  it("writes nothing, not even the parts that succeeded, when a row existed already", async () => {
    const before = await entries();
    const err = await writeAtomically(t.db, parts([4, 1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteConflict);
    expect((err as Error).message).toBe("claims were 1 rows, expected 2");
    expect(await entries()).toBe(before);
    expect(await claims()).toEqual([1, 2, 3]);
  });

  it("inside a transaction, a conflict aborts the statement and the caller's transaction rolls back", async () => {
    const before = await entries();
    await expect(
      t.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO claims VALUES (10)`.execute(trx);
        await writeAtomically(trx, parts([11, 2]));
      }),
    ).rejects.toBeInstanceOf(WriteConflict);
    expect(await entries()).toBe(before);
    expect(await claims()).toEqual([1, 2, 3]);
  });

  describe("fixedAtomicWrite", () => {
    let builds = 0;
    // A fixed statement of both kinds of slot and a constant: the claim's tag is the same in every run.
    const claim = fixedAtomicWrite<{ claim: { keys: number[]; notes: string[] }; count: number }>((slot) => {
      builds++;
      return [
        { name: "noted", sql: sql`INSERT INTO notes (k, note, tag) SELECT *, ${"fixed"} FROM unnest(${slot.array("claim", "keys", "int4")}, ${slot.array("claim", "notes", "text")})` },
        { name: "claimed", sql: sql`INSERT INTO claims SELECT unnest(${slot.array("claim", "keys", "int4")}) ON CONFLICT DO NOTHING RETURNING k`, expect: { rows: slot.value("count"), what: "claims" } },
      ];
    });
    const notes = async () => (await sql<{ k: number; note: string; tag: string }>`SELECT k, note, tag FROM notes ORDER BY k`.execute(t.db)).rows;
    const run = (db: typeof t.db, keys: number[]) => claim(db, { claim: { keys, notes: keys.map((k) => `n${k}`) }, count: keys.length });
    beforeAll(async () => {
      await sql`CREATE TABLE notes (k int PRIMARY KEY, note text NOT NULL, tag text NOT NULL)`.execute(t.db);
    });

    it("builds once and writes each run's values, whatever their number, through one prepared text", async () => {
      // As the API's writer connects: every statement prepared by its text (plans.ts).
      const writer = createDb({ url: t.url, poolMax: 1, statementTimeoutMs: 10_000, applicationName: "fixed", indexPlans: true });
      try {
        await run(writer.db, [20]);
        await run(writer.db, [21, 22, 23]);
        await writer.db.transaction().execute((trx) => run(trx, [24, 25]));
        expect(builds).toBe(1);
        expect(await notes()).toEqual([20, 21, 22, 23, 24, 25].map((k) => ({ k, note: `n${k}`, tag: "fixed" })));
        const prepared = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE 'WITH "noted"%'`.execute(writer.db);
        expect(prepared.rows[0]!.n).toBe(1);
      } finally {
        await writer.db.destroy();
      }
    });

    it("undoes every part and throws WriteConflict when a count differs", async () => {
      const before = await notes();
      const err = await run(t.db, [30, 1]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteConflict);
      expect((err as Error).message).toBe("claims were 1 rows, expected 2");
      expect(await notes()).toEqual(before);
    });

    it("refuses a value its array slot's type cannot hold, before sending anything", async () => {
      await expect(claim(t.db, { claim: { keys: [1.5], notes: ["x"] }, count: 1 })).rejects.toThrow(/1.5 is not an int4/);
    });
  });
});

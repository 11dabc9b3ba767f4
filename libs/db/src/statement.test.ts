import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { newId } from "./ids.js";
import { WriteConflict, writeAtomically } from "./statement.js";
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
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { splitDatabaseUrl, sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { outcomesEntry } from "@custody/ledger";
import { appendEntries } from "./append.js";
import { assertXidCounterAhead, entriesAfter, ORIGIN_POSITION, XidCounterBehind } from "./commit-order.js";

/** A session that opens a transaction holding an xid, in the given database, until `end`. */
async function openWriter(url: string): Promise<{ end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  await client.query("SELECT pg_current_xact_id()");
  return {
    async end() {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

describe("entriesAfter", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("order");
  });
  afterAll(async () => {
    await t.drop();
  });

  const append = async () => (await appendEntries(t.db, [{ tenantId: null, document: outcomesEntry({ batchRoot: "cd".repeat(32), size: 1 }) }]))[0]!.id;
  const ids = async () => (await entriesAfter(t.db, ORIGIN_POSITION, 100)).entries.map((e) => e.id);

  it("is not held back by a transaction of another database of the cluster, however long it stays open", async () => {
    const elsewhere = await openWriter(splitDatabaseUrl(t.url).adminUrl);
    try {
      const id = await append();
      const read = await entriesAfter(t.db, ORIGIN_POSITION, 100);
      expect(read.entries.map((e) => e.id)).toContain(id);
      expect(read.heldBack).toBe(false);
    } finally {
      await elsewhere.end();
    }
  });

  it("is held back by an older transaction of this database that could still append, until it ends", async () => {
    const here = await openWriter(t.url);
    let id: string;
    try {
      id = await append();
      const read = await entriesAfter(t.db, ORIGIN_POSITION, 100);
      expect(read.entries.map((e) => e.id)).not.toContain(id);
      expect(read.heldBack).toBe(true);
    } finally {
      await here.end();
    }
    expect(await ids()).toContain(id);
  });
});

describe("assertXidCounterAhead", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("xidahead");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("passes on a ledger this cluster wrote, and on an empty one", async () => {
    await expect(assertXidCounterAhead(t.db)).resolves.toBeUndefined();
    await appendEntries(t.db, [{ tenantId: null, document: outcomesEntry({ batchRoot: "ab".repeat(32), size: 1 }) }]);
    await expect(assertXidCounterAhead(t.db)).resolves.toBeUndefined();
  });

  it("refuses a ledger whose entries carry xids the cluster has not reached (restored into another cluster)", async () => {
    // What a restore into a younger cluster looks like: an entry written at an xid far ahead of this counter.
    const body = Buffer.from('{"kind":"outcomes","v":2}');
    await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid)
              VALUES ('ent_fromanothercluster0', 'outcomes', ${body}, sha256('\\x00'::bytea || ${body}),
                      (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text::xid8)`.execute(t.db);
    const err = await assertXidCounterAhead(t.db).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XidCounterBehind);
    expect((err as Error).message).toMatch(/restored into another cluster/);
  });
});

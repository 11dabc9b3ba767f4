import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { newId } from "./ids.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

// The schema's own defences, independent of any service code.
describe("ledger tables", () => {
  let t: TestDatabase;
  let entryId: string;
  beforeAll(async () => {
    t = await createTestDatabase("guard");
    entryId = newId("ent");
    const body = Buffer.from("hello");
    const leafHash = createHash("sha256")
      .update(Buffer.concat([Buffer.from([0]), body]))
      .digest();
    await t.db.insertInto("ledger_entries").values({ id: entryId, kind: "event", tenant_id: null, body, leaf_hash: leafHash }).execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  it("gives every new entry its transaction id, the key of the commit-safe order the sequencer follows, and queues nothing", async () => {
    const row = await sql<{ xid: string; mine: string }>`SELECT xid::text AS xid, pg_current_xact_id()::text AS mine FROM ledger_entries WHERE id = ${entryId}`.execute(t.db);
    expect(BigInt(row.rows[0]!.xid)).toBeGreaterThan(0n);
    expect(BigInt(row.rows[0]!.xid)).toBeLessThan(BigInt(row.rows[0]!.mine));
    expect(await t.db.selectFrom("ledger_pending").select("entry_id").execute()).toEqual([]);
  });

  it("rejects UPDATE, DELETE and TRUNCATE, even for a superuser", async () => {
    await expect(t.db.updateTable("ledger_entries").set({ kind: "recall" }).execute()).rejects.toThrow(/LEDGER_APPEND_ONLY: UPDATE/);
    await expect(t.db.deleteFrom("ledger_entries").execute()).rejects.toThrow(/LEDGER_APPEND_ONLY: DELETE/);
    await expect(sql`TRUNCATE ledger_entries CASCADE`.execute(t.db)).rejects.toThrow(/LEDGER_APPEND_ONLY: TRUNCATE/);
  });

  it("rejects a leaf hash that disagrees with the bytes", async () => {
    await expect(
      t.db
        .insertInto("ledger_entries")
        .values({ id: newId("ent"), kind: "event", tenant_id: null, body: Buffer.from("x"), leaf_hash: Buffer.alloc(32) })
        .execute(),
    ).rejects.toThrow(/leaf_hash_matches_body/);
  });

  it("gives the application role no right to rewrite the ledger", async () => {
    await t.db.connection().execute(async (conn) => {
      await sql`SET ROLE custody_app`.execute(conn);
      try {
        await expect(sql`DELETE FROM ledger_entries`.execute(conn)).rejects.toThrow(/permission denied/);
        await expect(sql`UPDATE ledger_leaves SET entry_id = entry_id`.execute(conn)).rejects.toThrow(/permission denied/);
        // Nor to choose where an entry sorts in the commit-safe order (or when it was made).
        const body = Buffer.from("late");
        const hash = createHash("sha256")
          .update(Buffer.concat([Buffer.from([0]), body]))
          .digest();
        await expect(sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid) VALUES (${newId("ent")}, 'event', ${body}, ${hash}, '0')`.execute(conn)).rejects.toThrow(/permission denied/);
        await expect(sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, created_at) VALUES (${newId("ent")}, 'event', ${body}, ${hash}, now())`.execute(conn)).rejects.toThrow(/permission denied/);
        await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash) VALUES (${newId("ent")}, 'event', ${body}, ${hash})`.execute(conn);
        const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM ledger_entries`.execute(conn);
        expect(rows.rows[0]?.n).toBe("2");
      } finally {
        await sql`RESET ROLE`.execute(conn);
      }
    });
  });
});

describe("deliveries", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("guard-deliveries");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("refuses a delivery whose tenant is not its event's: the key to the event holds the tenant too (0013)", async () => {
    const [owner, other] = [newId("ten"), newId("ten")];
    await sql`INSERT INTO tenants (id, name) VALUES (${owner}, 'owner'), (${other}, 'other')`.execute(t.db);
    const body = Buffer.from("event");
    const entryId = newId("ent");
    await sql`INSERT INTO ledger_entries (id, kind, tenant_id, body, leaf_hash) VALUES (${entryId}, 'event', ${owner}, ${body}, sha256('\\x00'::bytea || ${body}))`.execute(t.db);
    await sql`INSERT INTO events (tenant_id, id, type, payload, payload_sha256, occurred_at, request_hash, entry_id)
              VALUES (${owner}, 'evt-1', 'order.placed', '\\x7b7d', sha256('\\x7b7d'), now(), '\\x00', ${entryId})`.execute(t.db);
    const deliver = (tenantId: string) =>
      sql`INSERT INTO deliveries (id, tenant_id, event_id, endpoint_id, kind, target_url, idempotency_key)
          VALUES (${newId("dlv")}, ${tenantId}, 'evt-1', NULL, 'callback', 'https://example.com/cb', gen_random_uuid())`.execute(t.db);
    await expect(deliver(other)).rejects.toThrow(/deliveries_tenant_id_event_id_fkey/);
    await expect(deliver(newId("ten"))).rejects.toThrow(/deliveries_tenant_id_event_id_fkey/);
    await deliver(owner);
  });
});

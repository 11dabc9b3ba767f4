import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "@custody/db";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { appendEntries, consistencyProofBetween, inclusionProofAt, rootAt } from "@custody/ledger-store";
import { createLogger } from "@custody/log";
import { rootFromLeafHashes, rootPlan, verifyConsistency, verifyInclusion } from "@custody/merkle";
import { generateSigner, openCheckpoint, verifierKeyOf } from "@custody/note";
import { idlePollMs, Sequencer } from "./sequencer.js";

const logger = createLogger({ service: "test", level: process.env.SEQ_LOG ?? "silent", pretty: false });
const signer = generateSigner("custody.test/log");

function sequencer(t: TestDatabase, overrides: Partial<ConstructorParameters<typeof Sequencer>[0]> = {}) {
  return new Sequencer({
    databaseUrl: t.url,
    logger,
    signer: async () => signer,
    batchSize: 64,
    pollMs: 5,
    checkpointIntervalMs: 20,
    lockRetryMs: 20,
    ...overrides,
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const head = (t: TestDatabase) => t.db.selectFrom("ledger_head").selectAll().executeTakeFirstOrThrow();

describe("Sequencer", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("seq");
  });
  afterAll(async () => {
    await t.drop();
  });

  it("assigns dense indexes, stores the tree and signs a checkpoint of it", async () => {
    const appended = [];
    for (let batch = 0; batch < 5; batch++) {
      appended.push(
        ...(await appendEntries(
          t.db,
          Array.from({ length: 41 }, (_, i) => ({ tenantId: null, document: { v: 1 as const, kind: "event" as const, n: batch * 100 + i, r: randomBytes(4).toString("hex") } })),
        )),
      );
    }
    const s = sequencer(t);
    const running = s.run();
    await waitFor(async () => Number((await head(t)).checkpoint_size) === 205);
    s.stop();
    await running;

    const leaves = await t.db.selectFrom("ledger_leaves").select(["leaf_index", "entry_id"]).orderBy("leaf_index").execute();
    expect(leaves.map((l) => Number(l.leaf_index))).toEqual([...Array(205).keys()]);
    // Entries are sequenced in insertion order, so the tree is exactly the reference tree of the appended leaves.
    expect(leaves.map((l) => l.entry_id)).toEqual(appended.map((a) => a.id));
    const expectedRoot = rootFromLeafHashes(appended.map((a) => a.leafHash));
    expect(await rootAt(t.db, 205)).toEqual(expectedRoot);

    const cp = await t.db.selectFrom("ledger_checkpoints").selectAll().orderBy("tree_size", "desc").executeTakeFirstOrThrow();
    const opened = openCheckpoint(cp.note, verifierKeyOf(signer), "custody.test/log");
    expect(opened.size).toBe(205);
    expect(opened.rootHash).toEqual(expectedRoot);

    for (const index of [0, 1, 63, 64, 127, 204]) {
      verifyInclusion(appended[index]!.leafHash, index, 205, await inclusionProofAt(t.db, index, 205), expectedRoot);
    }
    for (const first of [1, 41, 64, 128, 204]) {
      const older = rootFromLeafHashes(appended.slice(0, first).map((a) => a.leafHash));
      verifyConsistency(first, 205, await consistencyProofBetween(t.db, first, 205), older, expectedRoot);
    }
  });

  it("lets exactly one of several sequencers lead, and a standby take over when the leader stops", async () => {
    const a = sequencer(t);
    const b = sequencer(t);
    const runA = a.run();
    const runB = b.run();
    const holders = async () =>
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(t.db)).rows[0]!.n,
      );
    await waitFor(async () => (await holders()) === 1);
    await appendEntries(t.db, [{ tenantId: null, document: { v: 1, kind: "event", n: 1 } }]);
    await waitFor(async () => Number((await head(t)).checkpoint_size) === 206);
    a.stop();
    await runA;
    await appendEntries(t.db, [{ tenantId: null, document: { v: 1, kind: "event", n: 2 } }]);
    await waitFor(async () => Number((await head(t)).checkpoint_size) === 207);
    b.stop();
    await runB;
    expect(Number((await head(t)).tree_size)).toBe(207);
  });

  it("never skips an entry whose transaction began earlier and committed later (commit-safe order)", async () => {
    const before = Number((await head(t)).tree_size);
    const s = sequencer(t);
    const running = s.run();
    const slow = await t.pool.connect();
    try {
      await slow.query("BEGIN");
      // The slow transaction takes its xid first, then a quick one appends and commits.
      await slow.query("SELECT pg_current_xact_id()");
      const [quick] = await appendEntries(t.db, [{ tenantId: null, document: { v: 1, kind: "event", n: "quick" } }]);
      await slow.query("INSERT INTO ledger_entries (id, kind, tenant_id, body, leaf_hash) VALUES ($1, 'event', NULL, $2, sha256('\\x00'::bytea || $2))", [
        `ent_${randomBytes(10).toString("hex")}`,
        Buffer.from('{"kind":"event","n":"slow","v":1}'),
      ]);
      // While the older transaction runs, the quick entry is committed but not final: nothing passes it.
      await new Promise((r) => setTimeout(r, 300));
      expect(Number((await head(t)).tree_size)).toBe(before);
      await slow.query("COMMIT");
      await waitFor(async () => Number((await head(t)).tree_size) === before + 2);
      const order = await t.db.selectFrom("ledger_leaves").select("entry_id").where("leaf_index", ">=", String(before)).orderBy("leaf_index").execute();
      expect(order[1]!.entry_id).toBe(quick!.id);
    } finally {
      slow.release();
      s.stop();
      await running;
    }
  });

  it("first sequences what a version before migration 0006 left queued, then follows the commit order", async () => {
    const before = Number((await head(t)).tree_size);
    const legacy = [0, 1, 2].map((i) => ({ id: `ent_${randomBytes(10).toString("hex")}`, body: Buffer.from(`{"kind":"event","legacy":${i},"v":1}`) }));
    for (const e of legacy) {
      await sql`INSERT INTO ledger_entries (id, kind, body, leaf_hash, xid) VALUES (${e.id}, 'event', ${e.body}::bytea, sha256('\\x00'::bytea || ${e.body}::bytea), '0')`.execute(t.db);
    }
    // Queued out of insertion order, as concurrent writers could leave them.
    for (const e of [legacy[2]!, legacy[0]!, legacy[1]!]) {
      await sql`INSERT INTO ledger_pending (seq, entry_id) SELECT seq, id FROM ledger_entries WHERE id = ${e.id}`.execute(t.db);
    }
    const [fresh] = await appendEntries(t.db, [{ tenantId: null, document: { v: 1, kind: "event", n: "fresh" } }]);
    const s = sequencer(t);
    const running = s.run();
    await waitFor(async () => Number((await head(t)).tree_size) === before + 4);
    s.stop();
    await running;
    const order = await t.db.selectFrom("ledger_leaves").select("entry_id").where("leaf_index", ">=", String(before)).orderBy("leaf_index").execute();
    expect(order.map((o) => o.entry_id)).toEqual([...legacy.map((e) => e.id), fresh!.id]);
    expect(await t.db.selectFrom("ledger_pending").selectAll().execute()).toEqual([]);
  });

  it("refuses to extend a tree whose stored nodes disagree with the head", async () => {
    const size = Number((await head(t)).tree_size);
    // A node of the frontier: the perfect subtrees the head's root is computed from.
    const node = rootPlan(size).at(-1)!;
    await sql`ALTER TABLE ledger_tree_nodes DISABLE TRIGGER USER`.execute(t.db);
    await sql`UPDATE ledger_tree_nodes SET hash = ${Buffer.alloc(32)} WHERE level = ${node.level} AND idx = ${node.index}`.execute(t.db);
    await sql`ALTER TABLE ledger_tree_nodes ENABLE TRIGGER USER`.execute(t.db);
    await appendEntries(t.db, [{ tenantId: null, document: { v: 1, kind: "event", n: 3 } }]);
    const errors: unknown[] = [];
    const watching = createLogger({ service: "test", level: "silent", pretty: false });
    watching.error = ((obj: { err?: Error }) => errors.push(obj.err?.message)) as typeof watching.error;
    const s = sequencer(t, { logger: watching });
    const running = s.run();
    await waitFor(async () => errors.length > 0);
    s.stop();
    await running;
    expect(errors[0]).toMatch(/disagrees with the stored tree nodes/);
    expect(Number((await head(t)).tree_size)).toBe(size);
  });
});

describe("idlePollMs", () => {
  it("polls at the interval after a round that found entries, doubling with each idle round up to 8 times it", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((idleRounds) => idlePollMs(idleRounds, 50, undefined))).toEqual([50, 50, 100, 200, 400, 400, 400]);
  });

  it("never puts off a checkpoint still owed beyond its interval", () => {
    expect(idlePollMs(5, 50, 120)).toBe(120);
    expect(idlePollMs(0, 50, 120)).toBe(50);
    expect(idlePollMs(5, 50, -3)).toBe(0);
  });
});

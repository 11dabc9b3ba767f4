import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@custody/db/testing";
import { outcomesEntry } from "@custody/ledger";
import { appendEntries } from "./append.js";
import { extendTree, LedgerHeadMoved, storeCheckpoint, type ExtendedTree, type TreeTip } from "./tree-writes.js";

describe("tree writes", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase("treewrites");
  });
  afterAll(async () => {
    await t.drop();
  });

  const entries = async (n: number) =>
    appendEntries(
      t.db,
      Array.from({ length: n }, (_, i) => ({ tenantId: null, document: outcomesEntry({ batchRoot: String(i % 10).repeat(64), size: 1 }) })),
    );
  const extend = async (tip: TreeTip, n: number): Promise<ExtendedTree> => {
    const appended = await entries(n);
    return extendTree(
      t.db,
      tip,
      appended.map((e) => e.id),
      appended.map((e) => e.leafHash),
    );
  };
  const counts = async () => {
    const head = await t.db.selectFrom("ledger_head").select(["tree_size", "checkpoint_size"]).executeTakeFirstOrThrow();
    const leaves = await t.db
      .selectFrom("ledger_leaves")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const nodes = await t.db
      .selectFrom("ledger_tree_nodes")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const checkpoints = await t.db.selectFrom("ledger_checkpoints").select("tree_size").orderBy("tree_size").execute();
    return { size: Number(head.tree_size), checkpointSize: Number(head.checkpoint_size), leaves: Number(leaves.n), nodes: Number(nodes.n), checkpoints: checkpoints.map((c) => Number(c.tree_size)) };
  };

  it("extends the tree and moves the head in one statement, and writes nothing when the head moved meanwhile", async () => {
    const origin: TreeTip = { size: 0, frontier: [] };
    const three = await extend(origin, 3);
    expect(three.size).toBe(3);
    // Three leaf nodes, and the level-1 node their first pair completes.
    const after = await counts();
    expect(after).toMatchObject({ size: 3, leaves: 3, nodes: 4 });

    // A deposed leader still holding the old tip.
    await expect(extend(origin, 2)).rejects.toBeInstanceOf(LedgerHeadMoved);
    expect(await counts()).toEqual(after);

    const five = await extend(three, 2);
    expect(five.size).toBe(5);
    expect(await counts()).toMatchObject({ size: 5, leaves: 5 });
  });

  it("stores a checkpoint with the head's move, and neither when the checkpoint moved meanwhile", async () => {
    const before = await counts();
    const root = new Uint8Array(32).fill(7);
    await storeCheckpoint(t.db, { size: 3, root, note: "a note\n", keyId: "00", previousSize: before.checkpointSize });
    expect(await counts()).toMatchObject({ checkpointSize: 3, checkpoints: [...before.checkpoints, 3] });
    // A deposed leader that last saw the checkpoint before.
    await expect(storeCheckpoint(t.db, { size: 5, root, note: "another\n", keyId: "00", previousSize: before.checkpointSize })).rejects.toBeInstanceOf(LedgerHeadMoved);
    expect(await counts()).toMatchObject({ checkpointSize: 3, checkpoints: [...before.checkpoints, 3] });
  });
});

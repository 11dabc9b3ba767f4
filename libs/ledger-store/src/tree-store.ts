import { sql, type Database, type Kysely } from "@custody/db";
import { AppError } from "@custody/errors";
import { assembleProof, consistencyProofPlan, hashFromDecomposition, inclusionProofPlan, nodeKey, rootPlan, uniqueNodeIds, type NodeId, type StoredNode } from "@custody/merkle";

/** The stored perfect nodes named by `ids` that exist, keyed by `nodeKey`, in one query. */
export async function fetchNodes(db: Kysely<Database>, ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ level: number; idx: string; hash: Buffer }>`
    SELECT n.level, n.idx, n.hash
    FROM ledger_tree_nodes n
    JOIN unnest(${sql.val(ids.map((i) => i.level))}::smallint[], ${sql.val(ids.map((i) => String(i.index)))}::bigint[]) AS want(level, idx)
      ON n.level = want.level AND n.idx = want.idx`.execute(db);
  return new Map(rows.rows.map((r) => [nodeKey({ level: r.level, index: Number(r.idx) }), new Uint8Array(r.hash)]));
}

/**
 * Reads the stored perfect nodes named by `ids` in one query, all of which must exist. Every proof
 * and root needs O(log n) of them (libs/merkle plans), so one round trip answers any proof.
 */
export async function loadNodes(db: Kysely<Database>, ids: readonly NodeId[]): Promise<Map<string, Uint8Array>> {
  const found = await fetchNodes(db, ids);
  const missing = ids.find((id) => !found.has(nodeKey(id)));
  if (missing) {
    // The plan only names nodes of a tree the sequencer has committed, so a gap is corruption, not a user error.
    throw new AppError("INTERNAL", `ledger tree node level=${missing.level} index=${missing.index} is missing`);
  }
  return found;
}

function lookupIn(nodes: Map<string, Uint8Array>) {
  return (id: NodeId) => nodes.get(nodeKey(id))!;
}

export async function committedTreeSize(db: Kysely<Database>): Promise<number> {
  const head = await db.selectFrom("ledger_head").select("tree_size").executeTakeFirstOrThrow();
  return Number(head.tree_size);
}

function checkSize(size: number, committed: number, field: string): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > committed) {
    throw new AppError("NOT_FOUND", `${field} ${size} is beyond the ledger's committed size ${committed}`, { field });
  }
}

export async function rootAt(db: Kysely<Database>, size: number): Promise<Uint8Array> {
  checkSize(size, await committedTreeSize(db), "treeSize");
  const plan = rootPlan(size);
  const nodes = await loadNodes(db, plan);
  return hashFromDecomposition(plan.map(lookupIn(nodes)));
}

export async function inclusionProofAt(db: Kysely<Database>, leafIndex: number, treeSize: number): Promise<Uint8Array[]> {
  checkSize(treeSize, await committedTreeSize(db), "treeSize");
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
    throw new AppError("VALIDATION_FAILED", `leafIndex must be below treeSize ${treeSize}`, { field: "leafIndex" });
  }
  const plan = inclusionProofPlan(leafIndex, treeSize);
  return assembleProof(plan, lookupIn(await loadNodes(db, uniqueNodeIds(plan))));
}

/**
 * Inclusion proofs of many leaves under one tree size, reading every node they need in one query
 * (a chain-of-custody document carries a dozen proofs; a round trip each would be wasted).
 */
export async function inclusionProofsAt(db: Kysely<Database>, leafIndexes: readonly number[], treeSize: number): Promise<Uint8Array[][]> {
  checkSize(treeSize, await committedTreeSize(db), "treeSize");
  const plans = leafIndexes.map((leafIndex) => {
    if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
      throw new AppError("VALIDATION_FAILED", `leafIndex ${leafIndex} must be below treeSize ${treeSize}`, { field: "leafIndex" });
    }
    return inclusionProofPlan(leafIndex, treeSize);
  });
  const nodes = await loadNodes(db, uniqueNodeIds(plans.flat()));
  return plans.map((plan) => assembleProof(plan, lookupIn(nodes)));
}

export async function consistencyProofBetween(db: Kysely<Database>, first: number, second: number): Promise<Uint8Array[]> {
  checkSize(second, await committedTreeSize(db), "second");
  if (!Number.isSafeInteger(first) || first < 1 || first > second) {
    throw new AppError("VALIDATION_FAILED", "first must be between 1 and second (a consistency proof from size 0 is undefined)", { field: "first" });
  }
  const plan = consistencyProofPlan(first, second);
  return assembleProof(plan, lookupIn(await loadNodes(db, uniqueNodeIds(plan))));
}

/** The perfect-subtree roots of the committed tree of `size` leaves: what the sequencer appends to. */
export async function loadFrontier(db: Kysely<Database>, size: number): Promise<StoredNode[]> {
  const plan = rootPlan(size);
  const nodes = await loadNodes(db, plan);
  return plan.map((id) => ({ level: id.level, index: id.index, hash: nodes.get(nodeKey(id))! }));
}

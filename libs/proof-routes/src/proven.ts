import type { ProvenEntry } from "@custody/custody";
import { sql, type Db } from "@custody/db";
import { inclusionProofsAt } from "@custody/ledger-store";
import { toHex } from "@custody/encoding";

/** Entries with their inclusion proofs under `treeSize` (empty while not yet covered by it). */
export async function provenEntries(db: Db, entryIds: readonly string[], treeSize: number): Promise<Map<string, ProvenEntry>> {
  if (entryIds.length === 0) return new Map();
  const rows = await sql<{ id: string; body: Buffer; leaf_index: string | null }>`
    SELECT e.id, e.body, l.leaf_index FROM ledger_entries e LEFT JOIN ledger_leaves l ON l.entry_id = e.id
    WHERE e.id = ANY(${sql.val([...new Set(entryIds)])}::text[])`.execute(db);
  const covered = rows.rows.filter((r) => r.leaf_index !== null && Number(r.leaf_index) < treeSize);
  const proofs =
    covered.length === 0
      ? []
      : await inclusionProofsAt(
          db,
          covered.map((r) => Number(r.leaf_index)),
          treeSize,
        );
  const proofOf = new Map(covered.map((r, i) => [r.id, proofs[i]!]));
  return new Map(
    rows.rows.map((r) => {
      const proof = proofOf.get(r.id);
      return [r.id, { entry: r.body.toString("base64"), leafIndex: proof ? Number(r.leaf_index) : null, inclusion: (proof ?? []).map(toHex) }];
    }),
  );
}

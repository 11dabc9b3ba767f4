import { columnsOf, newOrderedId, sql, type Database, type EntryKind, type Kysely, type RawBuilder } from "@custody/db";
import { encodeEntry, type EntryDocument } from "@custody/ledger";
import { leafHash } from "@custody/merkle";

export interface NewEntry {
  tenantId: string | null;
  document: EntryDocument;
}

export interface AppendedEntry {
  id: string;
  kind: EntryKind;
  leafHash: Uint8Array;
  body: Uint8Array;
}

/**
 * Makes the rows for these entries (fresh ids, exact bytes, leaf hashes) and the INSERT that stores
 * them, to run alone or as one part of a larger statement (a batch written in one round trip).
 */
export function entryInsert(entries: readonly NewEntry[]): { appended: AppendedEntry[]; insert: RawBuilder<unknown> } {
  const appended = entries.map((e) => {
    const body = encodeEntry(e.document);
    return { id: newOrderedId("ent"), kind: e.document.kind, leafHash: leafHash(body), body };
  });
  const col = columnsOf(appended);
  const insert = sql`
    INSERT INTO ledger_entries (id, kind, tenant_id, body, leaf_hash)
    SELECT * FROM unnest(${col("text", (a) => a.id)}, ${col("text", (a) => a.kind)}, ${col("text", (_, i) => entries[i]!.tenantId)},
                         ${col("bytea", (a) => a.body)}, ${col("bytea", (a) => a.leafHash)})`;
  return { appended, insert };
}

/**
 * Appends entries in one multi-row insert, inside whatever transaction `db` is, so an entry and
 * the rows that announce it commit together or not at all. The sequencer assigns their leaf
 * indexes later, in commit order.
 */
export async function appendEntries(db: Kysely<Database>, entries: readonly NewEntry[]): Promise<AppendedEntry[]> {
  if (entries.length === 0) return [];
  const { appended, insert } = entryInsert(entries);
  await insert.execute(db);
  return appended;
}

/** The leaf index of each entry that has one yet (the sequencer assigns them shortly after commit). */
export async function leafIndexesOf(db: Kysely<Database>, entryIds: readonly string[]): Promise<Map<string, number>> {
  if (entryIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("ledger_leaves")
    .select(["entry_id", "leaf_index"])
    .where("entry_id", "=", sql<string>`ANY(${sql.val([...entryIds])}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.entry_id, Number(r.leaf_index)]));
}

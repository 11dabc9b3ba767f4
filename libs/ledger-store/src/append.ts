import { newId, sql, type Database, type EntryKind, type Kysely } from "@custody/db";
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
 * Appends entries in one multi-row insert, inside whatever transaction `db` is, so an entry and
 * the rows that announce it (outbox, events) commit together or not at all. The entries are queued
 * for the sequencer by a trigger; their leaf index is assigned later.
 */
export async function appendEntries(db: Kysely<Database>, entries: readonly NewEntry[]): Promise<AppendedEntry[]> {
  if (entries.length === 0) return [];
  const appended = entries.map((e) => {
    const body = encodeEntry(e.document);
    return { id: newId("ent"), kind: e.document.kind, leafHash: leafHash(body), body, tenantId: e.tenantId };
  });
  await db
    .insertInto("ledger_entries")
    .values(
      appended.map((a) => ({
        id: a.id,
        kind: a.kind,
        tenant_id: a.tenantId,
        body: Buffer.from(a.body),
        leaf_hash: Buffer.from(a.leafHash),
      })),
    )
    .execute();
  return appended.map(({ id, kind, leafHash: hash, body }) => ({ id, kind, leafHash: hash, body }));
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

import { columnParams, newOrderedId, sql, type ArrayElementType, type Database, type EntryKind, type Kysely, type RawBuilder } from "@custody/db";
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

/** The rows for these entries: fresh ids, exact bytes, leaf hashes. */
export function entryRows(entries: readonly NewEntry[]): AppendedEntry[] {
  return entries.map((e) => {
    const body = encodeEntry(e.document);
    return { id: newOrderedId("ent"), kind: e.document.kind, leafHash: leafHash(body), body };
  });
}

/** The columns of entry rows, each with its array parameter's type. */
const ENTRY_COLUMNS = { id: "text", kind: "text", tenantId: "text", body: "bytea", leafHash: "bytea" } as const satisfies Record<string, ArrayElementType>;
export type EntryColumn = keyof typeof ENTRY_COLUMNS;

/** The rows' values by column, as `entriesInsertSql`'s parameters take them. */
export function entryColumns(entries: readonly NewEntry[], appended: readonly AppendedEntry[]): Record<EntryColumn, unknown[]> {
  return {
    id: appended.map((a) => a.id),
    kind: appended.map((a) => a.kind),
    tenantId: entries.map((e) => e.tenantId),
    body: appended.map((a) => a.body),
    leafHash: appended.map((a) => a.leafHash),
  };
}

/** The INSERT of entries whose columns are array parameters, each made by `param` for its column and type. */
export function entriesInsertSql(param: (column: EntryColumn, type: ArrayElementType) => RawBuilder<unknown>): RawBuilder<unknown> {
  const p = (c: EntryColumn) => param(c, ENTRY_COLUMNS[c]);
  return sql`
    INSERT INTO ledger_entries (id, kind, tenant_id, body, leaf_hash)
    SELECT * FROM unnest(${p("id")}, ${p("kind")}, ${p("tenantId")}, ${p("body")}, ${p("leafHash")})`;
}

/**
 * Makes the rows for these entries and the INSERT that stores them, to run alone or as one part of
 * a larger statement (a batch written in one round trip).
 */
export function entryInsert(entries: readonly NewEntry[]): { appended: AppendedEntry[]; insert: RawBuilder<unknown> } {
  const appended = entryRows(entries);
  return { appended, insert: entriesInsertSql(columnParams(entryColumns(entries, appended))) };
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

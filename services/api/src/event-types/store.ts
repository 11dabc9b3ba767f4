import { newId, sql, type Database, type Db, type Kysely, type Transaction } from "@custody/db";
import type { EventTypeFields } from "@custody/redact";

export interface EventTypeVersion {
  id: string;
  name: string;
  version: number;
  description: string;
  dataSchema: unknown;
  personalDataFields: string[];
  createdAt: Date;
  archivedAt: Date | null;
}

export interface EventTypeDefinition {
  description: string;
  /** null: events of this version carry any `data`. */
  dataSchema: unknown;
  personalDataFields: string[];
}

const COLUMNS = ["id", "name", "version", "description", "data_schema", "personal_data_fields", "created_at", "archived_at"] as const;

interface Row {
  id: string;
  name: string;
  version: number;
  description: string;
  data_schema: unknown;
  personal_data_fields: string[];
  created_at: Date;
  archived_at: Date | null;
}

function toVersion(row: Row): EventTypeVersion {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    description: row.description,
    dataSchema: row.data_schema ?? null,
    personalDataFields: row.personal_data_fields,
    createdAt: row.created_at,
    archivedAt: row.archived_at,
  };
}

/**
 * Serialises a tenant's event-type changes: version numbers are max + 1, and the acknowledgement
 * ambiguity check reads the whole catalog, so two writers must not interleave.
 */
export async function lockTenantEventTypes(trx: Transaction<Database>, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`event-types:${tenantId}`}, 0))`.execute(trx);
}

/** Every version of a type, oldest first; empty if the tenant has no such type. */
export async function versionsOf(db: Kysely<Database>, tenantId: string, name: string): Promise<EventTypeVersion[]> {
  const rows = await db.selectFrom("event_types").select(COLUMNS).where("tenant_id", "=", tenantId).where("name", "=", name).orderBy("version").execute();
  return rows.map(toVersion);
}

export async function insertVersion(trx: Transaction<Database>, tenantId: string, name: string, version: number, def: EventTypeDefinition): Promise<EventTypeVersion> {
  const row = await trx
    .insertInto("event_types")
    .values({
      id: newId("ety"),
      tenant_id: tenantId,
      name,
      version,
      description: def.description,
      // As text: node-postgres would send a JS array as a Postgres array, not JSON.
      data_schema: def.dataSchema === null ? null : JSON.stringify(def.dataSchema),
      personal_data_fields: def.personalDataFields,
      archived_at: null,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toVersion(row);
}

/** The latest version of each type, by name. */
export async function listLatest(db: Db, tenantId: string, page: { limit: number; afterName: string | undefined; includeArchived: boolean }): Promise<EventTypeVersion[]> {
  let query = db.selectFrom("event_types").distinctOn("name").select(COLUMNS).where("tenant_id", "=", tenantId);
  // Archiving marks every version, so filtering before DISTINCT ON cannot surface an older version.
  if (!page.includeArchived) query = query.where("archived_at", "is", null);
  if (page.afterName !== undefined) query = query.where("name", ">", page.afterName);
  const rows = await query
    .orderBy("name")
    .orderBy("version", "desc")
    .limit(page.limit + 1)
    .execute();
  return rows.map(toVersion);
}

/** Archives every version not yet archived; returns how many it marked. */
export async function archiveAllVersions(trx: Transaction<Database>, tenantId: string, name: string): Promise<number> {
  const result = await trx.updateTable("event_types").set({ archived_at: sql<Date>`now()` }).where("tenant_id", "=", tenantId).where("name", "=", name).where("archived_at", "is", null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The tenant's active catalog: the latest version of every type not archived, as redaction needs it. */
export async function activeCatalog(db: Kysely<Database>, tenantId: string): Promise<EventTypeFields[]> {
  const rows = await db
    .selectFrom("event_types")
    .distinctOn("name")
    .select(["name", "personal_data_fields"])
    .where("tenant_id", "=", tenantId)
    .where("archived_at", "is", null)
    .orderBy("name")
    .orderBy("version", "desc")
    .execute();
  return rows.map((r) => ({ name: r.name, personalDataFields: r.personal_data_fields }));
}

/** What ingest needs of an event type: its latest version, read through `EventTypeCache`. */
export interface IngestEventType {
  id: string;
  name: string;
  dataSchema: unknown;
  archived: boolean;
  /** Of this version (versions never change): what dispatch redacts, offered to it with the event. */
  personalDataFields: readonly string[];
}

/** The latest version of each named event type of the tenant. */
export async function latestEventTypes(db: Kysely<Database>, tenantId: string, names: readonly string[]): Promise<Map<string, IngestEventType>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .selectFrom("event_types")
    .select(["id", "name", "data_schema", "archived_at", "personal_data_fields"])
    .distinctOn("name")
    .where("tenant_id", "=", tenantId)
    .where("name", "=", sql<string>`ANY(${sql.val([...names])}::text[])`)
    .orderBy("name")
    .orderBy("version", "desc")
    .execute();
  return new Map(rows.map((r) => [r.name, { id: r.id, name: r.name, dataSchema: r.data_schema, archived: r.archived_at !== null, personalDataFields: r.personal_data_fields }]));
}

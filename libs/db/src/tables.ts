import type { ColumnType, Generated } from "kysely";

/** Typed view of the schema in `migrations/`. Columns Postgres fills in are `Generated`. */
export interface TenantsTable {
  id: string;
  name: string;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: Generated<string>;
  environment: "live" | "test";
  prefix: string;
  key_hash: Buffer;
  scopes: string[];
  created_at: Generated<Date>;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export type EntryKind = "event" | "custody" | "attempt" | "receipt" | "recall" | "key";

export interface LedgerEntriesTable {
  id: string;
  seq: ColumnType<string, never, never>;
  kind: EntryKind;
  tenant_id: string | null;
  body: Buffer;
  leaf_hash: Buffer;
  created_at: Generated<Date>;
}

export interface LedgerPendingTable {
  seq: string;
  entry_id: string;
}

export interface LedgerLeavesTable {
  leaf_index: ColumnType<string, number | string | bigint, never>;
  entry_id: string;
  sequenced_at: Generated<Date>;
}

export interface LedgerTreeNodesTable {
  level: number;
  idx: ColumnType<string, number | string | bigint, never>;
  hash: Buffer;
}

export interface LedgerCheckpointsTable {
  tree_size: ColumnType<string, number | string | bigint, never>;
  root_hash: Buffer;
  note: string;
  key_id: string;
  created_at: Generated<Date>;
}

export interface LedgerHeadTable {
  singleton: Generated<boolean>;
  tree_size: ColumnType<string, number | string | bigint, number | string | bigint>;
  root_hash: Buffer;
  checkpoint_size: ColumnType<string, number | string | bigint, number | string | bigint>;
  updated_at: Generated<Date>;
}

export interface PlatformKeysTable {
  key_id: string;
  name: string;
  public_key: Buffer;
  private_key_enc: Buffer;
  created_at: Generated<Date>;
  retired_at: Date | null;
}

export interface OutboxTable {
  seq: Generated<string>;
  entry_id: string;
  subject: string;
  payload: Buffer;
  created_at: Generated<Date>;
  relayed_at: Date | null;
}

export interface SchemaMigrationsTable {
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  ledger_entries: LedgerEntriesTable;
  ledger_pending: LedgerPendingTable;
  ledger_leaves: LedgerLeavesTable;
  ledger_tree_nodes: LedgerTreeNodesTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  ledger_head: LedgerHeadTable;
  platform_keys: PlatformKeysTable;
  outbox: OutboxTable;
  schema_migrations: SchemaMigrationsTable;
}

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

export type EntryKind = "event" | "custody" | "attempt" | "receipt" | "recall" | "seal" | "outcomes";

export interface LedgerEntriesTable {
  id: string;
  seq: ColumnType<string, never, never>;
  /** The appending transaction's id (xid8, as text); 0 for entries appended before migration 0006. */
  xid: ColumnType<string, never, never>;
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

export interface EventTypesTable {
  id: string;
  tenant_id: string;
  name: string;
  version: number;
  description: Generated<string>;
  data_schema: unknown | null;
  personal_data_fields: Generated<string[]>;
  created_at: Generated<Date>;
  archived_at: Date | null;
}

export type PayloadShape = "thin" | "fat";

export interface EndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  display_name: Generated<string>;
  subscriptions: string[];
  payload_shape: Generated<PayloadShape>;
  fat_ack_fields: Generated<string[]>;
  counter_signed_receipts: Generated<boolean>;
  receipt_public_key: Buffer | null;
  retry_policy: ColumnType<unknown, string | undefined, string>;
  rate_limit_per_second: number | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SigningSecretsTable {
  key_id: string;
  tenant_id: string;
  endpoint_id: string | null;
  secret_enc: Buffer;
  created_at: Generated<Date>;
  expires_at: Date | null;
}

export interface EventsTable {
  tenant_id: string;
  id: string;
  type: string;
  event_type_id: string | null;
  payload: Buffer | null;
  payload_sha256: Buffer;
  occurred_at: Date;
  supersedes: string | null;
  metadata: ColumnType<unknown, string | null, string | null>;
  callback_url: string | null;
  request_hash: Buffer;
  entry_id: string;
  created_at: Generated<Date>;
  erased_at: Date | null;
  fan_out: Generated<boolean>;
}

export interface RecallsTable {
  tenant_id: string;
  event_id: string;
  reason: string;
  entry_id: string;
  notice_event_id: string | null;
  created_at: Generated<Date>;
}

export interface ReplaysTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  from_time: Date;
  to_time: Date;
  event_types: string[] | null;
  only_failed: boolean;
  event_count: number;
  created_at: Generated<Date>;
}

export interface ReceiptsTable {
  id: string;
  tenant_id: string;
  delivery_id: string;
  statement: Buffer;
  signature: Buffer;
  received_at: Date;
  source: "response" | "api";
  entry_id: string;
  created_at: Generated<Date>;
}

/** A link a tenant hands the owner of some of its endpoints (migration 0007). */
export interface PortalSessionsTable {
  id: string;
  tenant_id: string;
  token_hash: Buffer;
  endpoint_ids: string[];
  capabilities: string[];
  theme: ColumnType<Record<string, string>, string, string>;
  created_by: string;
  created_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
}

export type DeliveryStatus = "pending" | "delivering" | "retrying" | "delivered" | "dead" | "cancelled";

export interface DeliveriesTable {
  id: string;
  tenant_id: string;
  event_id: string;
  endpoint_id: string | null;
  target_url: string;
  idempotency_key: string;
  status: Generated<DeliveryStatus>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  kind: Generated<"endpoint" | "callback">;
  replay_id: string | null;
  attempts: Generated<number>;
  first_attempt_at: Date | null;
  next_attempt_at: Date | null;
  last_delay_ms: ColumnType<string | null, number | null, number | null>;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: string | null;
  delivered_at: Date | null;
  /** The redaction record (FORMAT.md §5); null shape: made before format 2 (see delivery_bodies). */
  shape: PayloadShape | null;
  /** [{path, salt, commitment}] of the removed fields, or null when nothing was removed. */
  removed: ColumnType<unknown, string | null, never>;
  replay_of: string | null;
}

/** The view of every recorded attempt, format 1 or 2 (migration 0006). */
export interface AttemptHistoryView {
  delivery_id: string;
  attempt_no: number;
  tenant_id: string;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  response_excerpt: string | null;
  error_class: string | null;
  outcome: "delivered" | "retry" | "dead";
  key_ids: string[];
  /** Format 1 */
  custody_root: Buffer | null;
  /** Format 2: ingested || redacted || prepared || signed */
  hops: Buffer | null;
}

export interface RelayCursorTable {
  singleton: Generated<boolean>;
  xid: string;
  seq: ColumnType<string, string | number, string | number>;
  updated_at: Generated<Date>;
}

export interface CustodyBatchesTable {
  id: ColumnType<string, never, never>;
  size: number;
  root: Buffer;
  note: string;
  key_id: string;
  leaves: Buffer;
  entry_id: string;
  created_at: Generated<Date>;
}

export interface OutcomeBatchesTable {
  id: ColumnType<string, never, never>;
  size: number;
  root: Buffer;
  leaves: Buffer;
  entry_id: string;
  created_at: Generated<Date>;
}

export interface AttemptSealsTable {
  delivery_id: string;
  attempt_no: number;
  batch_id: ColumnType<string, string | number, never>;
  batch_index: number;
  /** ingested || redacted || prepared || signed, 32 bytes each */
  hops: Buffer;
  sealed_at: ColumnType<string, string | number, never>;
  previous: Buffer | null;
  /** The x-custody-signature MAC, then one webhook-signature MAC per key id, 32 bytes each (libs/signing packed.ts). */
  signatures: Buffer;
  /** Key ids of the secrets that signed, current first, space-separated. */
  key_ids: string;
  target_url: string;
}

export interface AttemptOutcomesTable {
  delivery_id: string;
  attempt_no: number;
  tenant_id: string;
  batch_id: ColumnType<string, string | number, never>;
  batch_index: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error_class: string | null;
  response_sha256: Buffer | null;
  response_excerpt: string | null;
  outcome: "delivered" | "retry" | "dead";
}

export interface DeliveryBodiesTable {
  delivery_id: string;
  body: Buffer;
  shape: PayloadShape;
  removed: ColumnType<unknown, string, never>;
  redacted_hop: Buffer;
  created_at: Generated<Date>;
}

export interface SealBatchesTable {
  id: string;
  size: number;
  root: Buffer;
  note: string;
  key_id: string;
  created_at: Generated<Date>;
}

export interface DeliverySealsTable {
  delivery_id: string;
  attempt_no: number;
  tenant_id: string;
  seal_batch_id: string;
  batch_index: number;
  custody_root: Buffer;
  hops: ColumnType<unknown, string, never>;
  headers: ColumnType<unknown, string, never>;
  target_url: string;
  custody_entry_id: string;
  created_at: Generated<Date>;
}

export interface DeliveryAttemptsTable {
  delivery_id: string;
  attempt_no: number;
  tenant_id: string;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  response_excerpt: string | null;
  response_sha256: Buffer | null;
  error_class: string | null;
  key_ids: string[];
  outcome: "delivered" | "retry" | "dead";
  attempt_entry_id: string;
  created_at: Generated<Date>;
}

export interface IdempotencyRecordsTable {
  tenant_id: string;
  scope: string;
  key: string;
  request_hash: Buffer;
  status_code: number;
  response: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
}

export interface ProcessHeartbeatsTable {
  kind: string;
  process_id: string;
  last_seen: Generated<Date>;
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
  relay_cursor: RelayCursorTable;
  event_types: EventTypesTable;
  endpoints: EndpointsTable;
  signing_secrets: SigningSecretsTable;
  events: EventsTable;
  deliveries: DeliveriesTable;
  idempotency_records: IdempotencyRecordsTable;
  delivery_bodies: DeliveryBodiesTable;
  seal_batches: SealBatchesTable;
  delivery_seals: DeliverySealsTable;
  delivery_attempts: DeliveryAttemptsTable;
  custody_batches: CustodyBatchesTable;
  outcome_batches: OutcomeBatchesTable;
  attempt_seals: AttemptSealsTable;
  attempt_outcomes: AttemptOutcomesTable;
  attempt_history: AttemptHistoryView;
  recalls: RecallsTable;
  replays: ReplaysTable;
  receipts: ReceiptsTable;
  portal_sessions: PortalSessionsTable;
  process_heartbeats: ProcessHeartbeatsTable;
  schema_migrations: SchemaMigrationsTable;
}

import { sql, type Database, type Db, type Kysely, type PayloadShape, type Transaction } from "@custody/db";
import { afterCreatedCursor, exactCreatedAt } from "../shared/pagination.js";

export interface EndpointRow {
  id: string;
  url: string;
  display_name: string;
  subscriptions: string[];
  payload_shape: PayloadShape;
  fat_ack_fields: string[];
  counter_signed_receipts: boolean;
  receipt_public_key: Buffer | null;
  retry_policy: unknown;
  rate_limit_per_second: number | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = [
  "id",
  "url",
  "display_name",
  "subscriptions",
  "payload_shape",
  "fat_ack_fields",
  "counter_signed_receipts",
  "receipt_public_key",
  "retry_policy",
  "rate_limit_per_second",
  "disabled_at",
  "disabled_reason",
  "created_at",
  "updated_at",
] as const;

export interface NewEndpoint {
  id: string;
  url: string;
  displayName: string;
  subscriptions: string[];
  counterSignedReceipts: boolean;
  receiptPublicKey: Buffer | null;
  /** JSON text of a parsed RetryPolicy. */
  retryPolicy: string;
  rateLimit: number | null;
}

export async function insertEndpoint(trx: Transaction<Database>, tenantId: string, e: NewEndpoint): Promise<EndpointRow> {
  return trx
    .insertInto("endpoints")
    .values({
      id: e.id,
      tenant_id: tenantId,
      url: e.url,
      display_name: e.displayName,
      subscriptions: e.subscriptions,
      payload_shape: "thin",
      counter_signed_receipts: e.counterSignedReceipts,
      receipt_public_key: e.receiptPublicKey,
      retry_policy: e.retryPolicy,
      rate_limit_per_second: e.rateLimit,
      disabled_at: null,
      disabled_reason: null,
      failing_since: null,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The tenant's endpoint, locked for the rest of the transaction when `forUpdate`. */
export async function findEndpoint(db: Kysely<Database>, tenantId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<EndpointRow | undefined> {
  let query = db.selectFrom("endpoints").select(COLUMNS).where("tenant_id", "=", tenantId).where("id", "=", id);
  if (options.forUpdate) query = query.forNoKeyUpdate();
  return query.executeTakeFirst();
}

export interface EndpointChanges {
  url?: string;
  displayName?: string;
  subscriptions?: string[];
  payloadShape?: PayloadShape;
  fatAckFields?: string[];
  counterSignedReceipts?: boolean;
  receiptPublicKey?: Buffer | null;
  retryPolicy?: string;
  rateLimit?: number | null;
  /**
   * `disable`: keeps an earlier disabled_at (and its reason, unless `overwriteReason`), so the
   * first reason an endpoint stopped is not lost. `enable`: also ends the failure run the
   * pipeline counts towards automatic disabling.
   */
  disabled?: { disable: true; reason: string; overwriteReason: boolean } | { disable: false };
}

export async function updateEndpoint(trx: Transaction<Database>, tenantId: string, id: string, c: EndpointChanges): Promise<EndpointRow> {
  let query = trx.updateTable("endpoints").set({ updated_at: sql<Date>`now()` });
  if (c.url !== undefined) query = query.set({ url: c.url });
  if (c.displayName !== undefined) query = query.set({ display_name: c.displayName });
  if (c.subscriptions !== undefined) query = query.set({ subscriptions: c.subscriptions });
  if (c.payloadShape !== undefined) query = query.set({ payload_shape: c.payloadShape });
  if (c.fatAckFields !== undefined) query = query.set({ fat_ack_fields: c.fatAckFields });
  if (c.counterSignedReceipts !== undefined) query = query.set({ counter_signed_receipts: c.counterSignedReceipts });
  if (c.receiptPublicKey !== undefined) query = query.set({ receipt_public_key: c.receiptPublicKey });
  if (c.retryPolicy !== undefined) query = query.set({ retry_policy: c.retryPolicy });
  if (c.rateLimit !== undefined) query = query.set({ rate_limit_per_second: c.rateLimit });
  if (c.disabled?.disable === true) {
    const reason = c.disabled.reason;
    query = query.set({
      disabled_at: sql<Date>`coalesce(disabled_at, now())`,
      disabled_reason: c.disabled.overwriteReason ? reason : sql<string>`CASE WHEN disabled_at IS NULL THEN ${reason} ELSE disabled_reason END`,
    });
  } else if (c.disabled?.disable === false) {
    query = query.set({ disabled_at: null, disabled_reason: null, failing_since: null });
  }
  return query.where("tenant_id", "=", tenantId).where("id", "=", id).returning(COLUMNS).executeTakeFirstOrThrow();
}

/** The ids of the tenant's endpoints, oldest first; only `only`, if given and the tenant's. */
export async function endpointIds(db: Kysely<Database>, tenantId: string, only?: string): Promise<string[]> {
  let q = db.selectFrom("endpoints").select("id").where("tenant_id", "=", tenantId);
  if (only !== undefined) q = q.where("id", "=", only);
  return (await q.orderBy("created_at").orderBy("id").execute()).map((r) => r.id);
}

/** Which of `ids` (at least one) are not endpoints of the tenant, in the order given. */
export async function missingEndpoints(db: Kysely<Database>, tenantId: string, ids: readonly string[]): Promise<string[]> {
  const found = await db
    .selectFrom("endpoints")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("id", "in", [...ids])
    .execute();
  const have = new Set(found.map((r) => r.id));
  return ids.filter((id) => !have.has(id));
}

export async function listEndpoints(
  db: Db,
  tenantId: string,
  page: { limit: number; after: string[] | undefined; disabled: boolean | undefined; subscription: string | undefined; only?: readonly string[] | undefined },
): Promise<(EndpointRow & { cursor_at: string })[]> {
  let query = db
    .selectFrom("endpoints")
    .select([...COLUMNS, exactCreatedAt.as("cursor_at")])
    .where("tenant_id", "=", tenantId);
  // A portal session sees its own endpoints only.
  if (page.only !== undefined) query = query.where("id", "=", sql<string>`ANY(${sql.val([...page.only])}::text[])`);
  if (page.after) query = query.where(afterCreatedCursor(page.after));
  if (page.disabled !== undefined) query = query.where("disabled_at", page.disabled ? "is not" : "is", null);
  if (page.subscription !== undefined) query = query.where(sql<boolean>`${page.subscription} = ANY(subscriptions)`);
  return query
    .orderBy("created_at")
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
}

import { sql, type Db, type PayloadShape } from "@custody/db";
import { TtlCache } from "@custody/cache";

/** What the pipeline needs of an endpoint. */
export interface EndpointInfo {
  id: string;
  tenantId: string;
  url: string;
  subscriptions: string[];
  payloadShape: PayloadShape;
  fatAckFields: ReadonlySet<string>;
  retryPolicy: unknown;
  rateLimitPerSecond: number | null;
  counterSignedReceipts: boolean;
  receiptPublicKey: Buffer | null;
  failingSince: Date | null;
  disabledAt: Date | null;
}

/** Endpoint settings change rarely and a change may take this long to reach the pipeline. */
export const ENDPOINT_CACHE_MS = 1_000;

/** Every endpoint of a tenant, read at most once per ENDPOINT_CACHE_MS per process. */
export class EndpointDirectory {
  private readonly byTenant: TtlCache<EndpointInfo[]>;

  constructor(
    private readonly db: Db,
    ttlMs = ENDPOINT_CACHE_MS,
  ) {
    this.byTenant = new TtlCache(ttlMs);
  }

  async ofTenants(tenantIds: readonly string[]): Promise<Map<string, EndpointInfo[]>> {
    return this.byTenant.getMany(tenantIds, (missing) => this.load(missing), []);
  }

  async get(tenantId: string, endpointId: string): Promise<EndpointInfo | undefined> {
    return (await this.ofTenants([tenantId])).get(tenantId)?.find((e) => e.id === endpointId);
  }

  /** Records this process's own change at once, rather than waiting for the next read. */
  noteHealth(tenantId: string, endpointId: string, change: Partial<Pick<EndpointInfo, "failingSince" | "disabledAt">>): void {
    this.byTenant.update(tenantId, (list) => list.map((e) => (e.id === endpointId ? Object.assign({}, e, change) : e)));
  }

  private async load(tenantIds: string[]): Promise<Map<string, EndpointInfo[]>> {
    const { rows } = await sql<{
      id: string;
      tenant_id: string;
      url: string;
      subscriptions: string[];
      payload_shape: PayloadShape;
      fat_ack_fields: string[];
      retry_policy: unknown;
      rate_limit_per_second: number | null;
      counter_signed_receipts: boolean;
      receipt_public_key: Buffer | null;
      failing_since: Date | null;
      disabled_at: Date | null;
    }>`
      SELECT id, tenant_id, url, subscriptions, payload_shape, fat_ack_fields, retry_policy, rate_limit_per_second,
             counter_signed_receipts, receipt_public_key, failing_since, disabled_at
      FROM endpoints WHERE tenant_id = ANY(${sql.val(tenantIds)}::text[]) ORDER BY id`.execute(this.db);
    const out = new Map<string, EndpointInfo[]>(tenantIds.map((t) => [t, []]));
    for (const r of rows) {
      out.get(r.tenant_id)!.push({
        id: r.id,
        tenantId: r.tenant_id,
        url: r.url,
        subscriptions: r.subscriptions,
        payloadShape: r.payload_shape,
        fatAckFields: new Set(r.fat_ack_fields),
        retryPolicy: r.retry_policy,
        rateLimitPerSecond: r.rate_limit_per_second,
        counterSignedReceipts: r.counter_signed_receipts,
        receiptPublicKey: r.receipt_public_key,
        failingSince: r.failing_since,
        disabledAt: r.disabled_at,
      });
    }
    return out;
  }
}

import { sql, type Database, type Kysely } from "@custody/db";

/**
 * Delivery statistics of a tenant over a window ending now, per endpoint and overall, computed in
 * Postgres in ONE statement whatever the number of endpoints: GROUPING SETS ((endpoint_id), ())
 * gives the per-endpoint rows and the overall row of each aggregate in one pass, percentile_cont
 * the latency percentiles.
 *
 * - Counts, success rate and delivery latency are over the deliveries CREATED in the window
 *   (their current status); delivery latency is delivered_at − created_at of the delivered ones.
 * - Attempt latency is over the attempts STARTED in the window (duration_ms), whichever delivery
 *   they belong to.
 * - Overall includes the tenant's one-shot callback deliveries (no endpoint) unless the stats are
 *   for one endpoint.
 */

export const STATS_WINDOWS = { hour: "1 hour", day: "1 day", week: "7 days" } as const;
export type StatsWindow = keyof typeof STATS_WINDOWS;

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface StatsBlock {
  deliveries: { total: number; pending: number; delivering: number; retrying: number; delivered: number; dead: number; cancelled: number };
  successRate: number | null;
  deliveryLatencyMs: Percentiles;
  attemptLatencyMs: Percentiles;
}

export interface StatsResult {
  from: Date;
  to: Date;
  overall: StatsBlock;
  /** Keyed by endpoint id; endpoints with nothing in the window are absent. */
  byEndpoint: Map<string, StatsBlock>;
}

interface Row {
  from_at: Date;
  to_at: Date;
  is_total: boolean | null;
  endpoint_id: string | null;
  total: string | null;
  pending: string | null;
  delivering: string | null;
  retrying: string | null;
  delivered: string | null;
  dead: string | null;
  cancelled: string | null;
  delivery_samples: string | null;
  delivery_ms: number[] | null;
  attempt_samples: string | null;
  attempt_ms: number[] | null;
}

const PERCENTILES = sql`ARRAY[0.5, 0.95, 0.99]::float8[]`;

export function emptyStats(): StatsBlock {
  return {
    deliveries: { total: 0, pending: 0, delivering: 0, retrying: 0, delivered: 0, dead: 0, cancelled: 0 },
    successRate: null,
    deliveryLatencyMs: { count: 0, p50: null, p95: null, p99: null },
    attemptLatencyMs: { count: 0, p50: null, p95: null, p99: null },
  };
}

/** To the microsecond: enough for milliseconds, without float noise. */
const round = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);

function percentiles(samples: string | null, values: number[] | null): Percentiles {
  return { count: Number(samples ?? 0), p50: round(values?.[0]), p95: round(values?.[1]), p99: round(values?.[2]) };
}

function blockOf(r: Row): StatsBlock {
  const n = (v: string | null) => Number(v ?? 0);
  const delivered = n(r.delivered);
  const dead = n(r.dead);
  return {
    deliveries: { total: n(r.total), pending: n(r.pending), delivering: n(r.delivering), retrying: n(r.retrying), delivered, dead, cancelled: n(r.cancelled) },
    successRate: delivered + dead === 0 ? null : delivered / (delivered + dead),
    deliveryLatencyMs: percentiles(r.delivery_samples, r.delivery_ms),
    attemptLatencyMs: percentiles(r.attempt_samples, r.attempt_ms),
  };
}

export async function deliveryStats(db: Kysely<Database>, tenantId: string, window: StatsWindow, endpointId: string | undefined): Promise<StatsResult> {
  const onlyDelivery = endpointId === undefined ? sql`` : sql`AND d.endpoint_id = ${endpointId}`;
  const { rows } = await sql<Row>`
    WITH bounds AS (SELECT now() AS to_at, now() - ${STATS_WINDOWS[window]}::interval AS from_at),
    dl AS (
      SELECT d.endpoint_id, GROUPING(d.endpoint_id) = 1 AS is_total,
             count(*) AS total,
             count(*) FILTER (WHERE d.status = 'pending') AS pending,
             count(*) FILTER (WHERE d.status = 'delivering') AS delivering,
             count(*) FILTER (WHERE d.status = 'retrying') AS retrying,
             count(*) FILTER (WHERE d.status = 'delivered') AS delivered,
             count(*) FILTER (WHERE d.status = 'dead') AS dead,
             count(*) FILTER (WHERE d.status = 'cancelled') AS cancelled,
             count(*) FILTER (WHERE d.status = 'delivered' AND d.delivered_at IS NOT NULL) AS delivery_samples,
             percentile_cont(${PERCENTILES}) WITHIN GROUP (ORDER BY (extract(epoch FROM d.delivered_at - d.created_at) * 1000)::float8)
               FILTER (WHERE d.status = 'delivered' AND d.delivered_at IS NOT NULL) AS delivery_ms
      FROM deliveries d CROSS JOIN bounds b
      WHERE d.tenant_id = ${tenantId} AND d.created_at >= b.from_at AND d.created_at < b.to_at ${onlyDelivery}
      GROUP BY GROUPING SETS ((d.endpoint_id), ())
    ),
    att AS (
      SELECT d.endpoint_id, GROUPING(d.endpoint_id) = 1 AS is_total,
             count(*) AS attempt_samples,
             percentile_cont(${PERCENTILES}) WITHIN GROUP (ORDER BY a.duration_ms::float8) AS attempt_ms
      FROM (SELECT delivery_id, tenant_id, started_at, duration_ms FROM attempt_outcomes
            UNION ALL SELECT delivery_id, tenant_id, started_at, duration_ms FROM delivery_attempts) a
      JOIN deliveries d ON d.id = a.delivery_id AND d.tenant_id = a.tenant_id
      CROSS JOIN bounds b
      WHERE a.tenant_id = ${tenantId} AND a.started_at >= b.from_at AND a.started_at < b.to_at ${onlyDelivery}
      GROUP BY GROUPING SETS ((d.endpoint_id), ())
    ),
    joined AS (
      SELECT coalesce(dl.is_total, att.is_total) AS is_total, coalesce(dl.endpoint_id, att.endpoint_id) AS endpoint_id,
             dl.total, dl.pending, dl.delivering, dl.retrying, dl.delivered, dl.dead, dl.cancelled, dl.delivery_samples, dl.delivery_ms,
             att.attempt_samples, att.attempt_ms
      FROM dl FULL JOIN att ON dl.is_total = att.is_total AND coalesce(dl.endpoint_id, '') = coalesce(att.endpoint_id, '')
    )
    SELECT b.from_at, b.to_at, j.*
    FROM bounds b LEFT JOIN joined j ON true`.execute(db);

  const first = rows[0]!;
  let overall = emptyStats();
  const byEndpoint = new Map<string, StatsBlock>();
  for (const r of rows) {
    if (r.is_total === null) continue; // nothing at all in the window
    if (r.is_total) overall = blockOf(r);
    // endpoint_id null and not the total: the tenant's one-shot callbacks, counted in overall only.
    else if (r.endpoint_id !== null) byEndpoint.set(r.endpoint_id, blockOf(r));
  }
  return { from: first.from_at, to: first.to_at, overall, byEndpoint };
}

/** Bucket width of each window's time series: 60 points an hour, 96 a day, 84 a week. */
export const SERIES_STEP_SECONDS: Record<StatsWindow, number> = { hour: 60, day: 900, week: 7200 };

export interface SeriesPoint {
  at: string;
  pending: number;
  delivering: number;
  retrying: number;
  delivered: number;
  dead: number;
  cancelled: number;
}

/**
 * Deliveries created in [from, to) by current status, in buckets of SERIES_STEP_SECONDS[window]
 * aligned on `from`; every bucket is present, empty ones as zeros. One statement over the
 * (tenant_id, created_at, id) index.
 */
export async function deliverySeries(db: Kysely<Database>, tenantId: string, window: StatsWindow, from: Date, to: Date, endpointId: string | undefined): Promise<SeriesPoint[]> {
  const step = SERIES_STEP_SECONDS[window];
  const onlyDelivery = endpointId === undefined ? sql`` : sql`AND d.endpoint_id = ${endpointId}`;
  const { rows } = await sql<{ bucket: number; status: string; n: string }>`
    SELECT floor(extract(epoch FROM d.created_at - ${from}::timestamptz) / ${step})::int AS bucket, d.status, count(*) AS n
    FROM deliveries d
    WHERE d.tenant_id = ${tenantId} AND d.created_at >= ${from}::timestamptz AND d.created_at < ${to}::timestamptz ${onlyDelivery}
    GROUP BY 1, 2`.execute(db);
  const count = Math.ceil((to.getTime() - from.getTime()) / 1000 / step);
  const points: SeriesPoint[] = Array.from({ length: count }, (_, i) => ({
    at: new Date(from.getTime() + i * step * 1000).toISOString(),
    pending: 0,
    delivering: 0,
    retrying: 0,
    delivered: 0,
    dead: 0,
    cancelled: 0,
  }));
  for (const r of rows) {
    const point = points[Math.min(Math.max(r.bucket, 0), count - 1)];
    if (point !== undefined && r.status in point) point[r.status as keyof Omit<SeriesPoint, "at">] += Number(r.n);
  }
  return points;
}

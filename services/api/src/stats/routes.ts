import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, iso, principalOf, timestamp, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { deliverySeries, deliveryStats, emptyStats, SERIES_STEP_SECONDS, STATS_WINDOWS, type StatsWindow } from "./store.js";
import { routeGroup } from "../shared/route-group.js";
import { endpointIds } from "../webhooks/store.js";

const TAGS = ["Deliveries"];

const statsWindow = z.enum(Object.keys(STATS_WINDOWS) as [StatsWindow, ...StatsWindow[]]);

const percentiles = (what: string) =>
  z
    .object({
      count: z.number().int().min(0).describe(`How many ${what} the percentiles are over.`),
      p50: z.number().nullable(),
      p95: z.number().nullable(),
      p99: z.number().nullable(),
    })
    .describe(`Milliseconds, linear interpolation (percentile_cont); null when there are no ${what}.`);

export const statsBlock = z.object({
  deliveries: z
    .object({
      total: z.number().int().min(0),
      pending: z.number().int().min(0),
      delivering: z.number().int().min(0),
      retrying: z.number().int().min(0),
      delivered: z.number().int().min(0),
      dead: z.number().int().min(0),
      cancelled: z.number().int().min(0),
    })
    .describe("Deliveries created in the window, by their current status."),
  successRate: z.number().min(0).max(1).nullable().describe("delivered / (delivered + dead) of those deliveries; null when none is settled."),
  deliveryLatencyMs: percentiles("delivered deliveries").describe("deliveredAt − createdAt of the delivered deliveries created in the window, in milliseconds (queueing and retries included)."),
  attemptLatencyMs: percentiles("attempts").describe("Duration of the attempts started in the window, in milliseconds."),
});

export const statsResponse = z
  .object({
    window: statsWindow,
    from: timestamp.describe("Start of the window, inclusive (the database's clock)."),
    to: timestamp.describe("End of the window, exclusive: now."),
    overall: statsBlock.describe("All the deliveries in scope: with `endpointId`, that endpoint's; otherwise every endpoint's plus one-shot callbacks'."),
    endpoints: z.array(statsBlock.extend({ endpointId: z.string() })).describe("One entry per endpoint of the tenant (disabled ones included), oldest endpoint first; zeros when nothing happened in the window."),
    series: z
      .object({
        bucketSeconds: z.number().int().describe("Width of each bucket: 60 s for `hour`, 15 min for `day`, 2 h for `week`."),
        points: z.array(
          z.object({
            at: timestamp.describe("Start of the bucket (buckets are aligned on `from`)."),
            pending: z.number().int(),
            delivering: z.number().int(),
            retrying: z.number().int(),
            delivered: z.number().int(),
            dead: z.number().int(),
            cancelled: z.number().int(),
          }),
        ),
      })
      .describe("The deliveries in scope created in each bucket of the window, by current status: every bucket, oldest first."),
  })
  .describe("Delivery statistics over a window ending now.");

/** `GET /api/v2/webhooks/stats`. */
export async function statsRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "read" }, (read) => statsRoute(read, ctx));
}

function statsRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "Read delivery statistics",
        description:
          "Per endpoint and overall, over the last hour, day (default) or week: counts by status and success rate of the deliveries created in the window, p50/p95/p99 latency of those delivered (deliveredAt − createdAt), p50/p95/p99 duration of the attempts started in the window, and a time series of the deliveries by status (`series`).",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          endpointId: z.string().min(1).max(64).optional().describe("`wh_…`: only this endpoint (404 if it is not yours)."),
          window: statsWindow.default("day").describe("`hour`, `day` (default) or `week`, ending now."),
        }),
        response: { 200: statsResponse, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { endpointId, window } = request.query;
      const [ids, stats] = await Promise.all([endpointIds(ctx.db, tenantId, endpointId), deliveryStats(ctx.db, tenantId, window, endpointId)]);
      if (endpointId !== undefined && ids.length === 0) throw new AppError("NOT_FOUND", "no such webhook endpoint", { field: "query.endpointId" });
      const points = await deliverySeries(ctx.db, tenantId, window, stats.from, stats.to, endpointId);
      return {
        window,
        from: iso(stats.from),
        to: iso(stats.to),
        overall: stats.overall,
        endpoints: ids.map((id) => ({ endpointId: id, ...(stats.byEndpoint.get(id) ?? emptyStats()) })),
        series: { bucketSeconds: SERIES_STEP_SECONDS[window], points },
      };
    },
  );
}

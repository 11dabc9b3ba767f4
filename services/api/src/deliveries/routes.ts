import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, nextCursor, pageQuery, principalOf, timestamp, visibleEndpoints, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { listDeliveries, readDelivery } from "./store.js";
import { retryDelivery } from "./retry.js";
import { deliveredBody, listTenantDeliveries, SCAN_BUDGET } from "./search-store.js";
import { deliveryDetail, deliveryStatus, deliverySummary } from "./schemas.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeCursor } from "../shared/pagination.js";
import { findEndpoint, missingEndpoints } from "../webhooks/store.js";
import { routeGroup } from "../shared/route-group.js";

const TAGS = ["Deliveries"];
const BASE = "/webhooks/:id/deliveries";
const endpointParams = z.object({ id: z.string().min(1).max(64).describe("`wh_…`") });
const deliveryParams = endpointParams.extend({ deliveryId: z.string().min(1).max(64).describe("`dlv_…`") });

function endpointNotFound(): AppError {
  return new AppError("NOT_FOUND", "no such webhook endpoint", { field: "params.id" });
}

function deliveryNotFound(): AppError {
  return new AppError("NOT_FOUND", "no such delivery of this endpoint", { field: "params.deliveryId" });
}

/**
 * Deliveries (the product docs' "delivery attempts"), under `/api/v2`: an endpoint's, listed, read
 * one with its attempts and body, and retried now; and the tenant's across endpoints.
 */
export async function deliveryRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "read", portal: { capability: "read", endpointParam: "id" } }, (read) => {
    listDeliveriesRoute(read, ctx);
    readDeliveryRoute(read, ctx);
    deliveryBodyRoute(read, ctx);
  });
  routeGroup(app, ctx.db, { scope: "admin", portal: { capability: "retry", endpointParam: "id" } }, (retry) => retryDeliveryRoute(retry, ctx));
  routeGroup(app, ctx.db, { scope: "read", portal: { capability: "read" } }, (read) => listTenantDeliveriesRoute(read, ctx));
}

function listDeliveriesRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    BASE,
    {
      schema: {
        summary: "List an endpoint's deliveries",
        description: "Newest first. `from`/`to` bound the creation time (`createdAt`), `from` inclusive, `to` exclusive. Deliveries of a disabled endpoint stay listed. Replays appear with their `replayId`.",
        tags: TAGS,
        security: bearerSecurity,
        params: endpointParams,
        querystring: z.object({
          ...pageQuery,
          status: deliveryStatus.optional().describe("Only deliveries in this state."),
          eventType: z.string().min(1).max(128).optional().describe("Only deliveries of events of this type."),
          from: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: deliveries created at or after this instant."),
          to: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: deliveries created before this instant."),
        }),
        response: { 200: z.object({ data: z.array(deliverySummary), nextCursor }), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      const { limit, cursor, status, eventType, from, to } = request.query;
      const before = decodeCursor(cursor, 2);
      if (!(await findEndpoint(ctx.db, tenantId, id))) throw endpointNotFound();
      return listDeliveries(ctx.db, tenantId, id, { limit, before, status, eventType, from, to });
    },
  );
}

function readDeliveryRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    `${BASE}/:deliveryId`,
    {
      schema: {
        summary: "Read one of an endpoint's deliveries",
        description:
          "The delivery, every recorded attempt with its outcome, signing key ids and the custody root it was sealed with, and the paths redaction removed from the body (`redaction` is null until the body is prepared). A delivery of another endpoint is 404.",
        tags: TAGS,
        security: bearerSecurity,
        params: deliveryParams,
        response: { 200: deliveryDetail, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { id, deliveryId } = request.params;
      if (!(await findEndpoint(ctx.db, tenantId, id))) throw endpointNotFound();
      const detail = await readDelivery(ctx.db, tenantId, id, deliveryId);
      if (!detail) throw deliveryNotFound();
      return detail;
    },
  );
}

function retryDeliveryRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    `${BASE}/:deliveryId/retries`,
    {
      schema: {
        summary: "Retry a delivery now",
        description: [
          "Schedules the next attempt for now, also for a dead-lettered delivery: the delivery becomes `retrying` with `nextAttemptAt` now and `deadReason` cleared, and the retry scheduler seals and sends attempt `attempts + 1` on its next tick (same body, same `idempotencyKey`; new signatures and a new custody seal).",
          "Allowed when the delivery is `dead` or `retrying`. 409 CONFLICT (with `details.status`) when it is `pending` or `delivering` (an attempt is coming anyway), `delivered` or `cancelled`; when it was dead-lettered before its body was prepared (e.g. the payload was erased); or when the endpoint is disabled.",
          "A dead delivery retried under an exhausted retry policy gets this one attempt; if it fails it is dead-lettered again.",
        ].join("\n\n"),
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: deliveryParams,
        response: { 202: deliverySummary.describe("The delivery, now `retrying`."), ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id, deliveryId } = request.params;
      return idempotentMutation(ctx.db, request, reply, {
        status: 202,
        run: async (trx) => {
          const endpoint = await findEndpoint(trx, tenantId, id);
          if (!endpoint) throw endpointNotFound();
          return retryDelivery(trx, tenantId, endpoint, deliveryId);
        },
      });
    },
  );
}

function deliveryBodyRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    `${BASE}/:deliveryId/body`,
    {
      schema: {
        summary: "The body a delivery sends",
        description:
          "The exact bytes every attempt of the delivery POSTs (`application/json`, proofs/FORMAT.md §4): what a chain-of-custody document's `prepared` check is run against. 409 CONFLICT while the body is not prepared yet, or once the event's payload was erased (`details.reason: payload_erased`).",
        tags: TAGS,
        security: bearerSecurity,
        params: deliveryParams,
        response: { ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id, deliveryId } = request.params;
      if (!(await findEndpoint(ctx.db, tenantId, id))) throw endpointNotFound();
      const body = await deliveredBody(ctx.db, tenantId, id, deliveryId);
      if (body === undefined) throw deliveryNotFound();
      return reply
        .type("application/json")
        .header("content-disposition", `attachment; filename="${deliveryId}.json"`)
        .send(body as never);
    },
  );
}

function listTenantDeliveriesRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/deliveries",
    {
      schema: {
        summary: "List deliveries across endpoints",
        description: [
          "The tenant's deliveries, newest first (`createdAt`, then id), in keyset pages: a page costs the same however deep it is. `from` inclusive, `to` exclusive bound `createdAt`; `endpointId` (repeatable) narrows to endpoints. A portal session sees its own endpoints' deliveries only (another endpoint id is 404).",
          `\`status\` and \`eventType\` are not indexed: a page filtered by them looks at no more than ${SCAN_BUDGET.toLocaleString("en-US")} deliveries. When those hold fewer matches than \`limit\`, the page is short, \`searchedTo\` says how far back the search reached, and \`nextCursor\` continues it from there; narrow \`from\`/\`to\` to search a period directly.`,
        ].join("\n\n"),
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          ...pageQuery,
          endpointId: z
            .union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).min(1).max(100)])
            .optional()
            .describe("`wh_…`: only this endpoint's (repeat for several)."),
          status: deliveryStatus.optional().describe("Only deliveries in this state."),
          eventType: z.string().min(1).max(128).optional().describe("Only deliveries of events of this type."),
          from: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: deliveries created at or after this instant."),
          to: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: deliveries created before this instant."),
        }),
        response: {
          200: z.object({
            data: z.array(deliverySummary.extend({ endpointId: z.string().nullable().describe("`wh_…`; null for a one-shot callback delivery.") })),
            nextCursor,
            searchedTo: timestamp.nullable().describe("Set when a filtered page stopped searching before it was full: the `createdAt` it reached. `nextCursor` continues from there."),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { limit, cursor, endpointId, status, eventType, from, to } = request.query;
      const asked = endpointId === undefined ? undefined : [...new Set(Array.isArray(endpointId) ? endpointId : [endpointId])];
      const visible = visibleEndpoints(request);
      if (asked !== undefined) {
        const unknown = visible !== undefined ? asked.filter((e) => !visible.includes(e)) : await missingEndpoints(ctx.db, tenantId, asked);
        if (unknown.length > 0) throw new AppError("NOT_FOUND", `no such webhook endpoint ${unknown[0]}`, { field: "query.endpointId" });
      }
      return listTenantDeliveries(ctx.db, tenantId, { limit, before: decodeCursor(cursor, 2), endpointIds: asked ?? visible, status, eventType, from, to });
    },
  );
}

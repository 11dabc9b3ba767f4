import { z } from "zod";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, nextCursor, pageQuery, principalOf, requireScope, type HttpApp } from "@custody/http";
import type { ApiContext } from "./context.js";
import { listDeliveries, readDelivery } from "./deliveries-read.js";
import { retryDelivery } from "./deliveries-retry.js";
import { deliveryDetail, deliveryStatus, deliverySummary } from "./deliveries-schemas.js";
import { idempotencyHeaders, idempotentMutation } from "./idempotency.js";
import { decodeCursor } from "./pagination.js";
import { findEndpoint } from "./webhooks-repository.js";

const TAGS = ["Deliveries"];
const BASE = "/api/v2/webhooks/:id/deliveries";
const endpointParams = z.object({ id: z.string().min(1).max(64).describe("`wh_…`") });
const deliveryParams = endpointParams.extend({ deliveryId: z.string().min(1).max(64).describe("`dlv_…`") });

function endpointNotFound(): AppError {
  return new AppError("NOT_FOUND", "no such webhook endpoint", { field: "params.id" });
}

function deliveryNotFound(): AppError {
  return new AppError("NOT_FOUND", "no such delivery of this endpoint", { field: "params.deliveryId" });
}

/**
 * An endpoint's deliveries (the product docs' "delivery attempts"): listing them, reading one with
 * its attempts, and retrying one now. Registered by `buildApiApp` with one call.
 */
export function registerDeliveryRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(
    BASE,
    {
      preHandler: requireScope(ctx.db, "read"),
      schema: {
        summary: "List an endpoint's deliveries",
        description:
          "Newest first. `from`/`to` bound the creation time (`createdAt`), `from` inclusive, `to` exclusive. Deliveries of a disabled endpoint stay listed. Replays appear with their `replayId`.",
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

  app.get(
    `${BASE}/:deliveryId`,
    {
      preHandler: requireScope(ctx.db, "read"),
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

  app.post(
    `${BASE}/:deliveryId/retries`,
    {
      preHandler: requireScope(ctx.db, "admin"),
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

import { z } from "zod";
import { ChainOfCustody, ChainOfCustodyV2 } from "@custody/custody";
import { bearerSecurity, errorResponses, principalOf, requireScope, visibleEndpoints, type HttpApp } from "@custody/http";
import { AppError } from "@custody/errors";
import type { ProofsContext } from "./context.js";
import { chainOfCustody } from "./chain.js";
import { recallEvent } from "./recall.js";
import { createReplay, readReplay, type ReplayView } from "./replay.js";

const replayView = z.object({
  id: z.string(),
  endpointId: z.string(),
  from: z.string(),
  to: z.string(),
  eventTypes: z.array(z.string()).nullable(),
  onlyFailed: z.boolean(),
  eventCount: z.number(),
  createdAt: z.string(),
  progress: z.record(z.string(), z.number()).describe("Deliveries of this replay by status."),
});

function replayJson(r: ReplayView) {
  return { ...r, from: r.from.toISOString(), to: r.to.toISOString(), createdAt: r.createdAt.toISOString() };
}

/** Chain-of-custody proofs, recall and replay: the routes that act on an event's whole history. */
export function registerCustodyRoutes(app: HttpApp, ctx: ProofsContext): void {
  app.get(
    "/api/v2/webhooks/events/:evtId/chain-of-custody",
    {
      preHandler: requireScope(ctx.db, "read", { capability: "proofs" }),
      schema: {
        tags: ["chain of custody"],
        security: bearerSecurity,
        summary: "Chain-of-custody proof of an event",
        description:
          "For every delivery of the event: its redaction record, each attempt's custody record, seal and headers, its outcome record, and the event, seal, outcomes and receipt ledger entries with inclusion proofs under one signed checkpoint (`custody-chain/v2`). Verify it offline with `custody-verify proof` (proofs/FORMAT.md). An event delivered before evidence format 2 answers its `custody-chain/v1` document; `format=2` asks for the format 2 one (its later deliveries, such as a replay). `endpointId` narrows the document to that endpoint's deliveries (404 if the event was not sent to it); a portal session (capability `proofs`) always gets its own endpoints' deliveries only, and 404 for an event none of them was sent.",
        params: z.object({ evtId: z.string().max(128) }),
        querystring: z
          .object({
            format: z.enum(["1", "2"]).optional().describe("Evidence format of the document; by default 2, or 1 for an event delivered before format 2."),
            endpointId: z.string().min(1).max(64).optional().describe("`wh_…`: only this endpoint's deliveries."),
          })
          .strict(),
        response: { 200: z.union([ChainOfCustodyV2, ChainOfCustody]), ...errorResponses(400, 404, 422) },
      },
    },
    async (request) => {
      const { format, endpointId } = request.query;
      const visible = visibleEndpoints(request);
      if (endpointId !== undefined && visible !== undefined && !visible.includes(endpointId)) {
        throw new AppError("NOT_FOUND", "no such webhook endpoint", { field: "query.endpointId" });
      }
      const only = endpointId !== undefined ? [endpointId] : visible;
      // Always the primary (ctx.db), never the read replica: a tenant expects the document to show an
      // event and its deliveries as soon as the API accepted or recorded them, and most of what it
      // reads (events, deliveries, seals, outcomes) has no tree size to tell a lagging replica by.
      return chainOfCustody(ctx.db, principalOf(request).tenantId, request.params.evtId, ctx.logOrigin, format === undefined ? undefined : (Number(format) as 1 | 2), only);
    },
  );

  app.post(
    "/api/v2/webhooks/events/:evtId/recall",
    {
      preHandler: requireScope(ctx.db, "admin"),
      schema: {
        tags: ["recall and replay"],
        security: bearerSecurity,
        summary: "Recall an event",
        description:
          "Appends a `recall` ledger entry; cancels the deliveries still pending or waiting to retry (their next attempt not yet sealed) of the event and of its retractions (the events whose `supersedes` is the event); and sends a notice to every enabled endpoint that had a delivery of the event and subscribes to the notice type. The notice (proofs/FORMAT.md §12) is an event whose type is the recalled type with its last dot-separated segment replaced by `recalled` (`audit.order.final` → `audit.order.recalled`; a type without a dot gets `.recalled` appended), whose `supersedes` is the recalled event and whose `data` holds `reason` and `recalledAt` (the recall's reason and time), `recalledEvent` and `recalledType` (the recalled event's id and type). Recalling again returns the first recall.",
        params: z.object({ evtId: z.string().max(128) }),
        body: z.object({ reason: z.string().trim().min(1).max(1000).describe("Why the event is recalled; recorded in the ledger.") }).strict(),
        response: {
          200: z.object({
            eventId: z.string(),
            reason: z.string(),
            recalledAt: z.string(),
            entryId: z.string(),
            noticeEventId: z.string().nullable(),
            cancelledDeliveries: z.number(),
            alreadyRecalled: z.boolean(),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (request) => {
      const r = await recallEvent(ctx.db, principalOf(request).tenantId, request.params.evtId, request.body.reason);
      return { ...r, recalledAt: r.recalledAt.toISOString() };
    },
  );

  app.post(
    "/api/v2/webhooks/:id/replays",
    {
      preHandler: requireScope(ctx.db, "admin", { capability: "replay", endpointParam: "id" }),
      schema: {
        tags: ["recall and replay"],
        security: bearerSecurity,
        summary: "Replay historical events to a webhook",
        description:
          "Re-enqueues the events of [from, to) that this webhook subscribes to as new deliveries marked as replays (same webhook-id, new Idempotency-Key, own custody record). At most 31 days and 10,000 events per replay.",
        params: z.object({ id: z.string().max(64) }),
        body: z
          .object({
            from: z.iso.datetime({ offset: true }),
            to: z.iso.datetime({ offset: true }),
            eventTypes: z.array(z.string().max(128)).min(1).max(100).optional(),
            onlyFailed: z.boolean().default(false).describe("Only events whose delivery to this webhook was dead-lettered."),
          })
          .strict(),
        response: { 202: replayView, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const replay = await createReplay(ctx.db, {
        tenantId: principalOf(request).tenantId,
        endpointId: request.params.id,
        from: new Date(request.body.from),
        to: new Date(request.body.to),
        eventTypes: request.body.eventTypes ?? null,
        onlyFailed: request.body.onlyFailed,
      });
      return reply.status(202).send(replayJson(replay));
    },
  );

  app.get(
    "/api/v2/webhooks/:id/replays/:replayId",
    {
      preHandler: requireScope(ctx.db, "read", { capability: "read", endpointParam: "id" }),
      schema: {
        tags: ["recall and replay"],
        security: bearerSecurity,
        summary: "A replay's progress",
        params: z.object({ id: z.string().max(64), replayId: z.string().max(64) }),
        response: { 200: replayView, ...errorResponses(404) },
      },
    },
    async (request) => replayJson(await readReplay(ctx.db, principalOf(request).tenantId, request.params.id, request.params.replayId)),
  );
}

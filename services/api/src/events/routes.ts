import { z } from "zod";
import { newId } from "@custody/db";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorBody, nextCursor, pageQuery, principalOf, unavailableResponse, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import type { EventTypeCache } from "../event-types/cache.js";
import { DataSchemaValidators } from "../data-schema/validators.js";
import type { IngestCommitter } from "./ingest-commit.js";
import { listEvents, readEvent } from "./store.js";
import { batchBody, batchResponse, eventId, eventReceipt, eventView, newEventBody, type BatchResult, type NewEventBody } from "./schemas.js";
import { parseEventItem, prepareEvent, type PreparedEvent } from "./validate.js";
import { ingestEvents, type IngestDeps } from "./ingest.js";
import { callbackTargetChecker } from "./ingest-target.js";
import type { PlanItem } from "./ingest-plan.js";
import { decodeCursor } from "../shared/pagination.js";
import { IngestRateLimit, type Clock } from "./rate-limit.js";
import { routeGroup } from "../shared/route-group.js";

const TAGS = ["Events"];

export interface EventRoutesContext extends ApiContext {
  eventTypes: EventTypeCache;
  committer: IngestCommitter;
  /** Monotonic milliseconds for the ingest rate limit; tests pass one they can step. */
  ingestClock?: Clock;
  /** Live API processes, among which the ingest rate limit is split; 1 when absent. */
  ingestPeers?: () => number;
}

const errors = <S extends number>(...statuses: S[]) => ({ ...Object.fromEntries(statuses.map((s) => [s, errorBody])), 503: unavailableResponse }) as Record<S | 503, typeof errorBody>;

/** What the two ingest routes share: one rate limit and one cache of compiled data schemas for the app. */
interface Ingest {
  rateLimit: IngestRateLimit;
  deps(): IngestDeps;
  prepare(body: NewEventBody, prefix: string, now: Date): PreparedEvent;
}

/** `/api/v2/events`: event ingest (single and batch) and reading events back. */
export async function eventRoutes(app: HttpApp, ctx: EventRoutesContext): Promise<void> {
  const { config } = ctx;
  const validators = new DataSchemaValidators();
  const policy = { allowLoopback: config.CUSTODY_ALLOW_LOOPBACK_TARGETS };
  const ingest: Ingest = {
    rateLimit: new IngestRateLimit({
      ratePerSecond: config.CUSTODY_INGEST_RATE_PER_SECOND,
      burst: config.CUSTODY_INGEST_BURST,
      now: ctx.ingestClock,
      peers: ctx.ingestPeers,
    }),
    deps: () => ({ db: ctx.db, committer: ctx.committer, eventTypes: ctx.eventTypes, validators, checkTarget: callbackTargetChecker(policy, ctx.resolver) }),
    prepare: (body, prefix, now) => prepareEvent(body, { maxJsonDepth: config.CUSTODY_MAX_JSON_DEPTH, now, newId: () => newId("evt"), prefix }),
  };
  routeGroup(app, ctx.db, { scope: "publish" }, (publish) => {
    publishEventRoute(publish, ingest);
    publishBatchRoute(publish, ctx, ingest);
  });
  routeGroup(app, ctx.db, { scope: "read" }, (read) => {
    listEventsRoute(read, ctx);
    readEventRoute(read, ctx);
  });
}

function publishEventRoute(app: HttpApp, ingest: Ingest): void {
  app.post(
    "",
    {
      schema: {
        summary: "Publish an event",
        description:
          "Validates the event, appends its ledger entry and stores it in one transaction, and queues it for delivery to every subscribed endpoint and to `callbackUrl` if given. 201 with the ledger entry; with your own `id`, a retry of the same request answers 200 with the original body and header `idempotent-replayed: true`, a different request under the same id 409 EVENT_ID_CONFLICT. Bodies over 256 KiB: 413 PAYLOAD_TOO_LARGE. A number anywhere in the body that a double would change (an integer beyond ±(2^53 − 1), or a value that overflows, underflows or loses digits): 422 NUMBER_NOT_EXACT with the field; send such values as strings. U+0000 in any string: 400 VALIDATION_FAILED. Over the tenant's ingest rate: 429 RATE_LIMITED with `Retry-After`.",
        tags: TAGS,
        security: bearerSecurity,
        body: newEventBody,
        response: { 201: eventReceipt, 200: eventReceipt.describe("A replay: the original response to the same id and request."), ...errors(400, 401, 403, 409, 413, 422, 429) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      ingest.rateLimit.charge(tenantId, 1);
      const item: PlanItem = { prefix: "body", event: ingest.prepare(request.body, "body", new Date()) };
      const [result] = await ingestEvents(ingest.deps(), tenantId, [item]);
      if (!result) throw new AppError("INTERNAL", "ingest returned no result");
      if ("error" in result) throw result.error;
      if (result.status === 200) void reply.header("idempotent-replayed", "true");
      return reply.status(result.status).send(result.receipt);
    },
  );
}

function publishBatchRoute(app: HttpApp, ctx: ApiContext, ingest: Ingest): void {
  app.post(
    "/batch",
    {
      schema: {
        summary: "Publish a batch of events",
        description:
          "Each event is validated and answered on its own, exactly as POST /api/v2/events would answer it, in `results[i].status`; every accepted event is stored in one transaction. The response is therefore 200 whatever the items' fates (per-item statuses, not a multi-status 207). More than CUSTODY_MAX_BATCH_EVENTS events: 413 BATCH_TOO_LARGE. A batch costs its number of events against the ingest rate (429 RATE_LIMITED, nothing stored). What is checked while the body is read refuses the whole batch, naming the item's field, before any item is looked at: U+0000 in a string (400 VALIDATION_FAILED) and a number a double would change (422 NUMBER_NOT_EXACT).",
        tags: TAGS,
        security: bearerSecurity,
        body: batchBody,
        response: { 200: batchResponse, ...errors(400, 401, 403, 413, 422, 429) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { events } = request.body;
      if (events.length > ctx.config.CUSTODY_MAX_BATCH_EVENTS) {
        throw new AppError("BATCH_TOO_LARGE", `a batch holds at most ${ctx.config.CUSTODY_MAX_BATCH_EVENTS} events, got ${events.length}`, {
          field: "body.events",
          details: { maxEvents: ctx.config.CUSTODY_MAX_BATCH_EVENTS },
        });
      }
      ingest.rateLimit.charge(tenantId, events.length);
      const now = new Date();
      const items = events.map((raw, i): PlanItem => {
        const prefix = `body.events.${i}`;
        try {
          return { prefix, event: ingest.prepare(parseEventItem(raw, prefix), prefix, now) };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          return { prefix, event: err };
        }
      });
      const results = await ingestEvents(ingest.deps(), tenantId, items);
      return {
        results: results.map((r, index): BatchResult => ("error" in r ? { index, status: r.status, error: r.error.toBody().error } : { index, status: r.status, event: r.receipt })),
      };
    },
  );
}

function listEventsRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "List events",
        description:
          "Your events in the order they were accepted (oldest first), with everything their webhooks carry: after an outage, page from `from` to catch up. `from`/`to` bound the acceptance time (`createdAt`), `from` inclusive, `to` exclusive.",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          ...pageQuery,
          type: z.string().min(1).max(128).optional().describe("Only events of this type."),
          from: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: events accepted at or after this instant."),
          to: z.iso.datetime({ offset: true }).optional().describe("RFC 3339: events accepted before this instant."),
        }),
        response: { 200: z.object({ data: z.array(eventView), nextCursor }), ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor, type, from, to } = request.query;
      return listEvents(ctx.db, principalOf(request).tenantId, { limit, after: decodeCursor(cursor, 2), type, from, to });
    },
  );
}

function readEventRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/:id",
    {
      schema: {
        summary: "Read an event",
        description: "The event as accepted (`data` null once erased), its ledger entry with its leaf index once the sequencer has assigned it, and its deliveries so far.",
        tags: TAGS,
        security: bearerSecurity,
        params: z.object({ id: eventId.describe("The event id.") }),
        response: { 200: eventView, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => readEvent(ctx.db, principalOf(request).tenantId, request.params.id),
  );
}

import { z } from "zod";
import { bearerSecurity, errorResponses, iso, nextCursor, pageQuery, principalOf, queryFlag, timestamp, type HttpApp } from "@custody/http";
import { AppError } from "@custody/errors";
import type { ApiContext } from "../shared/context.js";
import type { EventTypeCache } from "./cache.js";
import { checkDataSchema, checkNotReserved, checkPersonalDataFields, checkUnambiguous, EVENT_TYPE_NAME, MAX_EVENT_TYPE_NAME, MAX_PERSONAL_DATA_FIELDS } from "./definition.js";
import { activeCatalog, archiveAllVersions, insertVersion, listLatest, lockTenantEventTypes, versionsOf, type EventTypeDefinition, type EventTypeVersion } from "./store.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeCursor, pageOf } from "../shared/pagination.js";
import { routeGroup } from "../shared/route-group.js";

const TAGS = ["Event types"];

const description = z.string().max(2000).describe("What the event means, for people; up to 2,000 characters.");
const dataSchema = z.unknown().describe("JSON Schema (draft 2020-12) that each event's `data` must satisfy at ingest. Omit or null: any `data`.");
const personalDataFields = z.array(z.string().max(512)).max(MAX_PERSONAL_DATA_FIELDS).describe("RFC 6901 pointers into `data` (e.g. `/result/taxId`) of the fields thin payloads omit; up to 100, each once.");

const eventTypeVersion = z
  .object({
    id: z.string().describe("`ety_…`: this version."),
    name: z.string(),
    version: z.number().int().min(1),
    description: z.string(),
    dataSchema: z.unknown().describe("JSON Schema of `data`, or null."),
    personalDataFields: z.array(z.string()),
    createdAt: timestamp,
    archivedAt: timestamp.nullable().describe("When the type was archived; ingest refuses new events of an archived type."),
  })
  .describe("One version of an event type.");

const eventTypeDetail = eventTypeVersion.extend({
  versions: z.array(eventTypeVersion).describe("Every version, oldest first; the last is the one above."),
});

const nameParams = z.object({ name: z.string().min(1).max(MAX_EVENT_TYPE_NAME).describe("The event type's name.") });

function view(v: EventTypeVersion): z.infer<typeof eventTypeVersion> {
  return {
    id: v.id,
    name: v.name,
    version: v.version,
    description: v.description,
    dataSchema: v.dataSchema,
    personalDataFields: v.personalDataFields,
    createdAt: iso(v.createdAt),
    archivedAt: iso(v.archivedAt),
  };
}

function detail(versions: EventTypeVersion[]): z.infer<typeof eventTypeDetail> {
  const latest = versions[versions.length - 1];
  if (!latest) throw new AppError("NOT_FOUND", "no such event type", { field: "params.name" });
  return { ...view(latest), versions: versions.map(view) };
}

function checkDefinition(def: EventTypeDefinition): void {
  checkDataSchema(def.dataSchema);
  checkPersonalDataFields(def.personalDataFields);
}

export interface EventTypesContext extends ApiContext {
  /** The cache ingest reads event types through; a change here forgets the type in it. */
  eventTypes: EventTypeCache;
}

/** `/api/v2/event-types`: the tenant's event types and their versions. */
export async function eventTypeRoutes(app: HttpApp, ctx: EventTypesContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "admin" }, (admin) => {
    createEventTypeRoute(admin, ctx);
    newVersionRoute(admin, ctx);
    archiveEventTypeRoute(admin, ctx);
  });
  routeGroup(app, ctx.db, { scope: "read" }, (read) => {
    listEventTypesRoute(read, ctx);
    readEventTypeRoute(read, ctx);
  });
}

/** Ingest in this process sees a change at once, not after its cache expires. */
async function forgetting<T>(eventTypes: EventTypeCache, tenantId: string, name: string, change: Promise<T>): Promise<T> {
  try {
    return await change;
  } finally {
    eventTypes.forget(tenantId, name);
  }
}

function createEventTypeRoute(app: HttpApp, ctx: EventTypesContext): void {
  app.post(
    "",
    {
      schema: {
        summary: "Create an event type",
        description: "Creates version 1. Names under `webhook.` are reserved for the platform (422 RESERVED_EVENT_TYPE); an existing name is 409 EVENT_TYPE_EXISTS, even when archived.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        body: z.strictObject({
          name: z.string().max(MAX_EVENT_TYPE_NAME).regex(EVENT_TYPE_NAME).describe("Dotted lowercase segments, at least two, up to 128 characters: `identity.registration.final`."),
          description,
          dataSchema: dataSchema.optional(),
          personalDataFields: personalDataFields.default([]),
        }),
        response: { 201: eventTypeVersion, ...errorResponses(409, 422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const body = request.body;
      const def: EventTypeDefinition = { description: body.description, dataSchema: body.dataSchema ?? null, personalDataFields: body.personalDataFields };
      return forgetting(
        ctx.eventTypes,
        tenantId,
        body.name,
        idempotentMutation(ctx.db, request, reply, {
          status: 201,
          prepare: () => {
            checkNotReserved(body.name);
            checkDefinition(def);
          },
          run: async (trx) => {
            await lockTenantEventTypes(trx, tenantId);
            if ((await versionsOf(trx, tenantId, body.name)).length > 0) {
              throw new AppError("EVENT_TYPE_EXISTS", `event type ${body.name} exists; add a version with POST /api/v2/event-types/${body.name}/versions`, { field: "body.name" });
            }
            checkUnambiguous(await activeCatalog(trx, tenantId), { name: body.name, personalDataFields: def.personalDataFields });
            return view(await insertVersion(trx, tenantId, body.name, 1, def));
          },
        }),
      );
    },
  );
}

function newVersionRoute(app: HttpApp, ctx: EventTypesContext): void {
  app.post(
    "/:name/versions",
    {
      schema: {
        summary: "Add a version to an event type",
        description:
          "The new version's number is the latest plus one. A field left out is copied from the latest version; `dataSchema: null` removes the schema. An archived type takes no new versions (422 EVENT_TYPE_ARCHIVED).",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: nameParams,
        body: z.strictObject({
          description: description.optional(),
          dataSchema: dataSchema.optional(),
          personalDataFields: personalDataFields.optional(),
        }),
        response: { 201: eventTypeVersion, ...errorResponses(404, 422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { name } = request.params;
      const body = request.body;
      return forgetting(
        ctx.eventTypes,
        tenantId,
        name,
        idempotentMutation(ctx.db, request, reply, {
          status: 201,
          prepare: () => {
            if (body.dataSchema !== undefined) checkDataSchema(body.dataSchema);
            if (body.personalDataFields !== undefined) checkPersonalDataFields(body.personalDataFields);
          },
          run: async (trx) => {
            await lockTenantEventTypes(trx, tenantId);
            const latest = (await versionsOf(trx, tenantId, name)).at(-1);
            if (!latest) throw new AppError("NOT_FOUND", "no such event type", { field: "params.name" });
            if (latest.archivedAt !== null) throw new AppError("EVENT_TYPE_ARCHIVED", `event type ${name} is archived`, { field: "params.name" });
            const def: EventTypeDefinition = {
              description: body.description ?? latest.description,
              dataSchema: body.dataSchema === undefined ? latest.dataSchema : body.dataSchema,
              personalDataFields: body.personalDataFields ?? latest.personalDataFields,
            };
            checkUnambiguous(await activeCatalog(trx, tenantId), { name, personalDataFields: def.personalDataFields });
            return view(await insertVersion(trx, tenantId, name, latest.version + 1, def));
          },
        }),
      );
    },
  );
}

function listEventTypesRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "List event types",
        description: "The latest version of each type, by name.",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          ...pageQuery,
          includeArchived: queryFlag.default(false).describe("`true` to list archived types too."),
        }),
        response: { 200: z.object({ data: z.array(eventTypeVersion), nextCursor }), ...errorResponses() },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { limit, cursor, includeArchived } = request.query;
      const rows = await listLatest(ctx.db, tenantId, { limit, afterName: decodeCursor(cursor, 1)?.[0], includeArchived });
      const { page, nextCursor: next } = pageOf(rows, limit, (r) => [r.name]);
      return { data: page.map(view), nextCursor: next };
    },
  );
}

function readEventTypeRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/:name",
    {
      schema: {
        summary: "Read an event type",
        description: "The latest version, with every version.",
        tags: TAGS,
        security: bearerSecurity,
        params: nameParams,
        response: { 200: eventTypeDetail, ...errorResponses(404) },
      },
    },
    async (request) => detail(await versionsOf(ctx.db, principalOf(request).tenantId, request.params.name)),
  );
}

function archiveEventTypeRoute(app: HttpApp, ctx: EventTypesContext): void {
  app.post(
    "/:name/archive",
    {
      schema: {
        summary: "Archive an event type",
        description: "Archives every version: ingest refuses new events of the type, and it leaves the catalog that fat-payload acknowledgements are computed from. Final; archiving again is a no-op.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: nameParams,
        response: { 200: eventTypeDetail, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { name } = request.params;
      return forgetting(
        ctx.eventTypes,
        tenantId,
        name,
        idempotentMutation(ctx.db, request, reply, {
          status: 200,
          run: async (trx) => {
            await lockTenantEventTypes(trx, tenantId);
            await archiveAllVersions(trx, tenantId, name);
            return detail(await versionsOf(trx, tenantId, name));
          },
        }),
      );
    },
  );
}

import { z } from "zod";
import { authenticatorFor, bearerSecurity, errorResponses, iso, nextCursor, pageQuery, principalOf, timestamp, type HttpApp } from "@custody/http";
import { AppError } from "@custody/errors";
import { ALL_SCOPES } from "@custody/tenancy";
import { createApiKey, listApiKeys, normaliseScopes, revokeApiKey, type ApiKeyRecord } from "./store.js";
import type { ApiContext } from "../shared/context.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeCursor, pageOf } from "../shared/pagination.js";
import { routeGroup } from "../shared/route-group.js";

const TAGS = ["API keys"];
const scope = z.enum(ALL_SCOPES as readonly ["admin", "publish", "read"]);

const apiKey = z
  .object({
    id: z.string().describe("`key_…`"),
    name: z.string(),
    prefix: z.string().describe("The first 16 characters of the key, to tell keys apart; never enough to use it."),
    environment: z.enum(["live", "test"]),
    scopes: z.array(scope),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
  })
  .describe("An API key's metadata. The key itself and its hash are never returned.");

const createdApiKey = z
  .object({
    id: z.string(),
    key: z.string().nullable().describe("The key, `ck_live_…` or `ck_test_…`: shown in this response only. Null in an idempotent replay."),
    prefix: z.string(),
    name: z.string(),
    environment: z.enum(["live", "test"]),
    scopes: z.array(scope),
    createdAt: timestamp,
  })
  .describe("A new API key.");

function view(r: ApiKeyRecord): z.infer<typeof apiKey> {
  return { id: r.id, name: r.name, prefix: r.prefix, environment: r.environment, scopes: r.scopes, createdAt: iso(r.createdAt), revokedAt: iso(r.revokedAt), lastUsedAt: iso(r.lastUsedAt) };
}

/** `/api/v2/api-keys`: the tenant's API keys. */
export async function apiKeyRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "admin" }, (admin) => {
    createApiKeyRoute(admin, ctx);
    revokeApiKeyRoute(admin, ctx);
  });
  routeGroup(app, ctx.db, { scope: "read" }, (read) => listApiKeysRoute(read, ctx));
}

function createApiKeyRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "",
    {
      schema: {
        summary: "Create an API key",
        description: "Returns the key once; only its SHA-256 is stored.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        body: z.strictObject({
          name: z.string().trim().max(200).default("").describe("A label for people, up to 200 characters."),
          environment: z.enum(["live", "test"]).describe("Decides the key's prefix: `ck_live_` or `ck_test_`."),
          scopes: z.array(scope).min(1).max(ALL_SCOPES.length).describe("`admin` (manage keys, event types, endpoints; implies the others), `publish` (send events), `read`."),
        }),
        response: { 201: createdApiKey, ...errorResponses(409) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const body = request.body;
      return idempotentMutation(ctx.db, request, reply, {
        status: 201,
        run: async (trx) => {
          const created = await createApiKey(trx, tenantId, { name: body.name, environment: body.environment, scopes: normaliseScopes(body.scopes) });
          return { id: created.id, key: created.key as string | null, prefix: created.prefix, name: created.name, environment: created.environment, scopes: created.scopes, createdAt: iso(created.createdAt) };
        },
        forReplay: (response) => ({ ...response, key: null }),
      });
    },
  );
}

function listApiKeysRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "List API keys",
        description: "Oldest first, revoked keys included (with `revokedAt`).",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object(pageQuery),
        response: { 200: z.object({ data: z.array(apiKey), nextCursor }), ...errorResponses() },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { limit, cursor } = request.query;
      const rows = await listApiKeys(ctx.db, tenantId, { limit, after: decodeCursor(cursor, 2) });
      const { page, nextCursor: next } = pageOf(rows, limit, (r) => [r.cursorAt, r.id]);
      return { data: page.map(view), nextCursor: next };
    },
  );
}

function revokeApiKeyRoute(app: HttpApp, ctx: ApiContext): void {
  app.delete(
    "/:id",
    {
      schema: {
        summary: "Revoke an API key",
        description:
          "Revoking is final and idempotent (an already revoked key answers 200 unchanged). A key may revoke itself; later requests with it answer 401. The tenant's last active admin key cannot be revoked (409 CONFLICT).",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: z.object({ id: z.string().min(1).max(64).describe("`key_…`") }),
        response: { 200: apiKey, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      const answer = await idempotentMutation(ctx.db, request, reply, {
        status: 200,
        run: async (trx) => {
          const revoked = await revokeApiKey(trx, tenantId, id);
          if (!revoked) throw new AppError("NOT_FOUND", "no such API key", { field: "params.id" });
          return view(revoked);
        },
      });
      // After COMMIT: this process refuses the key from now on (others within API_KEY_CACHE_MS).
      authenticatorFor(ctx.db).forget(id);
      return answer;
    },
  );
}

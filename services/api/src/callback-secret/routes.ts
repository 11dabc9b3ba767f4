import { z } from "zod";
import { bearerSecurity, errorBody, principalOf, unavailableResponse, type HttpApp } from "@custody/http";
import { callbackSecretStatus, rotateCallbackSecret } from "./store.js";
import type { ApiContext } from "../shared/context.js";
import { callbackSecretStatus as statusSchema } from "./schemas.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { routeGroup } from "../shared/route-group.js";

const TAGS = ["Callback secret"];

/** `/api/v2/callback-secret`: the secret one-shot `callbackUrl` deliveries are signed with. */
export async function callbackSecretRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "read" }, (read) => statusRoute(read, ctx));
  routeGroup(app, ctx.db, { scope: "admin" }, (admin) => rotateRoute(admin, ctx));
}

function statusRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "Callback signing secret status",
        description:
          "Which secret signs deliveries to per-event `callbackUrl`s: its key id (sent as the signature key id header) and, during a rotation's overlap, the previous one. Never the secret itself, and never creates one: a tenant gets its first secret with its first accepted event that has a `callbackUrl`, or by rotating.",
        tags: TAGS,
        security: bearerSecurity,
        response: { 200: statusSchema, 401: errorBody, 403: errorBody, 503: unavailableResponse },
      },
    },
    async (request) => callbackSecretStatus(ctx.db, principalOf(request).tenantId),
  );
}

function rotateRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "/rotate",
    {
      schema: {
        summary: "Rotate the callback signing secret",
        description: `Creates a new secret and returns it — the only time it is shown; store it where your callback receiver verifies signatures. The previous secret stays valid for CUSTODY_SECRET_OVERLAP_HOURS (deliveries carry signatures of both); one rotated out before that ends at once. This is also how a tenant learns the secret created automatically with its first callback event. With an \`Idempotency-Key\`, a replay returns \`secret: null\`.`,
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        response: {
          200: statusSchema.extend({
            secret: z.string().nullable().describe("`whsec_…`: the new secret, shown once (null in an idempotent replay)."),
          }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          409: errorBody,
          503: unavailableResponse,
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      return idempotentMutation<{ secret: string | null } & Awaited<ReturnType<typeof callbackSecretStatus>>>(ctx.db, request, reply, {
        status: 200,
        run: (trx) => rotateCallbackSecret(trx, ctx.masterKey, tenantId, ctx.config.CUSTODY_SECRET_OVERLAP_HOURS),
        forReplay: (response) => ({ ...response, secret: null }),
      });
    },
  );
}

import { z } from "zod";
import { bearerSecurity, errorResponses, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { idempotencyHeaders } from "../shared/idempotency.js";
import { expireValidPrevious, rotateSecret } from "./secret-store.js";
import { secretStatus, secretStatusView } from "./schemas.js";
import { idParams, lockedEndpointMutation, statusOf, TAGS } from "./endpoint-routes.js";

export function rotateSecretRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "/:id/rotate-secret",
    {
      schema: {
        summary: "Rotate the signing secret",
        description:
          "Creates a new current secret, shown once. The previous one stays valid for the overlap (CUSTODY_SECRET_OVERLAP_HOURS, 24 h by default) and deliveries carry signatures of both; a secret still inside an earlier overlap ends now, so at most two are valid.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: idParams,
        response: {
          200: z.object({ secret: z.string().nullable().describe("The new secret, `whsec_…`: shown once. Null in an idempotent replay."), secretStatus }),
          ...errorResponses(404),
        },
      },
    },
    (request, reply) =>
      lockedEndpointMutation(
        ctx,
        request,
        reply,
        async (trx, tenantId, id) => {
          const { secret } = await rotateSecret(trx, ctx.masterKey, tenantId, id, ctx.config.CUSTODY_SECRET_OVERLAP_HOURS);
          return { secret: secret as string | null, secretStatus: secretStatusView(await statusOf(trx, tenantId, id)) };
        },
        (response) => ({ ...response, secret: null }),
      ),
  );
}

export function revokePreviousSecretRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "/:id/revoke-previous-secret",
    {
      schema: {
        summary: "Revoke the previous signing secret",
        description: "Ends the rotation overlap now: only the current secret stays valid. A no-op when there is no previous secret.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: idParams,
        response: { 200: z.object({ secretStatus }), ...errorResponses(404) },
      },
    },
    (request, reply) =>
      lockedEndpointMutation(ctx, request, reply, async (trx, tenantId, id) => {
        await expireValidPrevious(trx, tenantId, id);
        return { secretStatus: secretStatusView(await statusOf(trx, tenantId, id)) };
      }),
  );
}

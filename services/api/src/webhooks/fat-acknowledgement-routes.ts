import { z } from "zod";
import { bearerSecurity, errorResponses, principalOf, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { activeCatalog } from "../event-types/store.js";
import { requiredFatAcknowledgement } from "./fat-acknowledgement.js";
import { uniqueSubscriptions } from "./settings.js";
import { payloadShape, subscriptionPattern } from "./schemas.js";
import { findEndpoint } from "./store.js";
import { idParams, notFound, TAGS } from "./endpoint-routes.js";

export function fatAcknowledgementRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/:id/fat-acknowledgement",
    {
      schema: {
        summary: "The acknowledgement a fat switch needs",
        description:
          "The `<eventType>.<field>` pairs that `fatEventsAcknowledgment.fieldsAcknowledged` must list exactly to switch this endpoint to fat with its current subscriptions (computed from the latest version of every active event type), and what it has acknowledged now. Optionally for other `subscriptions` (repeat the parameter).",
        tags: TAGS,
        security: bearerSecurity,
        params: idParams,
        querystring: z.object({ subscriptions: z.union([subscriptionPattern, z.array(subscriptionPattern).min(1).max(100)]).optional() }),
        response: {
          200: z.object({
            required: z.array(z.string()).describe("Exactly what a switch to fat must acknowledge; empty when the subscriptions deliver no personal-data field."),
            acknowledged: z.array(z.string()).describe("What the endpoint has acknowledged (empty while thin)."),
            defaultPayloadShape: payloadShape,
          }),
          ...errorResponses(404, 422),
        },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const row = await findEndpoint(ctx.db, tenantId, request.params.id);
      if (!row) throw notFound();
      const asked = request.query.subscriptions;
      const subs = asked === undefined ? row.subscriptions : uniqueSubscriptions(Array.isArray(asked) ? asked : [asked]);
      const required = requiredFatAcknowledgement(await activeCatalog(ctx.db, tenantId), subs);
      return { required, acknowledged: row.fat_ack_fields, defaultPayloadShape: row.payload_shape };
    },
  );
}

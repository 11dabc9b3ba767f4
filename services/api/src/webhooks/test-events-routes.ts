import { createHash } from "node:crypto";
import { z } from "zod";
import { newId, type Database, type Transaction } from "@custody/db";
import { newDeliveryId, notifyDeliveriesQueued, queueDeliveries } from "@custody/deliveries";
import { AppError } from "@custody/errors";
import { appendEvents } from "@custody/events";
import { bearerSecurity, errorResponses, principalOf, type HttpApp } from "@custody/http";
import { canonicalJson, type JsonValue } from "@custody/redact";
import type { ApiContext } from "../shared/context.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { findEndpoint } from "./store.js";

/** The platform's test event type. Its events are stored with `fan_out` false, so the relay never hands them to dispatch (services/pipeline/src/relay/relay.ts). */
export const TEST_EVENT_TYPE = "webhook.test";
export const TEST_EVENT_MESSAGE = "This is a test event from Custody.";

const TAGS = ["Webhook endpoints"];

export const testEventResponse = z
  .object({
    eventId: z.string().describe("`evt_…` of the `webhook.test` event; read it with GET /api/v2/events/{id}."),
    deliveryId: z.string().describe("`dlv_…` of its one delivery, to this endpoint; follow it with GET /api/v2/webhooks/{id}/deliveries/{deliveryId}."),
  })
  .describe("The queued test event and its delivery.");
export type TestEventResponse = z.infer<typeof testEventResponse>;

/**
 * Appends a `webhook.test` event and its one delivery, to this endpoint, in one transaction: the
 * event's ledger entry and events row (appendEvents), and the delivery, queued for the scheduler.
 * `fan_out = false` keeps dispatch from fanning it out to other endpoints.
 */
export async function enqueueTestEvent(trx: Transaction<Database>, tenantId: string, endpoint: { id: string; url: string }, now: Date): Promise<TestEventResponse> {
  const eventId = newId("evt");
  const data: JsonValue = { endpointId: endpoint.id, message: TEST_EVENT_MESSAGE, sentAt: now.toISOString() };
  await appendEvents(trx, tenantId, [
    {
      id: eventId,
      type: TEST_EVENT_TYPE,
      eventTypeId: null,
      data,
      occurredAt: now,
      supersedes: null,
      metadata: null,
      callbackUrl: null,
      requestHash: createHash("sha256").update(canonicalJson(data)).digest(),
      // Made together with its one delivery: dispatch leaves it to the scheduler.
      fanOut: false,
    },
  ]);
  const deliveryId = newDeliveryId();
  await queueDeliveries(trx, [{ id: deliveryId, tenantId, eventId, endpointId: endpoint.id, targetUrl: endpoint.url }], now);
  return { eventId, deliveryId };
}

/** `POST /api/v2/webhooks/{id}/test-events`. */
export function testEventRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "/:id/test-events",
    {
      schema: {
        summary: "Send a test event",
        description:
          "Queues a `webhook.test` event (`data`: `endpointId`, `message`, `sentAt`) delivered to this endpoint only, whatever its subscriptions, through the normal pipeline: ledger entry, redaction, seal, signatures, retries. Other endpoints never receive it, whatever their subscriptions. 202 with the event and delivery ids; 409 CONFLICT if the endpoint is disabled.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: z.object({ id: z.string().min(1).max(64).describe("`wh_…`") }),
        response: { 202: testEventResponse, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      const answer = await idempotentMutation(ctx.db, request, reply, {
        status: 202,
        run: async (trx) => {
          // Locked like PATCH/DELETE lock it, so a concurrent disable is either before (409) or after this.
          const endpoint = await findEndpoint(trx, tenantId, id, { forUpdate: true });
          if (!endpoint) throw new AppError("NOT_FOUND", "no such webhook endpoint", { field: "params.id" });
          if (endpoint.disabled_at !== null) {
            throw new AppError("CONFLICT", `endpoint ${id} is disabled (${endpoint.disabled_reason ?? "no reason recorded"}); re-enable it to send a test event`, {
              field: "params.id",
              details: { disabledReason: endpoint.disabled_reason },
            });
          }
          return enqueueTestEvent(trx, tenantId, endpoint, new Date());
        },
      });
      // After COMMIT: the scheduler picks the delivery up now rather than at its next look.
      await notifyDeliveriesQueued(ctx.db).catch(() => undefined);
      return answer;
    },
  );
}

import { z } from "zod";
import type { Database, Transaction } from "@custody/db";
import { countActiveDeliveries, retargetActiveDeliveries } from "@custody/deliveries";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, principalOf, queryFlag, type HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { activeCatalog } from "../event-types/store.js";
import { decideAcknowledgement, needsCatalog } from "./fat-acknowledgement.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeReceiptPublicKey, retryPolicyFromRequest, uniqueSubscriptions } from "./settings.js";
import { checkTargetUrl } from "./target.js";
import { endpoint, payloadShape, rateLimit, receiptPublicKey, retryPolicyInput } from "./schemas.js";
import { findEndpoint, updateEndpoint } from "./store.js";
import { idParams, notFound, TAGS, viewOf, requireReceiptKey, subscriptions } from "./endpoint-routes.js";

const updateBody = z.strictObject({
  url: z.string().min(1).max(2048).optional(),
  displayName: z.string().max(200).optional(),
  subscriptions: subscriptions.optional(),
  defaultPayloadShape: payloadShape.optional(),
  counterSignedReceipts: z.boolean().optional(),
  receiptPublicKey: receiptPublicKey.nullable().optional().describe("Base64 Ed25519 public key; null removes it (only while counterSignedReceipts is off)."),
  disabled: z.boolean().optional().describe("`true` stops deliveries (reason: disabled by API); `false` resumes them."),
  retryPolicy: retryPolicyInput.optional(),
  rateLimit: rateLimit.nullable().optional(),
  fatEventsAcknowledgment: z
    .strictObject({
      fieldsAcknowledged: z.array(z.string().max(1024)).max(10_000).describe("`<eventType>.<field>`, e.g. `identity.registration.final.result/taxId`."),
    })
    .optional(),
});

export function updateEndpointRoute(app: HttpApp, ctx: ApiContext): void {
  app.patch(
    "/:id",
    {
      schema: {
        summary: "Update a webhook endpoint",
        description: [
          "Only the fields sent change.",
          "Switching to `fat`, or sending `fatEventsAcknowledgment` at all, needs `fieldsAcknowledged` to equal exactly the `<eventType>.<field>` pairs the (new) subscriptions deliver, computed from the latest version of every active event type; otherwise 422 FAT_ACK_INCOMPLETE with `details.missing` and `details.extra`.",
          "When a fat endpoint's subscriptions change without a new acknowledgement, the stored one is trimmed to what the new subscriptions need, or, if they need a field not yet acknowledged, 422 FAT_ACK_INCOMPLETE. Switching back to thin drops the acknowledgement; a non-empty acknowledgement for an endpoint that stays thin is 400 VALIDATION_FAILED.",
          "Changing `url` while deliveries are pending, in flight or waiting to retry is 409 PENDING_DELIVERIES (`details.pendingDeliveries`) unless `acknowledgePending=true`, which retargets them to the new URL in the same transaction.",
          "`disabled: false` re-enables an endpoint, also one disabled by DELETE.",
          "A portal session with the `payloadShape` capability may send `defaultPayloadShape` and `fatEventsAcknowledgment` only (403 FORBIDDEN_SCOPE naming any other field).",
        ].join("\n\n"),
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: idParams,
        querystring: z.object({
          acknowledgePending: queryFlag.default(false).describe("`true`: retarget queued deliveries to the new URL."),
        }),
        body: updateBody,
        response: { 200: endpoint, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      const { acknowledgePending } = request.query;
      const body = request.body;
      if (principalOf(request).portal !== undefined) {
        const other = Object.keys(body).find((k) => k !== "defaultPayloadShape" && k !== "fatEventsAcknowledgment");
        if (other !== undefined) throw new AppError("FORBIDDEN_SCOPE", `a portal session may change defaultPayloadShape and fatEventsAcknowledgment only, not ${other}`, { field: `body.${other}` });
      }
      return idempotentMutation(ctx.db, request, reply, {
        status: 200,
        prepare: async (): Promise<PreparedUpdate> => ({
          receiptKey: body.receiptPublicKey == null ? body.receiptPublicKey : decodeReceiptPublicKey(body.receiptPublicKey),
          retryPolicy: body.retryPolicy === undefined ? undefined : JSON.stringify(retryPolicyFromRequest(body.retryPolicy)),
          url: body.url === undefined ? undefined : await checkTargetUrl(ctx, body.url),
        }),
        run: (trx, prepared) => applyUpdate(trx, tenantId, id, body, prepared, acknowledgePending),
      });
    },
  );
}

interface PreparedUpdate {
  /** Undefined: unchanged; null: removed. */
  receiptKey: Buffer | null | undefined;
  retryPolicy: string | undefined;
  /** Checked against the SSRF rules, outside the transaction (DNS). */
  url: string | undefined;
}

/** The update inside its transaction, with the endpoint row locked. */
async function applyUpdate(trx: Transaction<Database>, tenantId: string, id: string, body: z.infer<typeof updateBody>, prepared: PreparedUpdate, acknowledgePending: boolean) {
  const current = await findEndpoint(trx, tenantId, id, { forUpdate: true });
  if (!current) throw notFound();

  const newSubscriptions = body.subscriptions === undefined ? undefined : uniqueSubscriptions(body.subscriptions);
  const change = {
    currentShape: current.payload_shape,
    newShape: body.defaultPayloadShape ?? current.payload_shape,
    currentSubscriptions: current.subscriptions,
    newSubscriptions: newSubscriptions ?? current.subscriptions,
    storedAcknowledgement: current.fat_ack_fields,
    given: body.fatEventsAcknowledgment?.fieldsAcknowledged,
  };
  const fatAckFields = decideAcknowledgement(change, needsCatalog(change) ? await activeCatalog(trx, tenantId) : []);

  requireReceiptKey(body.counterSignedReceipts ?? current.counter_signed_receipts, prepared.receiptKey === undefined ? current.receipt_public_key : prepared.receiptKey);

  const urlChanges = prepared.url !== undefined && prepared.url !== current.url;
  if (urlChanges) {
    const pending = await countActiveDeliveries(trx, tenantId, id);
    if (pending > 0 && !acknowledgePending) {
      throw new AppError("PENDING_DELIVERIES", `${pending} deliveries are still queued for the current URL; pass acknowledgePending=true to retarget them to the new one`, {
        field: "query.acknowledgePending",
        details: { pendingDeliveries: pending },
      });
    }
    if (pending > 0) await retargetActiveDeliveries(trx, tenantId, id, prepared.url!);
  }

  const row = await updateEndpoint(trx, tenantId, id, {
    ...(urlChanges ? { url: prepared.url! } : {}),
    ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
    ...(newSubscriptions === undefined ? {} : { subscriptions: newSubscriptions }),
    ...(body.defaultPayloadShape === undefined ? {} : { payloadShape: body.defaultPayloadShape }),
    fatAckFields,
    ...(body.counterSignedReceipts === undefined ? {} : { counterSignedReceipts: body.counterSignedReceipts }),
    ...(prepared.receiptKey === undefined ? {} : { receiptPublicKey: prepared.receiptKey }),
    ...(prepared.retryPolicy === undefined ? {} : { retryPolicy: prepared.retryPolicy }),
    ...(body.rateLimit === undefined ? {} : { rateLimit: body.rateLimit }),
    ...(body.disabled === undefined ? {} : { disabled: body.disabled ? { disable: true as const, reason: "disabled by API", overwriteReason: false } : { disable: false as const } }),
  });
  return viewOf(trx, tenantId, row);
}

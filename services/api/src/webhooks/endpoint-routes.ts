import { z } from "zod";
import { newId, type Database, type Kysely, type Transaction } from "@custody/db";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, nextCursor, pageQuery, principalOf, queryFlag, visibleEndpoints, type HttpApp } from "@custody/http";
import { DEFAULT_RETRY_POLICY } from "@custody/retry";
import type { ApiContext } from "../shared/context.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeCursor, pageOf } from "../shared/pagination.js";
import { issueSecret, secretStatuses, type SecretStatus } from "./secret-store.js";
import { decodeReceiptPublicKey, DEFAULT_SUBSCRIPTIONS, retryPolicyFromRequest, uniqueSubscriptions } from "./settings.js";
import { checkTargetUrl } from "./target.js";
import { endpoint, endpointView, endpointWithSecret, payloadShape, rateLimit, receiptPublicKey, retryPolicyInput, subscriptionPattern } from "./schemas.js";
import { findEndpoint, insertEndpoint, listEndpoints, updateEndpoint, type EndpointRow } from "./store.js";

export const TAGS = ["Webhook endpoints"];
export const idParams = z.object({ id: z.string().min(1).max(64).describe("`wh_…`") });
export const subscriptions = z.array(subscriptionPattern).min(1).max(100);

export function notFound(): AppError {
  return new AppError("NOT_FOUND", "no such webhook endpoint", { field: "params.id" });
}

/**
 * `POST`/`DELETE` on one endpoint, idempotent, answering 200: `change` runs with the endpoint's row
 * locked (404 when the tenant has no such endpoint), in the transaction of the idempotency record.
 */
export function lockedEndpointMutation<T>(
  ctx: ApiContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  change: (trx: Transaction<Database>, tenantId: string, id: string) => Promise<T>,
  forReplay?: (response: T) => T,
): Promise<T> {
  const { tenantId } = principalOf(request);
  const { id } = request.params;
  return idempotentMutation(ctx.db, request, reply, {
    status: 200,
    run: async (trx) => {
      if (!(await findEndpoint(trx, tenantId, id, { forUpdate: true }))) throw notFound();
      return change(trx, tenantId, id);
    },
    ...(forReplay === undefined ? {} : { forReplay }),
  });
}

export async function statusOf(db: Kysely<Database>, tenantId: string, id: string): Promise<SecretStatus> {
  // secretStatuses throws for an endpoint without a current secret, so the entry is there.
  return (await secretStatuses(db, tenantId, [id])).get(id)!;
}

export async function viewOf(db: Kysely<Database>, tenantId: string, row: EndpointRow) {
  return endpointView(row, await statusOf(db, tenantId, row.id));
}

export function requireReceiptKey(counterSigned: boolean, key: Buffer | null): void {
  if (counterSigned && key === null) {
    throw new AppError("VALIDATION_FAILED", "counterSignedReceipts needs the receiptPublicKey receipts are verified with", { field: "body.receiptPublicKey" });
  }
}

export function createEndpointRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "",
    {
      schema: {
        summary: "Create a webhook endpoint",
        description:
          "The URL must be HTTPS and resolve only to public addresses (422 TARGET_REFUSED otherwise). Endpoints start thin: `defaultPayloadShape: fat` is refused here; switch later with PATCH and an acknowledgement. The response carries the signing secret, shown once.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        body: z.strictObject({
          url: z.string().min(1).max(2048).describe("HTTPS URL, up to 2,048 characters."),
          displayName: z.string().max(200).default("").describe("A label, up to 200 characters."),
          subscriptions: subscriptions.default([...DEFAULT_SUBSCRIPTIONS]).describe("1–100 patterns; default `*.final`, `*.retracted`, `*.recalled`."),
          defaultPayloadShape: payloadShape.default("thin").describe("Must be `thin` at creation."),
          counterSignedReceipts: z.boolean().default(false).describe("The endpoint answers with signed delivery receipts; needs `receiptPublicKey`."),
          receiptPublicKey: receiptPublicKey.nullable().optional(),
          retryPolicy: retryPolicyInput.optional(),
          rateLimit: rateLimit.nullable().optional(),
        }),
        response: { 201: endpointWithSecret, ...errorResponses(422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const body = request.body;
      return idempotentMutation(ctx.db, request, reply, {
        status: 201,
        prepare: async () => {
          if (body.defaultPayloadShape !== "thin") {
            throw new AppError("VALIDATION_FAILED", "endpoints are created thin; switch to fat with PATCH and fatEventsAcknowledgment", {
              field: "body.defaultPayloadShape",
              status: 422,
            });
          }
          const receiptKey = body.receiptPublicKey == null ? null : decodeReceiptPublicKey(body.receiptPublicKey);
          requireReceiptKey(body.counterSignedReceipts, receiptKey);
          const policy = body.retryPolicy === undefined ? DEFAULT_RETRY_POLICY : retryPolicyFromRequest(body.retryPolicy);
          // Last: the only check that leaves the process (DNS).
          const url = await checkTargetUrl(ctx, body.url);
          return { url, receiptKey, retryPolicy: JSON.stringify(policy) };
        },
        run: async (trx, prepared) => {
          const id = newId("wh");
          const row = await insertEndpoint(trx, tenantId, {
            id,
            url: prepared.url,
            displayName: body.displayName,
            subscriptions: uniqueSubscriptions(body.subscriptions),
            counterSignedReceipts: body.counterSignedReceipts,
            receiptPublicKey: prepared.receiptKey,
            retryPolicy: prepared.retryPolicy,
            rateLimit: body.rateLimit ?? null,
          });
          const { secret } = await issueSecret(trx, ctx.masterKey, tenantId, id);
          return { ...(await viewOf(trx, tenantId, row)), secret: secret as string | null };
        },
        forReplay: (response) => ({ ...response, secret: null }),
      });
    },
  );
}

export function listEndpointsRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        summary: "List webhook endpoints",
        description: "Oldest first. Disabled (and deleted) endpoints are included unless `disabled=false`. A portal session lists its own endpoints only.",
        tags: TAGS,
        security: bearerSecurity,
        querystring: z.object({
          ...pageQuery,
          disabled: queryFlag.optional().describe("`true`: only disabled endpoints; `false`: only enabled ones."),
          subscription: subscriptionPattern.optional().describe("Only endpoints whose subscriptions contain exactly this pattern."),
        }),
        response: { 200: z.object({ data: z.array(endpoint), nextCursor }), ...errorResponses() },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { limit, cursor, disabled, subscription } = request.query;
      const rows = await listEndpoints(ctx.db, tenantId, { limit, after: decodeCursor(cursor, 2), disabled, subscription, only: visibleEndpoints(request) });
      const { page, nextCursor: next } = pageOf(rows, limit, (r) => [r.cursor_at, r.id]);
      const statuses = await secretStatuses(
        ctx.db,
        tenantId,
        page.map((r) => r.id),
      );
      return { data: page.map((r) => endpointView(r, statuses.get(r.id)!)), nextCursor: next };
    },
  );
}

export function readEndpointRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/:id",
    {
      schema: {
        summary: "Read a webhook endpoint",
        description: "Metadata and secret status; never the secret.",
        tags: TAGS,
        security: bearerSecurity,
        params: idParams,
        response: { 200: endpoint, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const row = await findEndpoint(ctx.db, tenantId, request.params.id);
      if (!row) throw notFound();
      return viewOf(ctx.db, tenantId, row);
    },
  );
}

export function deleteEndpointRoute(app: HttpApp, ctx: ApiContext): void {
  app.delete(
    "/:id",
    {
      schema: {
        summary: "Delete (disable) a webhook endpoint",
        description: "Soft delete: the endpoint is disabled with reason `deleted by API` and receives nothing more; it, its deliveries and its secrets stay for the audit trail. PATCH `disabled: false` undoes it.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: idParams,
        response: { 200: endpoint, ...errorResponses(404) },
      },
    },
    (request, reply) =>
      lockedEndpointMutation(ctx, request, reply, async (trx, tenantId, id) => {
        const row = await updateEndpoint(trx, tenantId, id, { disabled: { disable: true, reason: "deleted by API", overwriteReason: true } });
        return viewOf(trx, tenantId, row);
      }),
  );
}

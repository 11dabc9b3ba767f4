import { z } from "zod";
import { newId, type Database, type Kysely } from "@custody/db";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, nextCursor, pageQuery, principalOf, queryFlag, requireScope, visibleEndpoints, type HttpApp } from "@custody/http";
import { DEFAULT_RETRY_POLICY } from "@custody/retry";
import type { ApiContext } from "../shared/context.js";
import { activeCatalog } from "../event-types/store.js";
import { decideAcknowledgement, needsCatalog, requiredFatAcknowledgement } from "./fat-acknowledgement.js";
import { idempotencyHeaders, idempotentMutation } from "../shared/idempotency.js";
import { decodeCursor, pageOf } from "../shared/pagination.js";
import { expireValidPrevious, issueSecret, rotateSecret, secretStatuses, type SecretStatus } from "./secret-store.js";
import { decodeReceiptPublicKey, DEFAULT_SUBSCRIPTIONS, retryPolicyFromRequest, uniqueSubscriptions } from "./settings.js";
import { checkTargetUrl } from "./target.js";
import {
  endpoint,
  endpointView,
  endpointWithSecret,
  payloadShape,
  rateLimit,
  receiptPublicKey,
  retryPolicyInput,
  secretStatus,
  secretStatusView,
  subscriptionPattern,
} from "./schemas.js";
import { countActiveDeliveries, findEndpoint, insertEndpoint, listEndpoints, retargetActiveDeliveries, updateEndpoint, type EndpointRow } from "./store.js";

const TAGS = ["Webhook endpoints"];
const BASE = "/api/v2/webhooks";
const idParams = z.object({ id: z.string().min(1).max(64).describe("`wh_…`") });
const subscriptions = z.array(subscriptionPattern).min(1).max(100);

function notFound(): AppError {
  return new AppError("NOT_FOUND", "no such webhook endpoint", { field: "params.id" });
}

async function statusOf(db: Kysely<Database>, tenantId: string, id: string): Promise<SecretStatus> {
  // secretStatuses throws for an endpoint without a current secret, so the entry is there.
  return (await secretStatuses(db, tenantId, [id])).get(id)!;
}

async function viewOf(db: Kysely<Database>, tenantId: string, row: EndpointRow) {
  return endpointView(row, await statusOf(db, tenantId, row.id));
}

function requireReceiptKey(counterSigned: boolean, key: Buffer | null): void {
  if (counterSigned && key === null) {
    throw new AppError("VALIDATION_FAILED", "counterSignedReceipts needs the receiptPublicKey receipts are verified with", { field: "body.receiptPublicKey" });
  }
}

export function registerWebhookRoutes(app: HttpApp, ctx: ApiContext): void {
  app.post(
    BASE,
    {
      preHandler: requireScope(ctx.db, "admin"),
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

  app.get(
    BASE,
    {
      preHandler: requireScope(ctx.db, "read", { capability: "read" }),
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
      const statuses = await secretStatuses(ctx.db, tenantId, page.map((r) => r.id));
      return { data: page.map((r) => endpointView(r, statuses.get(r.id)!)), nextCursor: next };
    },
  );

  app.get(
    `${BASE}/:id`,
    {
      preHandler: requireScope(ctx.db, "read", { capability: "read", endpointParam: "id" }),
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

  app.patch(
    `${BASE}/:id`,
    {
      preHandler: requireScope(ctx.db, "admin", { capability: "payloadShape", endpointParam: "id" }),
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
        body: z.strictObject({
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
        }),
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
        prepare: async () => ({
          receiptKey: body.receiptPublicKey == null ? body.receiptPublicKey : decodeReceiptPublicKey(body.receiptPublicKey),
          retryPolicy: body.retryPolicy === undefined ? undefined : JSON.stringify(retryPolicyFromRequest(body.retryPolicy)),
          url: body.url === undefined ? undefined : await checkTargetUrl(ctx, body.url),
        }),
        run: async (trx, prepared) => {
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
            ...(body.disabled === undefined
              ? {}
              : { disabled: body.disabled ? { disable: true as const, reason: "disabled by API", overwriteReason: false } : { disable: false as const } }),
          });
          return viewOf(trx, tenantId, row);
        },
      });
    },
  );

  app.delete(
    `${BASE}/:id`,
    {
      preHandler: requireScope(ctx.db, "admin"),
      schema: {
        summary: "Delete (disable) a webhook endpoint",
        description:
          "Soft delete: the endpoint is disabled with reason `deleted by API` and receives nothing more; it, its deliveries and its secrets stay for the audit trail. PATCH `disabled: false` undoes it.",
        tags: TAGS,
        security: bearerSecurity,
        headers: idempotencyHeaders,
        params: idParams,
        response: { 200: endpoint, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      return idempotentMutation(ctx.db, request, reply, {
        status: 200,
        run: async (trx) => {
          if (!(await findEndpoint(trx, tenantId, id, { forUpdate: true }))) throw notFound();
          const row = await updateEndpoint(trx, tenantId, id, { disabled: { disable: true, reason: "deleted by API", overwriteReason: true } });
          return viewOf(trx, tenantId, row);
        },
      });
    },
  );

  app.post(
    `${BASE}/:id/rotate-secret`,
    {
      preHandler: requireScope(ctx.db, "admin", { capability: "rotateSecret", endpointParam: "id" }),
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
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      return idempotentMutation(ctx.db, request, reply, {
        status: 200,
        run: async (trx) => {
          if (!(await findEndpoint(trx, tenantId, id, { forUpdate: true }))) throw notFound();
          const { secret } = await rotateSecret(trx, ctx.masterKey, tenantId, id, ctx.config.CUSTODY_SECRET_OVERLAP_HOURS);
          return { secret: secret as string | null, secretStatus: secretStatusView(await statusOf(trx, tenantId, id)) };
        },
        forReplay: (response) => ({ ...response, secret: null }),
      });
    },
  );

  app.post(
    `${BASE}/:id/revoke-previous-secret`,
    {
      preHandler: requireScope(ctx.db, "admin", { capability: "rotateSecret", endpointParam: "id" }),
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
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params;
      return idempotentMutation(ctx.db, request, reply, {
        status: 200,
        run: async (trx) => {
          if (!(await findEndpoint(trx, tenantId, id, { forUpdate: true }))) throw notFound();
          await expireValidPrevious(trx, tenantId, id);
          return { secretStatus: secretStatusView(await statusOf(trx, tenantId, id)) };
        },
      });
    },
  );

  app.get(
    `${BASE}/:id/fat-acknowledgement`,
    {
      preHandler: requireScope(ctx.db, "read", { capability: "read", endpointParam: "id" }),
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

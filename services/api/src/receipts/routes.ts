import { z } from "zod";
import { ReceiptError } from "@custody/custody";
import { AppError } from "@custody/errors";
import { bearerSecurity, errorResponses, nextCursor, pageQuery, principalOf, type HttpApp } from "@custody/http";
import { checkReceipt, recordReceipts } from "@custody/receipts";
import type { ApiContext } from "../shared/context.js";
import { decodeCursor, pageOf } from "../shared/pagination.js";
import { routeGroup } from "../shared/route-group.js";
import { findReceipt, listReceipts, lockReceiptTarget, receiptOf, type ReceiptRow } from "./store.js";

const tags = ["receipts"];
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64")
  .max(4096);

const receiptView = z.object({
  id: z.string(),
  deliveryId: z.string(),
  eventId: z.string(),
  bodySha256: z.string(),
  receivedAt: z.string(),
  source: z.enum(["response", "api"]).describe("`response`: returned in the endpoint's 2xx body; `api`: submitted later."),
  statement: z.string().describe("base64 of the exact statement bytes the endpoint signed (proofs/FORMAT.md §11)"),
  signature: z.string(),
  entryId: z.string().describe("The `receipt` ledger entry: the delivery's receipt hop."),
  createdAt: z.string(),
});

function view(r: ReceiptRow) {
  const statement = JSON.parse(r.statement.toString("utf8")) as { bodySha256: string };
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    eventId: r.event_id,
    bodySha256: statement.bodySha256,
    receivedAt: r.received_at.toISOString(),
    source: r.source,
    statement: r.statement.toString("base64"),
    signature: r.signature.toString("base64"),
    entryId: r.entry_id,
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * Counter-signed receipts: an endpoint that registered a receipt key signs a statement about the
 * body it received. A receipt comes back in the 2xx response (the pipeline records it) or later
 * through `POST /api/v2/webhook-receipts`; a valid one becomes the delivery's `receipt` hop, an
 * invalid one is refused and changes nothing.
 */
export async function receiptRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "publish" }, (publish) => recordReceiptRoute(publish, ctx));
  routeGroup(app, ctx.db, { scope: "read" }, (read) => {
    listReceiptsRoute(read, ctx);
    readReceiptRoute(read, ctx);
  });
}

function recordReceiptRoute(app: HttpApp, ctx: ApiContext): void {
  app.post(
    "",
    {
      schema: {
        tags,
        security: bearerSecurity,
        summary: "Submit a delivery receipt",
        description: "`statement` and `signature` as the endpoint produced them (proofs/FORMAT.md §11). 201 when recorded; 200 when this very receipt was recorded before.",
        body: z.object({ deliveryId: z.string().max(64), statement: base64, signature: base64 }).strict(),
        response: { 200: receiptView, 201: receiptView, ...errorResponses(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const tenantId = principalOf(request).tenantId;
      const { deliveryId } = request.body;
      const statement = Buffer.from(request.body.statement, "base64");
      const signature = Buffer.from(request.body.signature, "base64");
      const recorded = await ctx.db.transaction().execute(async (trx) => {
        const target = await lockReceiptTarget(trx, tenantId, deliveryId);
        if (!target) throw new AppError("NOT_FOUND", `no delivery ${deliveryId}`, { field: "body.deliveryId" });
        if (!target.counter_signed_receipts || !target.receipt_public_key) {
          throw new AppError("RECEIPTS_NOT_ENABLED", "this delivery's endpoint does not use counter-signed receipts (or is a callback)", { field: "body.deliveryId" });
        }
        if (target.status !== "delivered" || target.body_sha256 === null) throw new AppError("CONFLICT", `the delivery is ${target.status}, not delivered`);
        const existing = await receiptOf(trx, deliveryId);
        if (existing) {
          if (existing.statement.equals(statement) && existing.signature.equals(signature)) return { id: existing.id, fresh: false };
          throw new AppError("CONFLICT", "this delivery already has a different receipt; a delivery keeps its first receipt");
        }
        const claim = {
          tenantId,
          deliveryId,
          eventId: target.event_id,
          bodySha256: target.body_sha256.toString("hex"),
          publicKey: target.receipt_public_key,
          statement,
          signature,
          source: "api" as const,
        };
        let checked;
        try {
          checked = checkReceipt(claim);
        } catch (err) {
          if (err instanceof ReceiptError) throw new AppError("RECEIPT_INVALID", err.message, { details: { reason: err.code } });
          throw err;
        }
        const [row] = await recordReceipts(trx, [{ claim, statement: checked }]);
        return { id: row!.id, fresh: true };
      });
      const row = await findReceipt(ctx.db, tenantId, recorded.id);
      if (!row) throw new AppError("INTERNAL", `receipt ${recorded.id} is gone right after it was recorded`);
      return reply.status(recorded.fresh ? 201 : 200).send(view(row));
    },
  );
}

function listReceiptsRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "",
    {
      schema: {
        tags,
        security: bearerSecurity,
        summary: "List receipts",
        querystring: z.object({ ...pageQuery, deliveryId: z.string().max(64).optional() }),
        response: { 200: z.object({ data: z.array(receiptView), nextCursor }), ...errorResponses() },
      },
    },
    async (request) => {
      const { limit, cursor, deliveryId } = request.query;
      const rows = await listReceipts(ctx.db, principalOf(request).tenantId, { limit, after: decodeCursor(cursor, 2), deliveryId });
      const { page, nextCursor: next } = pageOf(rows, limit, (r) => [r.cursor_at, r.id]);
      return { data: page.map(view), nextCursor: next };
    },
  );
}

function readReceiptRoute(app: HttpApp, ctx: ApiContext): void {
  app.get(
    "/:id",
    {
      schema: { tags, security: bearerSecurity, summary: "Read a receipt", params: z.object({ id: z.string().max(64) }), response: { 200: receiptView, ...errorResponses(404) } },
    },
    async (request) => {
      const row = await findReceipt(ctx.db, principalOf(request).tenantId, request.params.id);
      if (!row) throw new AppError("NOT_FOUND", `no receipt ${request.params.id}`, { field: "params.id" });
      return view(row);
    },
  );
}

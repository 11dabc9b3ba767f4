import type { Database, DeliveryStatus, Transaction } from "@custody/db";
import { retryNow } from "@custody/deliveries";
import { AppError } from "@custody/errors";
import { deliverySummaryView, findDelivery, payloadAndFormatOf } from "./store.js";
import type { DeliverySummary } from "./schemas.js";

/** Why a delivery in each state other than `dead` or `retrying` cannot be retried now. */
const NOT_RETRYABLE: Partial<Record<DeliveryStatus, string>> = {
  pending: "it is pending: its first attempt has not been made yet",
  delivering: "it is delivering: an attempt is in flight",
  delivered: "it is delivered already",
  cancelled: "it is cancelled",
};

/**
 * Retry now, also from the dead letter: the delivery goes back to `retrying`, due now, and the retry
 * scheduler seals and sends attempt `attempts + 1` on its next tick. The delivery row is locked, so
 * the deliver stage cannot settle it in between. The endpoint must be the tenant's and enabled; the
 * caller checked that it exists.
 */
export async function retryDelivery(trx: Transaction<Database>, tenantId: string, endpoint: { id: string; disabled_at: Date | null }, deliveryId: string): Promise<DeliverySummary> {
  const row = await findDelivery(trx, tenantId, endpoint.id, deliveryId, { forUpdate: true });
  if (!row) throw new AppError("NOT_FOUND", "no such delivery of this endpoint", { field: "params.deliveryId" });

  const refusal = NOT_RETRYABLE[row.status];
  if (refusal !== undefined) {
    throw new AppError("CONFLICT", `delivery ${row.id} cannot be retried: ${refusal}`, { field: "params.deliveryId", details: { status: row.status } });
  }
  if (endpoint.disabled_at !== null) {
    // The deliver stage would seal the attempt and then dead-letter it unsent (endpoint_disabled).
    throw new AppError("CONFLICT", `delivery ${row.id} cannot be retried: its endpoint is disabled; re-enable it first (PATCH disabled: false)`, {
      field: "params.id",
      details: { status: row.status, endpointDisabled: true },
    });
  }
  const facts = await payloadAndFormatOf(trx, tenantId, row);
  if (facts?.erased) {
    // There is no body left to seal and send.
    throw new AppError("CONFLICT", `delivery ${row.id} cannot be retried: its event's payload was erased`, {
      field: "params.deliveryId",
      details: { status: row.status, deadReason: row.dead_reason },
    });
  }
  if (facts?.format1) {
    // Its attempts were sealed under evidence format 1; a format 2 attempt could not chain to them.
    throw new AppError("CONFLICT", `delivery ${row.id} cannot be retried: it was sealed before evidence format 2; replay its event instead (POST /api/v2/webhooks/{id}/replays)`, {
      field: "params.deliveryId",
      details: { status: row.status },
    });
  }
  await retryNow(trx, tenantId, row.id);
  const updated = await findDelivery(trx, tenantId, endpoint.id, row.id);
  return deliverySummaryView(updated!);
}

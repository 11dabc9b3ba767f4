import type { EndpointInfo } from "./endpoints.js";

/** An enabled endpoint subscribed to every event type, with defaults for everything else. */
export function endpointInfo(tenantId: string, id: string, payloadShape: "thin" | "fat" = "thin", acknowledged: readonly string[] = []): EndpointInfo {
  return {
    id,
    tenantId,
    url: `https://${id}.example/hook`,
    subscriptions: ["*"],
    payloadShape,
    fatAckFields: new Set(acknowledged),
    retryPolicy: null,
    rateLimitPerSecond: null,
    counterSignedReceipts: false,
    receiptPublicKey: null,
    failingSince: null,
    disabledAt: null,
  };
}

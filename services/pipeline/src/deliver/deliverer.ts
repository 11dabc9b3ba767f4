import { createHash } from "node:crypto";
import type { Logger } from "@custody/log";
import { receiptFromResponse } from "@custody/receipts";
import type { EndpointDirectory, EndpointInfo } from "../shared/endpoints.js";
import type { OutcomeRecorder, RecordItem } from "./recorder.js";
import { limitKeyOf, type Sender, type SendResult } from "./sender.js";
import { deadForDisabledEndpoint, policyFor, settle, type DeliveryUpdate } from "./settle.js";

/** A sealed attempt, ready to go: exactly these headers and body bytes are sent. */
export interface ReadyAttempt {
  tenantId: string;
  deliveryId: string;
  attemptNo: number;
  eventId: string;
  endpointId: string | null;
  url: string;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
  /** Hex custody root. */
  root: string;
  firstAttemptAt: Date | null;
  lastDelayMs: number | null;
}

export interface DelivererOptions {
  sender: Sender;
  recorder: OutcomeRecorder;
  endpoints: EndpointDirectory;
  logger: Logger;
  disableAfterMs: number;
  now: () => Date;
  /** Uniform in [0, 1), for jittered retry policies. */
  random: () => number;
}

/**
 * Sends sealed attempts and records their outcomes. Each attempt settles on its own as soon as its
 * exchange ends — a slow or dead endpoint holds only its own deliveries, bounded by its limits in
 * the sender — and the recorder commits outcomes in groups.
 */
export class Deliverer {
  /** Attempts promised a place (claimTarget) and not yet handed to the sender, by limit key. */
  private readonly claimed = new Map<string, number>();

  constructor(private readonly o: DelivererOptions) {}

  /**
   * Claims a place for one more attempt to this endpoint (or callback origin) if it has fewer than
   * `max` sending, waiting or claimed here; deliver() uses the claim up. False: park the delivery.
   */
  claimTarget(endpointId: string | null, url: string, max: number): boolean {
    const key = limitKeyOf(endpointId, url);
    const claimed = this.claimed.get(key) ?? 0;
    if (this.o.sender.limiter.usersOf(key) + claimed >= max) return false;
    this.claimed.set(key, claimed + 1);
    return true;
  }

  /** Gives back a claim that will not be used (its batch failed). */
  releaseTarget(endpointId: string | null, url: string): void {
    const key = limitKeyOf(endpointId, url);
    const claimed = (this.claimed.get(key) ?? 0) - 1;
    if (claimed > 0) this.claimed.set(key, claimed);
    else this.claimed.delete(key);
  }

  /** Sends one attempt and resolves when its outcome is recorded. Never rejects because of the endpoint. */
  async deliver(a: ReadyAttempt, claimed = false): Promise<void> {
    const endpoint = a.endpointId === null ? undefined : await this.o.endpoints.get(a.tenantId, a.endpointId);
    if (endpoint?.disabledAt) {
      if (claimed) this.releaseTarget(a.endpointId, a.url);
      await this.o.recorder.record(notSent(a, this.o.now(), "endpoint_disabled", deadForDisabledEndpoint(null)));
      return;
    }
    const sending = this.o.sender.send({
      url: a.url,
      headers: a.headers,
      body: a.body,
      limitKey: limitKeyOf(a.endpointId, a.url),
      ratePerSecond: endpoint?.rateLimitPerSecond ?? null,
    });
    // The sender counts the attempt from the call on (synchronously), so the claim can go now.
    if (claimed) this.releaseTarget(a.endpointId, a.url);
    await this.o.recorder.record(this.settled(a, endpoint, await sending));
  }

  /** Records the outcome of a sealed attempt that will not be sent. */
  recordNotSent(item: RecordItem): Promise<void> {
    return this.o.recorder.record(item);
  }

  private settled(a: ReadyAttempt, endpoint: EndpointInfo | undefined, result: SendResult): RecordItem {
    const kind = a.endpointId === null ? "callback" : "endpoint";
    const resolved = policyFor(kind, endpoint?.retryPolicy);
    if (resolved.invalid !== undefined) this.o.logger.error({ err: resolved.invalid, endpointId: a.endpointId }, "stored retry policy is invalid; retrying by the default policy");
    const now = this.o.now();
    const settlement = settle({
      attempt: result,
      delivery: { attemptNo: a.attemptNo, firstAttemptAt: a.firstAttemptAt, lastDelayMs: a.lastDelayMs, kind },
      policy: resolved.policy,
      endpoint: endpoint === undefined ? null : { failingSince: endpoint.failingSince, disabledAt: endpoint.disabledAt },
      nowMs: now.getTime(),
      random: this.o.random,
      disableAfterMs: this.o.disableAfterMs,
    });
    const item: RecordItem = {
      outcome: {
        tenantId: a.tenantId,
        deliveryId: a.deliveryId,
        attemptNo: a.attemptNo,
        root: a.root,
        outcome: settlement.outcome,
        statusCode: result.statusCode,
        errorClass: result.errorClass,
        startedAt: result.startedAt,
        durationMs: result.durationMs,
        responseSha256: result.responseSha256,
        responseExcerpt: result.responseExcerpt,
        update: settlement.deliveryUpdate,
      },
    };
    if (endpoint !== undefined && settlement.endpointUpdate !== undefined) item.endpoint = { id: endpoint.id, update: settlement.endpointUpdate };
    if (settlement.outcome === "delivered" && endpoint?.counterSignedReceipts && endpoint.receiptPublicKey !== null) {
      const given = receiptFromResponse(result.responseExcerpt);
      if (given !== null) {
        item.receipt = {
          tenantId: a.tenantId,
          deliveryId: a.deliveryId,
          eventId: a.eventId,
          bodySha256: createHash("sha256").update(a.body).digest("hex"),
          publicKey: endpoint.receiptPublicKey,
          statement: given.statement,
          signature: given.signature,
          source: "response",
        };
      }
    }
    return item;
  }
}

/** The outcome of a sealed attempt that was never sent (FORMAT.md §9: `endpoint_disabled`, `payload_erased`). */
export function notSent(a: Pick<ReadyAttempt, "tenantId" | "deliveryId" | "attemptNo" | "root">, at: Date, error: "endpoint_disabled" | "payload_erased", update: DeliveryUpdate): RecordItem {
  return {
    outcome: {
      tenantId: a.tenantId,
      deliveryId: a.deliveryId,
      attemptNo: a.attemptNo,
      root: a.root,
      outcome: "dead",
      statusCode: null,
      errorClass: error,
      startedAt: at,
      durationMs: 0,
      responseSha256: null,
      responseExcerpt: null,
      update,
    },
  };
}

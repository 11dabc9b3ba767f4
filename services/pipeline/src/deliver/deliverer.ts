import { createHash } from "node:crypto";
import type { Logger } from "@custody/log";
import { receiptFromResponse } from "@custody/receipts";
import type { EndpointDirectory, EndpointInfo } from "../shared/endpoints.js";
import type { OutcomeRecorder, RecordItem } from "./recorder.js";
import { limitKeyOf, type Sender, type SendResult } from "./sender.js";
import type { TargetGate } from "./target-gate.js";
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
  /** Which deliveries each target takes now (target-gate.ts). */
  gate: TargetGate;
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
  constructor(private readonly o: DelivererOptions) {}

  /**
   * Claims a place for one more attempt to this endpoint (or callback origin), unless the target
   * gate says to park it; deliver() with `claimed` uses the claim up.
   */
  claimTarget(endpointId: string | null, url: string): boolean {
    const key = limitKeyOf(endpointId, url);
    return this.o.gate.claim(key, this.o.sender.limiter.usersOf(key));
  }

  /** Gives back a claim that will not be used (its batch failed). */
  releaseTarget(endpointId: string | null, url: string): void {
    this.o.gate.release(limitKeyOf(endpointId, url));
  }

  /** How long to park a delivery this target could not take now. */
  parkMs(endpointId: string | null, url: string, minMs: number): number {
    return this.o.gate.parkMs(limitKeyOf(endpointId, url), minMs);
  }

  /** Sends one attempt and resolves when its outcome is recorded. Never rejects because of the endpoint. */
  async deliver(a: ReadyAttempt, claimed = false): Promise<void> {
    const endpoint = a.endpointId === null ? undefined : await this.o.endpoints.get(a.tenantId, a.endpointId);
    if (endpoint?.disabledAt) {
      if (claimed) this.releaseTarget(a.endpointId, a.url);
      await this.o.recorder.record(notSent(a, this.o.now(), "endpoint_disabled", deadForDisabledEndpoint(null)));
      return;
    }
    const limitKey = limitKeyOf(a.endpointId, a.url);
    const sending = this.o.sender.send({
      url: a.url,
      headers: a.headers,
      body: a.body,
      limitKey,
      ratePerSecond: endpoint?.rateLimitPerSecond ?? null,
      onStart: () => this.o.gate.started(limitKey),
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

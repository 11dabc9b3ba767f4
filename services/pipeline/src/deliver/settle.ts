import { classifyResponse, DEFAULT_RETRY_POLICY, nextAttempt, parseRetryPolicy, shouldDisableEndpoint, type Decision, type FatalReason, type Outcome, type RetryPolicy, type TransportError } from "@custody/retry";

/*
 * The deliver stage's pure core: what one attempt's result means for its delivery and its endpoint.
 * No I/O, no clock, no randomness of its own — `nowMs` and `random` come in, so every row of the
 * outcome table and every retry schedule is tested without a network or a database.
 */

export type AttemptOutcome = "delivered" | "retry" | "dead";
export type DeliveryKind = "endpoint" | "callback";

/** Why a delivery was dead-lettered (deliveries.dead_reason). */
export type DeadReason = "exhausted" | "gone" | FatalReason | "endpoint_disabled" | "payload_erased";

/** What the sender observed (a SendResult satisfies it). */
export interface AttemptReport {
  startedAt: Date;
  /** How long the exchange took; delivered_at is its end when known. */
  durationMs?: number | undefined;
  statusCode: number | null;
  errorClass: TransportError | null;
  errorMessage?: string | null | undefined;
  /** The raw Retry-After header. */
  retryAfter?: string | undefined;
}

export interface DeliveryState {
  /** The attempt that produced the report (1-based); also the attempts made so far. */
  attemptNo: number;
  firstAttemptAt: Date | null;
  /** The previous retry's delay; decorrelated jitter grows from it. */
  lastDelayMs: number | null;
  kind: DeliveryKind;
}

export interface EndpointState {
  failingSince: Date | null;
  disabledAt: Date | null;
}

export interface SettleInput {
  attempt: AttemptReport;
  delivery: DeliveryState;
  policy: RetryPolicy;
  /** The endpoint's health, or null for a one-shot callback (which has no endpoint to disable). */
  endpoint: EndpointState | null;
  nowMs: number;
  /** Uniform in [0, 1); only the jittered policies draw from it. */
  random: () => number;
  /** CUSTODY_ENDPOINT_DISABLE_AFTER_HOURS in ms. */
  disableAfterMs: number;
}

/** The deliveries columns an attempt's settlement writes. */
export interface DeliveryUpdate {
  status: "delivered" | "retrying" | "dead";
  next_attempt_at: Date | null;
  last_delay_ms: number | null;
  last_status_code: number | null;
  last_error: string | null;
  dead_reason: DeadReason | null;
  delivered_at: Date | null;
}

export type DisableKind = "gone" | "failing";

export interface EndpointUpdate {
  /** The attempt failed (the endpoint's failing run starts at `at` unless one is running) or succeeded (the run ends). */
  failing: boolean;
  /** When the attempt started. */
  at: Date;
  disable?: { kind: DisableKind; reason: string };
}

export interface Settlement {
  outcome: AttemptOutcome;
  deliveryUpdate: DeliveryUpdate;
  /** Absent for callback deliveries. */
  endpointUpdate?: EndpointUpdate;
  /** The retry library's decision, for logs and tests. */
  decision: Decision;
}

export const GONE_REASON = "the endpoint answered 410 Gone";

export function failingReason(disableAfterMs: number): string {
  const hours = disableAfterMs / 3_600_000;
  return `deliveries failed continuously for ${Number.isInteger(hours) ? hours : hours.toFixed(2)} hours`;
}

/** The policy to retry a delivery with, and the stored policy's defect if it had to be replaced. */
export interface ResolvedPolicy {
  policy: RetryPolicy;
  invalid?: Error;
}

/**
 * Endpoint deliveries follow the endpoint's retry_policy; one-shot callbacks always follow the
 * callback schedule (the callback URL contract: 3, 9, 27 min, … up to 7 attempts). A stored policy
 * that no longer parses is a bug elsewhere; retrying by the default policy (and saying so) beats
 * failing the batch over and over.
 */
export function policyFor(kind: DeliveryKind, storedPolicy: unknown): ResolvedPolicy {
  if (kind === "callback") return { policy: { kind: "callback" } };
  try {
    return { policy: parseRetryPolicy(storedPolicy ?? DEFAULT_RETRY_POLICY) };
  } catch (err) {
    return { policy: DEFAULT_RETRY_POLICY, invalid: err instanceof Error ? err : new Error(String(err)) };
  }
}

function lastErrorOf(attempt: AttemptReport): string {
  if (attempt.statusCode !== null) return `HTTP ${attempt.statusCode}`;
  return attempt.errorMessage ?? attempt.errorClass ?? "other";
}

function outcomeOf(attempt: AttemptReport, nowMs: number): Outcome {
  return classifyResponse({
    status: attempt.statusCode ?? undefined,
    // A report with neither is a sender bug; classify it as the catch-all transport failure.
    error: attempt.statusCode === null ? (attempt.errorClass ?? "other") : undefined,
    retryAfter: attempt.retryAfter,
    nowMs,
  });
}

function deliveredAt(attempt: AttemptReport, nowMs: number): Date {
  const d = attempt.durationMs;
  return typeof d === "number" && Number.isFinite(d) && d >= 0 ? new Date(attempt.startedAt.getTime() + d) : new Date(nowMs);
}

/** Settles one attempt: 2xx delivered; 408/425/429/5xx/transport retried by policy; 3xx/4xx/refusals dead; 410 dead and disables. */
export function settle(input: SettleInput): Settlement {
  const { attempt, delivery, endpoint, nowMs } = input;
  const outcome = outcomeOf(attempt, nowMs);
  const decision = nextAttempt({
    policy: input.policy,
    attemptsMade: delivery.attemptNo,
    firstAttemptAtMs: (delivery.firstAttemptAt ?? attempt.startedAt).getTime(),
    nowMs,
    previousDelayMs: delivery.lastDelayMs ?? undefined,
    outcome,
    random: input.random,
  });

  // Written out whole, never `{ ...common, … }`: docs/ARCHITECTURE.md, "Hot-path objects".
  let result: { outcome: AttemptOutcome; deliveryUpdate: DeliveryUpdate };
  switch (decision.kind) {
    case "delivered":
      result = {
        outcome: "delivered",
        deliveryUpdate: {
          status: "delivered",
          next_attempt_at: null,
          last_delay_ms: delivery.lastDelayMs,
          last_status_code: attempt.statusCode,
          last_error: null,
          dead_reason: null,
          delivered_at: deliveredAt(attempt, nowMs),
        },
      };
      break;
    case "retry":
      result = {
        outcome: "retry",
        deliveryUpdate: {
          status: "retrying",
          next_attempt_at: new Date(decision.atMs),
          last_delay_ms: decision.delayMs,
          last_status_code: attempt.statusCode,
          last_error: lastErrorOf(attempt),
          dead_reason: null,
          delivered_at: null,
        },
      };
      break;
    case "dead_letter": {
      const reason: DeadReason = decision.reason === "fatal" && outcome.kind === "fatal" ? outcome.reason : decision.reason === "gone" ? "gone" : "exhausted";
      result = {
        outcome: "dead",
        // last_delay_ms stays: it is the history of the last retry, not a plan.
        deliveryUpdate: { status: "dead", next_attempt_at: null, last_delay_ms: delivery.lastDelayMs, last_status_code: attempt.statusCode, last_error: lastErrorOf(attempt), dead_reason: reason, delivered_at: null },
      };
      break;
    }
  }

  if (endpoint === null) return { outcome: result.outcome, deliveryUpdate: result.deliveryUpdate, decision };
  const failing = result.outcome !== "delivered";
  const endpointUpdate: EndpointUpdate = { failing, at: attempt.startedAt };
  if (endpoint.disabledAt === null && failing) {
    if (outcome.kind === "gone") endpointUpdate.disable = { kind: "gone", reason: GONE_REASON };
    else if (shouldDisableEndpoint({ failingSinceMs: (endpoint.failingSince ?? attempt.startedAt).getTime(), nowMs, thresholdMs: input.disableAfterMs })) {
      endpointUpdate.disable = { kind: "failing", reason: failingReason(input.disableAfterMs) };
    }
  }
  return { outcome: result.outcome, deliveryUpdate: result.deliveryUpdate, endpointUpdate, decision };
}

/** What a delivery becomes when its endpoint was disabled before the sealed attempt could go out. */
export function deadForDisabledEndpoint(reason: string | null): DeliveryUpdate {
  return {
    status: "dead",
    next_attempt_at: null,
    last_delay_ms: null,
    last_status_code: null,
    last_error: `endpoint disabled${reason ? `: ${reason}` : ""}; the attempt was not sent`,
    dead_reason: "endpoint_disabled",
    delivered_at: null,
  };
}

/** What a delivery becomes when its payload was erased before a sealed attempt could be sent again. */
export function deadForErasedPayload(): DeliveryUpdate {
  return {
    status: "dead",
    next_attempt_at: null,
    last_delay_ms: null,
    last_status_code: null,
    last_error: "the event's payload was erased; the attempt was not sent",
    dead_reason: "payload_erased",
    delivered_at: null,
  };
}

/** One endpoint's health after a batch: the failing_since to store and whether to disable it. */
export interface EndpointChange {
  /**
   * True when an attempt in the batch succeeded: failing_since is then assigned outright (null, or
   * the first failure after the last success). False: it is only filled in when empty, so an older
   * run of failures keeps its start.
   */
  reset: boolean;
  failingSince: Date | null;
  disable: { kind: DisableKind; reason: string } | null;
}

/**
 * Folds one endpoint's attempt updates of a batch (in any order; they are replayed by start time)
 * into one change. A 410 disables whatever else happened; the failing-run threshold is judged on
 * the folded run, so a success anywhere after the failures keeps the endpoint enabled.
 * Returns null when nothing changes.
 */
export function mergeEndpointUpdates(current: EndpointState, updates: readonly EndpointUpdate[], nowMs: number, disableAfterMs: number): EndpointChange | null {
  if (updates.length === 0) return null;
  const ordered = [...updates].sort((a, b) => a.at.getTime() - b.at.getTime());
  let since = current.failingSince;
  let reset = false;
  for (const u of ordered) {
    if (!u.failing) {
      since = null;
      reset = true;
    } else if (since === null) {
      since = u.at;
    }
  }
  let disable: EndpointChange["disable"] = null;
  if (current.disabledAt === null) {
    const gone = ordered.find((u) => u.disable?.kind === "gone");
    if (gone?.disable) disable = gone.disable;
    else if (shouldDisableEndpoint({ failingSinceMs: since?.getTime() ?? null, nowMs, thresholdMs: disableAfterMs })) {
      disable = { kind: "failing", reason: failingReason(disableAfterMs) };
    }
  }
  const unchanged = disable === null && (since?.getTime() ?? null) === (current.failingSince?.getTime() ?? null);
  if (unchanged) return null;
  return { reset, failingSince: since, disable };
}

import { describe, expect, it } from "vitest";
import type { RetryPolicy, TransportError } from "@custody/retry";
import { deadForDisabledEndpoint, failingReason, GONE_REASON, mergeEndpointUpdates, policyFor, settle, type AttemptReport, type DeliveryKind, type EndpointState, type SettleInput } from "./settle.js";

const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DISABLE_AFTER = 120 * HOUR;
const healthy: EndpointState = { failingSince: null, disabledAt: null };

function input(report: Partial<AttemptReport>, over: Partial<Omit<SettleInput, "attempt">> & { attemptNo?: number } = {}): SettleInput {
  const { attemptNo = 1, ...rest } = over;
  return {
    attempt: { startedAt: new Date(T0), statusCode: null, errorClass: null, ...report },
    delivery: { attemptNo, firstAttemptAt: new Date(T0), lastDelayMs: null, kind: "endpoint" },
    policy: { kind: "default" },
    endpoint: healthy,
    nowMs: T0,
    random: () => 0.5,
    disableAfterMs: DISABLE_AFTER,
    ...rest,
  };
}

const status = (code: number, extra: Partial<AttemptReport> = {}) => input({ statusCode: code, ...extra });
const transport = (kind: TransportError) => input({ errorClass: kind, errorMessage: `${kind}: boom` });

describe("settle: the outcome table", () => {
  it.each([200, 204])("%i is delivered, and ends the endpoint's failing run", (code) => {
    const s = settle(status(code));
    expect(s.outcome).toBe("delivered");
    expect(s.deliveryUpdate).toEqual({
      status: "delivered",
      next_attempt_at: null,
      last_delay_ms: null,
      last_status_code: code,
      last_error: null,
      dead_reason: null,
      delivered_at: new Date(T0),
    });
    expect(s.endpointUpdate).toEqual({ failing: false, at: new Date(T0) });
  });

  it.each([
    [301, "redirect"],
    [302, "redirect"],
    [400, "client_error"],
    [401, "client_error"],
    [404, "client_error"],
    [422, "client_error"],
  ] as const)("%i is dead at once (%s), without disabling the endpoint", (code, reason) => {
    const s = settle(status(code));
    expect(s.outcome).toBe("dead");
    expect(s.deliveryUpdate).toMatchObject({ status: "dead", dead_reason: reason, last_status_code: code, last_error: `HTTP ${code}`, next_attempt_at: null });
    expect(s.endpointUpdate).toEqual({ failing: true, at: new Date(T0) });
  });

  it("410 is dead and disables the endpoint", () => {
    const s = settle(status(410));
    expect(s.outcome).toBe("dead");
    expect(s.deliveryUpdate).toMatchObject({ status: "dead", dead_reason: "gone", last_status_code: 410 });
    expect(s.endpointUpdate).toEqual({ failing: true, at: new Date(T0), disable: { kind: "gone", reason: GONE_REASON } });
  });

  it("410 from an endpoint already disabled does not disable it again", () => {
    const s = settle(status(410));
    const again = settle({ ...status(410), endpoint: { failingSince: null, disabledAt: new Date(T0 - HOUR) } });
    expect(s.endpointUpdate?.disable).toBeDefined();
    expect(again.endpointUpdate?.disable).toBeUndefined();
  });

  it.each([408, 425, 429, 500, 502, 503, 504])("%i is retried by the policy (default: 30 s ±30 %%)", (code) => {
    const s = settle(status(code));
    expect(s.outcome).toBe("retry");
    expect(s.deliveryUpdate).toEqual({
      status: "retrying",
      next_attempt_at: new Date(T0 + 30 * SECOND),
      last_delay_ms: 30 * SECOND,
      last_status_code: code,
      last_error: `HTTP ${code}`,
      dead_reason: null,
      delivered_at: null,
    });
    expect(s.endpointUpdate).toEqual({ failing: true, at: new Date(T0) });
  });

  it("429 with Retry-After in seconds waits that long instead", () => {
    const s = settle(status(429, { retryAfter: "120" }));
    expect(s.deliveryUpdate).toMatchObject({ status: "retrying", last_delay_ms: 120 * SECOND, next_attempt_at: new Date(T0 + 120 * SECOND) });
  });

  it("429 with Retry-After as an HTTP-date waits until then", () => {
    const when = new Date(T0 + 90 * SECOND).toUTCString();
    expect(when).toMatch(/GMT$/);
    const s = settle(status(429, { retryAfter: when }));
    expect(s.deliveryUpdate).toMatchObject({ status: "retrying", last_delay_ms: 90 * SECOND, next_attempt_at: new Date(T0 + 90 * SECOND) });
  });

  it("503 with Retry-After is honoured; 500's is ignored; garbage is ignored", () => {
    expect(settle(status(503, { retryAfter: "7" })).deliveryUpdate.last_delay_ms).toBe(7 * SECOND);
    expect(settle(status(500, { retryAfter: "7" })).deliveryUpdate.last_delay_ms).toBe(30 * SECOND);
    expect(settle(status(503, { retryAfter: "soon" })).deliveryUpdate.last_delay_ms).toBe(30 * SECOND);
  });

  it("Retry-After never reaches past the policy's window (exponential: 15 s)", () => {
    const s = settle({ ...status(429, { retryAfter: "3600" }), policy: { kind: "exponential" } });
    expect(s.deliveryUpdate.last_delay_ms).toBe(15 * SECOND);
  });

  it.each(["timeout", "connect", "dns", "tls", "other"] as const)("a %s failure is retried, with the sender's message as last_error", (kind) => {
    const s = settle(transport(kind));
    expect(s.outcome).toBe("retry");
    expect(s.deliveryUpdate).toMatchObject({ status: "retrying", last_status_code: null, last_error: `${kind}: boom`, last_delay_ms: 30 * SECOND });
    expect(s.endpointUpdate).toMatchObject({ failing: true });
  });

  it("refused_target (SSRF guard) is dead at once", () => {
    const s = settle(transport("refused_target"));
    expect(s.outcome).toBe("dead");
    expect(s.deliveryUpdate).toMatchObject({ status: "dead", dead_reason: "refused_target", last_error: "refused_target: boom" });
  });

  it("a status wins over a body failure that followed it", () => {
    const s = settle(input({ statusCode: 200, errorClass: "timeout" }));
    expect(s.outcome).toBe("delivered");
  });

  it("a callback delivery has no endpoint to update", () => {
    const s = settle({ ...status(410), endpoint: null, delivery: { attemptNo: 1, firstAttemptAt: new Date(T0), lastDelayMs: null, kind: "callback" } });
    expect(s.outcome).toBe("dead");
    expect(s.endpointUpdate).toBeUndefined();
  });

  it("falls back to the attempt's start when first_attempt_at is unknown", () => {
    const s = settle({ ...status(500), delivery: { attemptNo: 1, firstAttemptAt: null, lastDelayMs: null, kind: "endpoint" }, policy: { kind: "exponential" } });
    expect(s.deliveryUpdate.last_delay_ms).toBe(1 * SECOND);
  });

  it("dates a delivery by the end of its exchange when the duration is known", () => {
    expect(settle(input({ statusCode: 200, durationMs: 250 }, { nowMs: T0 + 5_000 })).deliveryUpdate.delivered_at).toEqual(new Date(T0 + 250));
  });

  it("keeps last_delay_ms (the previous retry's delay) when the delivery ends", () => {
    const s = settle({ ...status(200), delivery: { attemptNo: 3, firstAttemptAt: new Date(T0 - HOUR), lastDelayMs: 60 * SECOND, kind: "endpoint" } });
    expect(s.deliveryUpdate.last_delay_ms).toBe(60 * SECOND);
  });
});

describe("settle: endpoint disabling by failing run", () => {
  it("disables once the run reaches the threshold, not before", () => {
    const before = settle({ ...status(500), endpoint: { failingSince: new Date(T0 - DISABLE_AFTER + 1), disabledAt: null } });
    expect(before.endpointUpdate?.disable).toBeUndefined();
    const at = settle({ ...status(500), endpoint: { failingSince: new Date(T0 - DISABLE_AFTER), disabledAt: null } });
    expect(at.endpointUpdate?.disable).toEqual({ kind: "failing", reason: failingReason(DISABLE_AFTER) });
    expect(failingReason(DISABLE_AFTER)).toBe("deliveries failed continuously for 120 hours");
  });

  it("a success never disables, however long the run was", () => {
    const s = settle({ ...status(200), endpoint: { failingSince: new Date(T0 - 10 * DISABLE_AFTER), disabledAt: null } });
    expect(s.endpointUpdate).toEqual({ failing: false, at: new Date(T0) });
  });

  it("uses the configured threshold", () => {
    const s = settle({ ...status(500), endpoint: { failingSince: new Date(T0 - 2 * HOUR), disabledAt: null }, disableAfterMs: HOUR });
    expect(s.endpointUpdate?.disable?.kind).toBe("failing");
  });
});

describe("mergeEndpointUpdates", () => {
  const at = (ms: number) => new Date(T0 + ms);

  it("starts a failing run at the first failure", () => {
    expect(
      mergeEndpointUpdates(
        healthy,
        [
          { failing: true, at: at(5) },
          { failing: true, at: at(1) },
        ],
        T0,
        DISABLE_AFTER,
      ),
    ).toEqual({ reset: false, failingSince: at(1), disable: null });
  });

  it("keeps an older run's start, and changes nothing when it is already set", () => {
    const old = { failingSince: new Date(T0 - HOUR), disabledAt: null };
    expect(mergeEndpointUpdates(old, [{ failing: true, at: at(1) }], T0, DISABLE_AFTER)).toBeNull();
  });

  it("clears the run on a success, and restarts it at a failure after the success", () => {
    const old = { failingSince: new Date(T0 - HOUR), disabledAt: null };
    expect(
      mergeEndpointUpdates(
        old,
        [
          { failing: true, at: at(1) },
          { failing: false, at: at(2) },
        ],
        T0,
        DISABLE_AFTER,
      ),
    ).toEqual({ reset: true, failingSince: null, disable: null });
    expect(
      mergeEndpointUpdates(
        old,
        [
          { failing: false, at: at(2) },
          { failing: true, at: at(3) },
          { failing: true, at: at(4) },
        ],
        T0,
        DISABLE_AFTER,
      ),
    ).toEqual({
      reset: true,
      failingSince: at(3),
      disable: null,
    });
    expect(mergeEndpointUpdates(healthy, [{ failing: false, at: at(2) }], T0, DISABLE_AFTER)).toBeNull();
  });

  it("disables on a 410 anywhere in the batch, and on a run past the threshold unless a success broke it", () => {
    const gone = { failing: true, at: at(1), disable: { kind: "gone" as const, reason: GONE_REASON } };
    expect(mergeEndpointUpdates(healthy, [gone, { failing: false, at: at(2) }], T0, DISABLE_AFTER)?.disable).toEqual({ kind: "gone", reason: GONE_REASON });
    const long = { failingSince: new Date(T0 - DISABLE_AFTER - 1), disabledAt: null };
    expect(mergeEndpointUpdates(long, [{ failing: true, at: at(1) }], T0, DISABLE_AFTER)).toEqual({
      reset: false,
      failingSince: long.failingSince,
      disable: { kind: "failing", reason: failingReason(DISABLE_AFTER) },
    });
    expect(
      mergeEndpointUpdates(
        long,
        [
          { failing: true, at: at(1) },
          { failing: false, at: at(2) },
        ],
        T0,
        DISABLE_AFTER,
      )?.disable,
    ).toBeNull();
  });

  it("never disables an endpoint that is disabled already", () => {
    const off = { failingSince: new Date(T0 - 2 * DISABLE_AFTER), disabledAt: new Date(T0 - HOUR) };
    expect(mergeEndpointUpdates(off, [{ failing: true, at: at(1), disable: { kind: "gone", reason: GONE_REASON } }], T0, DISABLE_AFTER)).toBeNull();
  });
});

describe("policyFor", () => {
  it("uses the endpoint's stored policy, and the callback schedule for callbacks whatever is passed", () => {
    expect(policyFor("endpoint", { kind: "exponential" }).policy).toEqual({ kind: "exponential" });
    expect(policyFor("endpoint", { kind: "custom", delaysSeconds: [1, 2] }).policy).toEqual({ kind: "custom", delaysSeconds: [1, 2] });
    expect(policyFor("callback", { kind: "exponential" }).policy).toEqual({ kind: "callback" });
    expect(policyFor("callback", null).policy).toEqual({ kind: "callback" });
  });

  it("falls back to the default policy, and says why, when the stored one is broken", () => {
    const r = policyFor("endpoint", { kind: "exponential", extra: 1 });
    expect(r.policy).toEqual({ kind: "default" });
    expect(r.invalid).toBeInstanceOf(Error);
    expect(policyFor("endpoint", null).policy).toEqual({ kind: "default" });
  });
});

describe("deadForDisabledEndpoint", () => {
  it("dead-letters without a status", () => {
    expect(deadForDisabledEndpoint("deleted by API")).toMatchObject({ status: "dead", dead_reason: "endpoint_disabled", last_status_code: null });
    expect(deadForDisabledEndpoint("deleted by API").last_error).toContain("deleted by API");
  });
});

/**
 * Drives a delivery that always fails through its whole schedule with a fake clock: each attempt
 * runs exactly when the previous settlement scheduled it. Returns the delays between attempts.
 */
function failForever(policy: RetryPolicy, random: () => number, kind: DeliveryKind = "endpoint", failure: Partial<AttemptReport> = { statusCode: 503 }) {
  let clock = T0;
  let lastDelayMs: number | null = null;
  const delays: number[] = [];
  for (let attemptNo = 1; attemptNo < 100; attemptNo++) {
    const s = settle({
      attempt: { startedAt: new Date(clock), statusCode: null, errorClass: null, ...failure },
      delivery: { attemptNo, firstAttemptAt: new Date(T0), lastDelayMs, kind },
      policy,
      endpoint: kind === "endpoint" ? healthy : null,
      nowMs: clock,
      random,
      disableAfterMs: DISABLE_AFTER,
    });
    if (s.outcome === "dead") return { attempts: attemptNo, delays, deadReason: s.deliveryUpdate.dead_reason, lastAt: clock };
    expect(s.outcome).toBe("retry");
    const next = s.deliveryUpdate.next_attempt_at!.getTime();
    expect(next - clock).toBe(s.deliveryUpdate.last_delay_ms);
    delays.push(next - clock);
    lastDelayMs = s.deliveryUpdate.last_delay_ms;
    clock = next;
  }
  throw new Error("never dead-lettered");
}

/** A small deterministic PRNG (mulberry32), so the jittered runs are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("retry presets end to end (injected clock)", () => {
  it("exponential: 5 attempts at 0, 1, 2, 4, 8 s apart, then dead (exhausted)", () => {
    const r = failForever({ kind: "exponential" }, () => 0.5);
    expect(r).toEqual({ attempts: 5, delays: [1, 2, 4, 8].map((s) => s * SECOND), deadReason: "exhausted", lastAt: T0 + 15 * SECOND });
  });

  it("callback: 7 attempts, 3, 9, 27, 81, 243, 729 min apart — also for a callback delivery by policyFor", () => {
    const expected = [3, 9, 27, 81, 243, 729].map((m) => m * MINUTE);
    expect(failForever({ kind: "callback" }, () => 0.5)).toMatchObject({ attempts: 7, delays: expected, deadReason: "exhausted" });
    expect(failForever(policyFor("callback", { kind: "exponential" }).policy, () => 0.5, "callback", { errorClass: "connect" })).toMatchObject({ attempts: 7, delays: expected });
  });

  it("jittered: 4 attempts; decorrelated delays from 15 s, median path 30, 52.5, 86.25 s", () => {
    expect(failForever({ kind: "jittered" }, () => 0.5)).toMatchObject({ attempts: 4, delays: [30_000, 52_500, 86_250], deadReason: "exhausted" });
    for (let seed = 1; seed <= 50; seed++) {
      const r = failForever({ kind: "jittered" }, seeded(seed));
      expect(r.attempts).toBe(4);
      let prev = 15 * SECOND;
      for (const d of r.delays) {
        expect(d).toBeGreaterThanOrEqual(15 * SECOND);
        expect(d).toBeLessThanOrEqual(Math.min(5 * MINUTE, prev * 3));
        prev = d;
      }
      expect(r.delays[0]!).toBeLessThan(45 * SECOND);
      expect(r.lastAt - T0).toBeLessThanOrEqual(8 * MINUTE);
    }
  });

  it("default: 14 attempts, 30 s doubling (±30 %), all within about 3 days", () => {
    const nominal = Array.from({ length: 13 }, (_, k) => 30 * SECOND * 2 ** k);
    expect(failForever({ kind: "default" }, () => 0.5)).toMatchObject({ attempts: 14, delays: nominal, deadReason: "exhausted" });
    for (let seed = 1; seed <= 30; seed++) {
      const r = failForever({ kind: "default" }, seeded(seed));
      expect(r.attempts).toBe(14);
      r.delays.forEach((d, k) => {
        expect(d).toBeGreaterThanOrEqual(Math.round(nominal[k]! * 0.7));
        expect(d).toBeLessThanOrEqual(Math.round(nominal[k]! * 1.3));
      });
    }
    // Upward jitter is cut at the 72 h window; a late delivery still waits at least the smallest delay.
    const slowest = failForever({ kind: "default" }, () => 0.999999);
    expect(slowest.attempts).toBe(14);
    expect(slowest.lastAt - T0).toBeLessThanOrEqual(72 * HOUR + Math.round(nominal[12]! * 0.7));
  });

  it("custom: the listed delays, one attempt more than there are delays", () => {
    expect(failForever({ kind: "custom", delaysSeconds: [0, 5, 60, 3600] }, () => 0.5)).toMatchObject({
      attempts: 5,
      delays: [0, 5 * SECOND, 60 * SECOND, 3600 * SECOND],
      deadReason: "exhausted",
    });
  });

  it("a success part-way ends the schedule as delivered", () => {
    const first = settle({ ...status(503), policy: { kind: "exponential" } });
    const next = first.deliveryUpdate.next_attempt_at!.getTime();
    const second = settle(input({ statusCode: 200, startedAt: new Date(next) }, { policy: { kind: "exponential" }, attemptNo: 2, nowMs: next }));
    expect(second.deliveryUpdate).toMatchObject({ status: "delivered", delivered_at: new Date(next) });
  });
});

import { describe, expect, it } from "vitest";
import { classifyResponse, type AttemptResult, type Outcome } from "./classify.js";
import { expectRetryError } from "./expect.fixture.js";

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT
const status = (s: number, retryAfter?: string): Outcome => classifyResponse({ status: s, retryAfter, nowMs: NOW });
const error = (e: NonNullable<AttemptResult["error"]>): Outcome => classifyResponse({ error: e, nowMs: NOW });

describe("classifyResponse", () => {
  it.each([
    [200, { kind: "delivered" }],
    [204, { kind: "delivered" }],
    [299, { kind: "delivered" }],
    [301, { kind: "fatal", reason: "redirect" }],
    [302, { kind: "fatal", reason: "redirect" }],
    [304, { kind: "fatal", reason: "redirect" }],
    [308, { kind: "fatal", reason: "redirect" }],
    [400, { kind: "fatal", reason: "client_error" }],
    [401, { kind: "fatal", reason: "client_error" }],
    [403, { kind: "fatal", reason: "client_error" }],
    [404, { kind: "fatal", reason: "client_error" }],
    [408, { kind: "retryable" }],
    [410, { kind: "gone" }],
    [413, { kind: "fatal", reason: "client_error" }],
    [425, { kind: "retryable" }],
    [429, { kind: "retryable" }],
    [499, { kind: "fatal", reason: "client_error" }],
    [500, { kind: "retryable" }],
    [502, { kind: "retryable" }],
    [503, { kind: "retryable" }],
    [504, { kind: "retryable" }],
    [599, { kind: "retryable" }],
  ] as const)("status %i -> %o", (s, expected) => {
    expect(status(s)).toEqual(expected);
  });

  it.each([
    ["timeout", { kind: "retryable" }],
    ["connect", { kind: "retryable" }],
    ["dns", { kind: "retryable" }],
    ["tls", { kind: "retryable" }],
    ["other", { kind: "retryable" }],
    ["refused_target", { kind: "fatal", reason: "refused_target" }],
  ] as const)("transport error %s -> %o", (e, expected) => {
    expect(error(e)).toEqual(expected);
  });

  it("treats a status that is not a final HTTP answer as a broken exchange (retryable)", () => {
    for (const s of [0, 100, 101, 199, 600, 999, 200.5, Number.NaN]) expect(status(s), String(s)).toEqual({ kind: "retryable" });
  });

  it("honours Retry-After on 429 and 503, in both forms", () => {
    expect(status(429, "120")).toEqual({ kind: "retryable", retryAfterMs: 120_000 });
    expect(status(503, "Wed, 15 Jan 2025 12:05:00 GMT")).toEqual({ kind: "retryable", retryAfterMs: 300_000 });
    expect(status(503, "Wednesday, 15-Jan-25 12:00:10 GMT")).toEqual({ kind: "retryable", retryAfterMs: 10_000 });
    expect(status(429, "Wed Jan 15 12:00:02 2025")).toEqual({ kind: "retryable", retryAfterMs: 2000 });
  });

  it("clamps Retry-After to [1 s, 24 h] and ignores garbage", () => {
    expect(status(429, "0")).toEqual({ kind: "retryable", retryAfterMs: 1000 });
    expect(status(429, "604800")).toEqual({ kind: "retryable", retryAfterMs: 86_400_000 });
    expect(status(503, "Sun, 06 Nov 1994 08:49:37 GMT")).toEqual({ kind: "retryable", retryAfterMs: 1000 });
    expect(status(429, "tomorrow")).toEqual({ kind: "retryable" });
    expect(status(503, "-30")).toEqual({ kind: "retryable" });
    expect(status(429, "")).toEqual({ kind: "retryable" });
  });

  it("ignores Retry-After on every other status", () => {
    for (const s of [200, 301, 408, 425, 500, 502, 504]) expect(status(s, "120")).not.toHaveProperty("retryAfterMs");
    expect(status(410, "120")).toEqual({ kind: "gone" });
  });

  it("lets a status win over a transport error", () => {
    expect(classifyResponse({ status: 200, error: "timeout", nowMs: NOW })).toEqual({ kind: "delivered" });
    expect(classifyResponse({ status: 404, error: "timeout", nowMs: NOW })).toEqual({ kind: "fatal", reason: "client_error" });
  });

  it("refuses impossible inputs", () => {
    expectRetryError(() => classifyResponse({ nowMs: NOW }), "BAD_ARGUMENT");
    expectRetryError(() => classifyResponse({ error: "eaddrinuse" as never, nowMs: NOW }), "BAD_ARGUMENT");
    expectRetryError(() => classifyResponse({ status: "200" as never, nowMs: NOW }), "BAD_ARGUMENT");
    expectRetryError(() => classifyResponse({ status: 429, retryAfter: "Wed, 15 Jan 2025 12:05:00 GMT", nowMs: Number.NaN }), "BAD_ARGUMENT");
  });
});

import { describe, expect, it } from "vitest";
import { DISABLE_AFTER_MS, shouldDisableEndpoint } from "./endpoint.js";
import { expectRetryError } from "./expect.fixture.js";

const DAY = 86_400_000;

describe("shouldDisableEndpoint", () => {
  it("disables after 5 days of unbroken failure, not before", () => {
    expect(DISABLE_AFTER_MS).toBe(5 * DAY);
    expect(shouldDisableEndpoint({ failingSinceMs: 0, nowMs: 5 * DAY - 1 })).toBe(false);
    expect(shouldDisableEndpoint({ failingSinceMs: 0, nowMs: 5 * DAY })).toBe(true);
    expect(shouldDisableEndpoint({ failingSinceMs: 1000, nowMs: 30 * DAY })).toBe(true);
  });

  it("never disables a healthy endpoint", () => {
    expect(shouldDisableEndpoint({ failingSinceMs: null, nowMs: 30 * DAY })).toBe(false);
    expect(shouldDisableEndpoint({ failingSinceMs: undefined, nowMs: 30 * DAY })).toBe(false);
    // A failure stamped in the future (clock skew) is not yet old enough.
    expect(shouldDisableEndpoint({ failingSinceMs: 10 * DAY, nowMs: DAY })).toBe(false);
  });

  it("takes a custom threshold", () => {
    expect(shouldDisableEndpoint({ failingSinceMs: 0, nowMs: DAY, thresholdMs: DAY })).toBe(true);
    expect(shouldDisableEndpoint({ failingSinceMs: 0, nowMs: DAY - 1, thresholdMs: DAY })).toBe(false);
  });

  it("refuses impossible inputs", () => {
    expectRetryError(() => shouldDisableEndpoint({ failingSinceMs: 0, nowMs: Number.NaN }), "BAD_ARGUMENT");
    expectRetryError(() => shouldDisableEndpoint({ failingSinceMs: Number.POSITIVE_INFINITY, nowMs: 0 }), "BAD_ARGUMENT");
    expectRetryError(() => shouldDisableEndpoint({ failingSinceMs: 0, nowMs: 0, thresholdMs: 0 }), "BAD_ARGUMENT");
    expectRetryError(() => shouldDisableEndpoint({ failingSinceMs: 0, nowMs: 0, thresholdMs: -1 }), "BAD_ARGUMENT");
  });
});

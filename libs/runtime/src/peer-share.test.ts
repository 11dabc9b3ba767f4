import { describe, expect, it } from "vitest";
import { concurrencyShare, rateShare } from "./peer-share.js";

describe("limit shares", () => {
  it("splits a rate exactly, so the shares add up to the limit", () => {
    expect(rateShare(100, 1)).toBe(100);
    expect(rateShare(100, 2)).toBe(50);
    expect(rateShare(100, 3) * 3).toBeCloseTo(100, 9);
  });

  it("rounds slots down so their sum never exceeds the limit, but leaves each process one", () => {
    expect(concurrencyShare(16, 1)).toBe(16);
    expect(concurrencyShare(16, 3)).toBe(5);
    expect(concurrencyShare(2, 5)).toBe(1);
  });

  it("counts this process when the count is missing or nonsense", () => {
    for (const peers of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(rateShare(10, peers)).toBe(10);
      expect(concurrencyShare(10, peers)).toBe(10);
    }
  });
});

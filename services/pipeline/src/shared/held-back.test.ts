import { describe, expect, it } from "vitest";
import { HeldBackDelay } from "./held-back.js";

const held = { heldBack: true, progressed: false };

describe("HeldBackDelay", () => {
  it("waits the idle interval when nothing is held back", () => {
    expect(new HeldBackDelay(1, { warn: () => undefined }).after({ heldBack: false, progressed: false }, 500)).toBe(500);
  });

  it("doubles while held back without progress, up to the idle interval, and starts over on progress or release", () => {
    const d = new HeldBackDelay(1, { warn: () => undefined });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(() => d.after(held, 100))).toEqual([1, 2, 4, 8, 16, 32, 64, 100, 100, 100]);
    expect(d.after({ heldBack: true, progressed: true }, 100)).toBe(1);
    expect(d.after(held, 100)).toBe(2);
    expect(d.after({ heldBack: false, progressed: true }, 100)).toBe(100);
    expect(d.after(held, 100)).toBe(1);
  });

  it("warns when held back without progress for 10 s, then every 10 s while it lasts, and not after progress", () => {
    let now = 0;
    const warnings: number[] = [];
    const d = new HeldBackDelay(1, { warn: (o: { stuckForMs: number }) => void warnings.push(o.stuckForMs) }, () => now);
    for (; now <= 25_000; now += 500) d.after(held, 100);
    expect(warnings).toEqual([10_000, 20_000]);
    d.after({ heldBack: true, progressed: true }, 100);
    now += 9_000;
    d.after(held, 100);
    expect(warnings).toEqual([10_000, 20_000]);
  });
});

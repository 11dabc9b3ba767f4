import { describe, expect, it } from "vitest";
import { TargetGate } from "./target-gate.js";

function gate() {
  let now = 1_000_000;
  const g = new TargetGate({ queue: 3, hardCap: 10, slowMs: 1_000, now: () => now });
  return {
    g,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("TargetGate", () => {
  it("lets a target that answers take everything up to the hard cap, counting claims not yet sent", () => {
    const { g } = gate();
    for (let i = 0; i < 6; i++) expect(g.claim("a", 4)).toBe(true);
    expect(g.claim("a", 4)).toBe(false); // 4 in the sender + 6 claimed = the cap of 10
    g.release("a");
    expect(g.claim("a", 4)).toBe(true);
    expect(g.claim("b", 0)).toBe(true);
  });

  it("takes at most `queue` for a target whose exchange has run longer than slowMs, and parks it longer the longer it stays slow", () => {
    const { g, advance } = gate();
    const end = g.started("a");
    expect(g.claim("a", 5)).toBe(true);
    advance(1_000);
    expect(g.isSlow("a")).toBe(true);
    expect(g.claim("a", 5)).toBe(false);
    expect(g.claim("a", 1)).toBe(true); // under the slow queue bound
    expect(g.parkMs("a", 1_000)).toBe(1_000);
    advance(60_000);
    expect(g.parkMs("a", 1_000)).toBe(30_000);
    advance(3_600_000);
    expect(g.parkMs("a", 1_000)).toBe(5 * 60_000);
    end();
    expect(g.isSlow("a")).toBe(false);
    expect(g.parkMs("a", 1_000)).toBe(1_000);
    // Other targets are not affected by a slow one.
    expect(g.isSlow("b")).toBe(false);
  });

  it("tracks exchanges that start in the same millisecond apart, and forgets idle targets", () => {
    const { g, advance } = gate();
    const one = g.started("a");
    const two = g.started("a");
    one();
    advance(2_000);
    expect(g.isSlow("a")).toBe(true);
    two();
    expect(g.isSlow("a")).toBe(false);
  });
});

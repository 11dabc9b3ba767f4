import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

describe("newId", () => {
  it("is the prefix and 22 base62 characters, never twice, every character about equally likely", () => {
    const ids = Array.from({ length: 20_000 }, () => newId("dlv"));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^dlv_[0-9A-Za-z]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const counts = new Map<string, number>();
    for (const id of ids) for (const c of id.slice(4)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 440,000 characters: ~7,097 each; a biased mapping (e.g. b % 62 over all 256 bytes) is off by ~25 %.
    for (const n of counts.values()) expect(Math.abs(n / 7_097 - 1)).toBeLessThan(0.1);
  });
});

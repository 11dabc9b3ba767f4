import { describe, expect, it } from "vitest";
import { newId, newOrderedId } from "./ids.js";

/** Every character of the ids after the prefix, counted: each of the 62 should come up about equally often. */
function expectUniform(chars: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  expect(counts.size).toBe(62);
  const expected = chars.length / 62;
  // A biased mapping (e.g. b % 62 over all 256 bytes) is off by ~25 %.
  for (const n of counts.values()) expect(Math.abs(n / expected - 1)).toBeLessThan(0.1);
}

describe("newId", () => {
  it("is the prefix and 22 base62 characters, never twice, every character about equally likely", () => {
    const ids = Array.from({ length: 20_000 }, () => newId("dlv"));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^dlv_[0-9A-Za-z]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expectUniform(ids.flatMap((id) => [...id.slice(4)]));
  });
});

describe("newOrderedId", () => {
  it("has newId's shape: the prefix and 22 base62 characters", () => {
    expect(newOrderedId("ent")).toMatch(/^ent_[0-9A-Za-z]{22}$/);
    expect(newOrderedId("dlv", 0)).toMatch(/^dlv_00000000[0-9A-Za-z]{14}$/);
  });

  it("starts with the millisecond in base 62, so ids of later milliseconds sort after earlier ones byte for byte", () => {
    expect(newOrderedId("dlv", 61).slice(4, 12)).toBe("0000000z");
    expect(newOrderedId("dlv", 62).slice(4, 12)).toBe("00000010");
    // 2026-12-05T00:00:00.000Z
    const ms = Date.UTC(2026, 11, 5);
    const time = newOrderedId("dlv", ms).slice(4, 12);
    expect([...time].reduce((n, c) => n * 62 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".indexOf(c), 0)).toBe(ms);
    const times = [0, 1, 61, 62, 3_843, 3_844, ms - 1, ms, ms + 1, 218_340_105_584_895];
    const ids = times.map((t) => newOrderedId("ent", t));
    expect([...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(ids);
  });

  it("never repeats within a millisecond, its 14 random characters about equally likely", () => {
    const ids = Array.from({ length: 30_000 }, () => newOrderedId("dlv", 1_764_892_800_000));
    expect(new Set(ids).size).toBe(ids.length);
    expectUniform(ids.flatMap((id) => [...id.slice(12)]));
  });
});

import { describe, expect, it } from "vitest";
import { TtlCache } from "./ttl-cache.js";

describe("TtlCache", () => {
  it("loads misses in one call, serves hits until they expire, and shares a load between concurrent callers", async () => {
    let now = 0;
    const cache = new TtlCache<number>(100, () => now);
    const loads: string[][] = [];
    const load = async (missing: string[]) => {
      loads.push(missing);
      await new Promise((r) => setTimeout(r, 5));
      return new Map(missing.filter((k) => k !== "none").map((k) => [k, k.length]));
    };
    const [a, b] = await Promise.all([cache.getMany(["ab", "abc", "none"], load, -1), cache.getMany(["abc"], load, -1)]);
    expect(Object.fromEntries(a)).toEqual({ ab: 2, abc: 3, none: -1 });
    expect(Object.fromEntries(b)).toEqual({ abc: 3 });
    expect(loads).toEqual([["ab", "abc", "none"]]);
    now = 99;
    await cache.getMany(["ab"], load, -1);
    expect(loads).toHaveLength(1);
    now = 100;
    await cache.getMany(["ab"], load, -1);
    expect(loads).toEqual([["ab", "abc", "none"], ["ab"]]);
    cache.invalidate("abc");
    cache.update("ab", (v) => v + 10);
    expect(Object.fromEntries(await cache.getMany(["ab", "abc"], load, -1))).toEqual({ ab: 12, abc: 3 });
    expect(loads.at(-1)).toEqual(["abc"]);
  });

  it("loads again after a failed load", async () => {
    const cache = new TtlCache<number>(1_000);
    await expect(cache.getMany(["k"], async () => Promise.reject(new Error("db down")), 0)).rejects.toThrow("db down");
    expect(Object.fromEntries(await cache.getMany(["k"], async () => new Map([["k", 7]]), 0))).toEqual({ k: 7 });
  });
});

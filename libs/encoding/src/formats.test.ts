import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isHex32, isId, isIntIn, isTimeMs } from "./formats.js";

describe("value formats (FORMAT §1)", () => {
  it("a time is exactly what Date#toISOString writes for a date in years 0000–9999", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("0000-01-01T00:00:00.000Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), (d) => {
        expect(isTimeMs(d.toISOString())).toBe(true);
      }),
    );
    // Any string of the pattern is a time exactly when a Date reads it back unchanged.
    const pattern = fc.tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
    );
    const pad = (n: number, w = 2) => String(n).padStart(w, "0");
    fc.assert(
      fc.property(pattern, ([y, mo, d, h, mi, s]) => {
        const text = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.123Z`;
        const date = new Date(text);
        expect(isTimeMs(text)).toBe(!Number.isNaN(date.getTime()) && date.toISOString() === text);
      }),
      { numRuns: 2000 },
    );
    for (const bad of ["2026-02-29T00:00:00.000Z", "2026-12-03T24:00:00.000Z", "2026-12-03T10:00:60.000Z", "2026-12-03T10:00:00Z", "2026-12-03T10:00:00.000+00:00", "+012026-12-03T10:00:00.000Z", 1])
      expect(isTimeMs(bad)).toBe(false);
    expect(isTimeMs("2024-02-29T23:59:59.999Z")).toBe(true);
  });

  it("hashes, ids and integers", () => {
    expect(isHex32("ab".repeat(32))).toBe(true);
    expect(isHex32("AB".repeat(32))).toBe(false);
    expect(isHex32("ab".repeat(31))).toBe(false);
    expect(isId("evt_1")).toBe(true);
    expect(isId("_evt")).toBe(false);
    expect(isId("a".repeat(129))).toBe(false);
    expect(isIntIn(3, 1, 3)).toBe(true);
    expect(isIntIn(4, 1, 3)).toBe(false);
    expect(isIntIn(1.5, 1, 3)).toBe(false);
    expect(isIntIn("2", 1, 3)).toBe(false);
  });
});

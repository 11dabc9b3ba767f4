import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseHttpDate } from "./http-date.js";
import { parseRetryAfter, RETRY_AFTER_MAX_MS, RETRY_AFTER_MIN_MS } from "./retry-after.js";

// RFC 9110 §5.6.7's example instant, in all three formats.
const RFC_EXAMPLE_MS = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT

describe("parseHttpDate", () => {
  it("accepts the three RFC 9110 formats", () => {
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).toBe(RFC_EXAMPLE_MS);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(RFC_EXAMPLE_MS);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994", NOW)).toBe(RFC_EXAMPLE_MS);
  });

  it("resolves rfc850 two-digit years to within 50 years of now", () => {
    expect(parseHttpDate("Wednesday, 15-Jan-70 12:00:00 GMT", NOW)).toBe(Date.UTC(2070, 0, 15, 12));
    expect(parseHttpDate("Friday, 15-Jan-34 12:00:00 GMT", Date.UTC(2090, 0, 1))).toBe(Date.UTC(2134, 0, 15, 12));
    expect(parseHttpDate("Wednesday, 15-Jan-25 12:00:00 GMT", NOW)).toBe(NOW);
    // 2080 would be 55 years ahead, so "80" is 1980.
    expect(parseHttpDate("Tuesday, 15-Jan-80 12:00:00 GMT", NOW)).toBe(Date.UTC(1980, 0, 15, 12));
  });

  it("allows a leap second", () => {
    expect(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT", NOW)).toBe(Date.UTC(2017, 0, 1));
  });

  it("round-trips Date#toUTCString (IMF-fixdate)", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const whole = Math.floor(ms / 1000) * 1000;
        expect(parseHttpDate(new Date(whole).toUTCString(), NOW)).toBe(whole);
      }),
    );
  });

  it("refuses anything that is not exactly one of the formats", () => {
    for (const bad of [
      "",
      "Sun, 6 Nov 1994 08:49:37 GMT", // day must be 2DIGIT
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 06 Nov 1994 08:49:37 +0000",
      "sun, 06 nov 1994 08:49:37 GMT", // case-sensitive
      "Sun,  06 Nov 1994 08:49:37 GMT",
      " Sun, 06 Nov 1994 08:49:37 GMT",
      "Mon, 06 Nov 1994 08:49:37 GMT", // wrong day name
      "Tue, 30 Feb 2024 00:00:00 GMT", // no such date
      "Thu, 29 Feb 2024 24:00:00 GMT",
      "Thu, 29 Feb 2024 23:60:00 GMT",
      "Thu, 29 Feb 2024 23:59:61 GMT",
      "Wed, 00 Jan 2025 00:00:00 GMT",
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sun, 06-Nov-94 08:49:37 GMT",
      "Sun Nov 6 08:49:37 1994",
      "Sun Nov  6 08:49:37 1994 GMT",
      "1994-11-06T08:49:37Z",
      "784111777",
    ]) {
      expect(parseHttpDate(bad, NOW), bad).toBeUndefined();
    }
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter("  7\t", NOW)).toBe(7000);
    expect(parseRetryAfter("0042", NOW)).toBe(42_000);
  });

  it("reads an HTTP-date as the time left until it", () => {
    expect(parseRetryAfter("Wed, 15 Jan 2025 12:01:30 GMT", NOW)).toBe(90_000);
    expect(parseRetryAfter("Wednesday, 15-Jan-25 12:00:05 GMT", NOW)).toBe(5000);
    expect(parseRetryAfter("Wed Jan 15 13:00:00 2025", NOW)).toBe(3_600_000);
  });

  it("clamps to [1 s, 24 h]", () => {
    expect(parseRetryAfter("0", NOW)).toBe(RETRY_AFTER_MIN_MS);
    expect(parseRetryAfter("86400", NOW)).toBe(RETRY_AFTER_MAX_MS);
    expect(parseRetryAfter("86401", NOW)).toBe(RETRY_AFTER_MAX_MS);
    expect(parseRetryAfter("9".repeat(400), NOW)).toBe(RETRY_AFTER_MAX_MS);
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).toBe(RETRY_AFTER_MIN_MS); // past
    expect(parseRetryAfter("Wed, 15 Jan 2025 12:00:00 GMT", NOW)).toBe(RETRY_AFTER_MIN_MS); // now
    expect(parseRetryAfter("Fri, 15 Jan 2027 12:00:00 GMT", NOW)).toBe(RETRY_AFTER_MAX_MS);
  });

  it("ignores garbage", () => {
    for (const bad of [undefined, "", " ", "-1", "+5", "1.5", "1e3", "0x10", "120s", "120, 120", "soon", "Infinity", "NaN", "٣", "12 0", "\n120"]) {
      expect(parseRetryAfter(bad, NOW), String(bad)).toBeUndefined();
    }
  });

  it("is always undefined or within [1 s, 24 h]", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\d{1,12}$/)), fc.integer({ min: 0, max: 2 ** 45 }), (v, now) => {
        const ms = parseRetryAfter(v, now);
        if (ms !== undefined) {
          expect(ms).toBeGreaterThanOrEqual(RETRY_AFTER_MIN_MS);
          expect(ms).toBeLessThanOrEqual(RETRY_AFTER_MAX_MS);
        }
      }),
    );
  });
});

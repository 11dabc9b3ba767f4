import { describe, expect, it } from "vitest";
import { expectRetryError } from "./expect.fixture.js";
import { DEFAULT_RETRY_POLICY, parseRetryPolicy, RETRY_POLICY_KINDS, type RetryPolicy } from "./policy.js";
import { RetryPolicyErrorCodes } from "./errors.js";

describe("parseRetryPolicy", () => {
  it("accepts every preset kind", () => {
    for (const kind of ["exponential", "callback", "jittered", "default"] as const) expect(parseRetryPolicy({ kind })).toEqual({ kind });
    expect(RETRY_POLICY_KINDS).toEqual(["exponential", "callback", "jittered", "default", "custom"]);
    expect(DEFAULT_RETRY_POLICY).toEqual({ kind: "default" });
  });

  it("accepts custom delays at the limits and copies the array", () => {
    const delays = [0, 1, 604_800];
    const p = parseRetryPolicy({ kind: "custom", delaysSeconds: delays });
    expect(p).toEqual({ kind: "custom", delaysSeconds: [0, 1, 604_800] });
    delays.push(5);
    expect(p).toEqual({ kind: "custom", delaysSeconds: [0, 1, 604_800] });
    expect(parseRetryPolicy({ kind: "custom", delaysSeconds: Array(50).fill(60) })).toMatchObject({ kind: "custom" });
    expect(parseRetryPolicy(JSON.parse('{"kind":"custom","delaysSeconds":[-0]}'))).toEqual({ kind: "custom", delaysSeconds: [0] });
    expect(Object.is((parseRetryPolicy({ kind: "custom", delaysSeconds: [-0] }) as Extract<RetryPolicy, { kind: "custom" }>).delaysSeconds[0], 0)).toBe(true);
  });

  it("refuses things that are not plain objects", () => {
    for (const bad of [null, undefined, "default", 3, [], [{ kind: "default" }], new Date(0), new Map()]) expectRetryError(() => parseRetryPolicy(bad), "NOT_AN_OBJECT");
    expect(parseRetryPolicy(Object.assign(Object.create(null), { kind: "default" }))).toEqual({ kind: "default" });
  });

  it("refuses missing or unknown kinds", () => {
    for (const bad of [{}, { kind: "Default" }, { kind: "linear" }, { kind: 1 }, { kind: "toString" }, { kind: null }]) expectRetryError(() => parseRetryPolicy(bad), "UNKNOWN_KIND", "kind");
    expectRetryError(() => parseRetryPolicy(Object.create({ kind: "default" })), "NOT_AN_OBJECT");
  });

  it("refuses unknown fields, including delaysSeconds on a preset", () => {
    expectRetryError(() => parseRetryPolicy({ kind: "default", maxAttempts: 3 }), "UNKNOWN_FIELD", "maxAttempts");
    expectRetryError(() => parseRetryPolicy({ kind: "exponential", delaysSeconds: [1] }), "UNKNOWN_FIELD", "delaysSeconds");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaySeconds: [1] }), "UNKNOWN_FIELD", "delaySeconds");
    expectRetryError(() => parseRetryPolicy(JSON.parse('{"kind":"default","__proto__":{"x":1}}')), "UNKNOWN_FIELD", "__proto__");
    expectRetryError(() => parseRetryPolicy({ kind: "default", [Symbol("s")]: 1 }), "UNKNOWN_FIELD");
  });

  it("refuses bad custom delays with the offending field", () => {
    expectRetryError(() => parseRetryPolicy({ kind: "custom" }), "BAD_DELAYS", "delaysSeconds");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: "1,2" }), "BAD_DELAYS", "delaysSeconds");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: [] }), "DELAY_COUNT", "delaysSeconds");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: Array(51).fill(1) }), "DELAY_COUNT", "delaysSeconds");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: [1, -1] }), "DELAY_RANGE", "delaysSeconds.1");
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: [604_801] }), "DELAY_RANGE", "delaysSeconds.0");
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, "5", null, true]) {
      expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: [5, bad] }), "DELAY_RANGE", "delaysSeconds.1");
    }
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test.
    expectRetryError(() => parseRetryPolicy({ kind: "custom", delaysSeconds: [1, , 3] }), "DELAY_RANGE", "delaysSeconds.1");
  });

  it("has SCREAMING_SNAKE error codes", () => {
    for (const code of RetryPolicyErrorCodes) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
});

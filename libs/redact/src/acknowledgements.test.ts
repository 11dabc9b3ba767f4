import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectRedactionError } from "./expect.fixture.js";
import { compareAcknowledgement, matchesSubscription, requiredAcknowledgements } from "./index.js";

describe("matchesSubscription", () => {
  it.each([
    ["identity.registration.final", "*.final", true],
    ["identity.registration.final", "identity.*", true],
    ["identity.registration.final", "*", true],
    ["identity.registration.final", "identity.registration.final", true],
    ["identity.registration.final", "*registration*", true],
    ["identity.registration.final", "i*n*l", true],
    ["identity", "identity.*", false], // the dot is literal and must be there
    ["identity.", "identity.*", true], // * matches the empty run
    [".final", "*.final", true],
    ["identity.registration.final", "*.Final", false], // case-sensitive
    ["identity.registration.final", "identity.registration", false],
    ["identity.registration.final", "identity.registration.final.x", false],
    ["abc", "a?c", false], // ? is literal
    ["a?c", "a?c", true],
    ["a.c", "a[.]c", false],
    ["", "*", true],
    ["", "", true],
    ["a", "", false],
    ["", "a", false],
    ["aaa", "a*a*a", true],
    ["aa", "a*a*a", false],
    ["ab", "**b**", true],
  ])("%j against %j -> %s", (name, pattern, expected) => {
    expect(matchesSubscription(name, pattern)).toBe(expected);
  });

  it("agrees with a regex reference on random inputs", () => {
    const s = fc.string({ unit: fc.constantFrom("a", "b", "."), maxLength: 8 });
    const p = fc.string({ unit: fc.constantFrom("a", "b", ".", "*"), maxLength: 6 });
    fc.assert(
      fc.property(s, p, (name, pattern) => {
        const re = new RegExp("^" + pattern.replace(/\./g, "\\.").replace(/\*/g, "[^]*") + "$");
        expect(matchesSubscription(name, pattern)).toBe(re.test(name));
      }),
    );
  });

  it("stays fast on adversarial patterns", () => {
    const start = performance.now();
    expect(matchesSubscription("a".repeat(5000), "*a".repeat(200) + "b")).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("BAD_ARGUMENT for non-strings", () => {
    expectRedactionError(() => matchesSubscription(1 as never, "*"), "BAD_ARGUMENT");
  });
});

describe("requiredAcknowledgements", () => {
  const catalog = [
    { name: "identity.registration.final", personalDataFields: ["/email", "/result/taxId"] },
    { name: "identity.registration.started", personalDataFields: ["/email"] },
    { name: "payment.settled", personalDataFields: ["/holders/0/name", "/a~1b"] },
    { name: "system.ping", personalDataFields: [] },
  ];

  it("one entry per personal field of every matched type, sorted, pointer escapes kept", () => {
    expect(requiredAcknowledgements(catalog, ["*.final"])).toEqual(["identity.registration.final.email", "identity.registration.final.result/taxId"]);
    expect(requiredAcknowledgements(catalog, ["payment.*", "system.*"])).toEqual(["payment.settled.a~1b", "payment.settled.holders/0/name"]);
    expect(requiredAcknowledgements(catalog, ["*"])).toEqual([
      "identity.registration.final.email",
      "identity.registration.final.result/taxId",
      "identity.registration.started.email",
      "payment.settled.a~1b",
      "payment.settled.holders/0/name",
    ]);
  });

  it("de-duplicates overlapping patterns and repeated fields", () => {
    const cat = [...catalog, { name: "identity.registration.final", personalDataFields: ["/email"] }];
    expect(requiredAcknowledgements(cat, ["identity.*", "*.final", "identity.registration.final"])).toEqual([
      "identity.registration.final.email",
      "identity.registration.final.result/taxId",
      "identity.registration.started.email",
    ]);
  });

  it("nothing for no subscriptions or no match", () => {
    expect(requiredAcknowledgements(catalog, [])).toEqual([]);
    expect(requiredAcknowledgements(catalog, ["system.*", "nope"])).toEqual([]);
  });

  it("AMBIGUOUS_ACKNOWLEDGEMENT across the whole catalog, even when only one side is subscribed", () => {
    const cat = [
      { name: "a.b", personalDataFields: ["/c"] },
      { name: "a", personalDataFields: ["/b.c"] },
    ];
    expectRedactionError(() => requiredAcknowledgements(cat, ["a"]), "AMBIGUOUS_ACKNOWLEDGEMENT", /"a\.b\.c"/);
    expectRedactionError(() => requiredAcknowledgements(cat, []), "AMBIGUOUS_ACKNOWLEDGEMENT");
  });

  it("BAD_POINTER / BAD_ARGUMENT for a malformed catalog", () => {
    expectRedactionError(() => requiredAcknowledgements([{ name: "x", personalDataFields: ["email"] }], ["*"]), "BAD_POINTER");
    expectRedactionError(() => requiredAcknowledgements([{ name: "x", personalDataFields: [""] }], ["*"]), "BAD_POINTER");
    expectRedactionError(() => requiredAcknowledgements([{ name: "x", personalDataFields: "/email" as never }], ["*"]), "BAD_ARGUMENT");
    expectRedactionError(() => requiredAcknowledgements([{ personalDataFields: [] } as never], ["*"]), "BAD_ARGUMENT");
    expectRedactionError(() => requiredAcknowledgements({} as never, ["*"]), "BAD_ARGUMENT");
    expectRedactionError(() => requiredAcknowledgements(catalog, "*" as never), "BAD_ARGUMENT");
  });
});

describe("compareAcknowledgement", () => {
  it("reports both differences, sorted and de-duplicated", () => {
    expect(compareAcknowledgement(["t.b", "t.a", "t.c"], ["t.c", "x.y", "t.a", "x.y", "T.A"])).toEqual({
      missing: ["t.b"],
      extra: ["T.A", "x.y"],
    });
    expect(compareAcknowledgement(["t.a"], ["t.a"])).toEqual({ missing: [], extra: [] });
    expect(compareAcknowledgement([], [])).toEqual({ missing: [], extra: [] });
  });

  it("BAD_ARGUMENT for non-string lists", () => {
    expectRedactionError(() => compareAcknowledgement(["a"], [1 as never]), "BAD_ARGUMENT");
    expectRedactionError(() => compareAcknowledgement(null as never, []), "BAD_ARGUMENT");
  });
});

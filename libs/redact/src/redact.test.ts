import { describe, expect, it } from "vitest";
import { countingRandom, expectRedactionError } from "./expect.fixture.js";
import { canonicalJson, computeCommitment, redact, verifyRemovedField } from "./index.js";
import type { JsonValue } from "./index.js";

const event = (): JsonValue => ({
  email: "alice@example.com",
  result: { taxId: "DE123", score: 7 },
  holders: [
    { name: "Alice", share: 60 },
    { name: "Bob", share: 40 },
  ],
  tags: ["a", "b", "c"],
  note: null,
});

describe("redact thin", () => {
  it("deletes object members, nulls array elements, and records sorted commitments", () => {
    const data = event();
    const random = countingRandom();
    const { payload, removed } = redact(data, ["/result/taxId", "/email", "/holders/0/name", "/tags/1"], { shape: "thin", random });
    expect(payload).toEqual({
      result: { score: 7 },
      holders: [{ share: 60 }, { name: "Bob", share: 40 }],
      tags: ["a", null, "c"],
      note: null,
    });
    expect(removed.map((r) => r.path)).toEqual(["/email", "/holders/0/name", "/result/taxId", "/tags/1"]);
    // Salts are drawn in path order: 00..0f, 10..1f, ...
    expect(removed[0]).toEqual({
      path: "/email",
      salt: "AAECAwQFBgcICQoLDA0ODw",
      commitment: computeCommitment("/email", "AAECAwQFBgcICQoLDA0ODw", "alice@example.com"),
    });
    expect(removed[1]!.salt).toBe("EBESExQVFhcYGRobHB0eHw");
    for (const r of removed) verifyRemovedField(data, r);
  });

  it("keeps sibling indexes: removing a whole array element leaves null in its place", () => {
    const { payload, removed } = redact(event(), ["/holders/0"], { shape: "thin" });
    expect((payload as { holders: unknown[] }).holders).toEqual([null, { name: "Bob", share: 40 }]);
    expect(removed).toHaveLength(1);
  });

  it("skips pointers that resolve to nothing, without error", () => {
    const data = event();
    const { payload, removed } = redact(data, ["/phone", "/result/taxId/x", "/note/x", "/holders/2/name", "/holders/-", "/holders/00", "/email/0", "/constructor", "/tags/x"], { shape: "thin" });
    expect(removed).toEqual([]);
    expect(payload).toEqual(data);
  });

  it("removes present null values and records them", () => {
    const { payload, removed } = redact({ a: null, b: [null] }, ["/a", "/b/0"], { shape: "thin", random: countingRandom() });
    expect(payload).toEqual({ b: [null] });
    expect(removed.map((r) => r.path)).toEqual(["/a", "/b/0"]);
    expect(removed[0]!.commitment).toBe(computeCommitment("/a", removed[0]!.salt, null));
  });

  it("records nested paths separately, each committed over its own original value", () => {
    const data = { a: { b: "secret", c: 1 } };
    const { payload, removed } = redact(data, ["/a/b", "/a"], { shape: "thin" });
    expect(payload).toEqual({});
    expect(removed.map((r) => r.path)).toEqual(["/a", "/a/b"]);
    verifyRemovedField(data, removed[0]!);
    verifyRemovedField(data, removed[1]!);
  });

  it("treats * and - as literal keys (no wildcards)", () => {
    const { payload, removed } = redact({ "*": 1, a: 2, "-": 3 }, ["/*", "/-"], { shape: "thin" });
    expect(payload).toEqual({ a: 2 });
    expect(removed.map((r) => r.path)).toEqual(["/*", "/-"]);
  });

  it("handles escaped and odd keys, including an own __proto__", () => {
    const data = JSON.parse('{"a/b":1,"m~n":2,"":3,"__proto__":{"x":4},"keep":5}') as JsonValue;
    const { payload, removed } = redact(data, ["/a~1b", "/m~0n", "/", "/__proto__/x"], { shape: "thin" });
    expect(canonicalJson(payload)).toBe('{"__proto__":{},"keep":5}');
    expect(removed.map((r) => r.path)).toEqual(["/", "/__proto__/x", "/a~1b", "/m~0n"]);
  });

  it("removes a repeated pointer once", () => {
    const { removed } = redact(event(), ["/email", "/email"], { shape: "thin" });
    expect(removed).toHaveLength(1);
  });

  it("a scalar document has nothing to remove", () => {
    expect(redact("just a string", ["/0"], { shape: "thin" })).toEqual({ payload: "just a string", removed: [] });
  });

  it("never mutates its input and returns unshared containers", () => {
    const data = event();
    const before = structuredClone(data);
    const { payload } = redact(data, ["/email", "/holders/0", "/result/taxId"], { shape: "thin" });
    expect(data).toEqual(before);
    expect((payload as { tags: unknown }).tags).not.toBe((data as { tags: unknown }).tags);
  });

  it("uses globalThis.crypto by default: fresh salts per field and per call", () => {
    const a = redact(event(), ["/email", "/note"], { shape: "thin" }).removed;
    const b = redact(event(), ["/email"], { shape: "thin" }).removed;
    expect(new Set([a[0]!.salt, a[1]!.salt, b[0]!.salt]).size).toBe(3);
    expect(a[0]!.commitment).not.toBe(b[0]!.commitment);
  });
});

describe("redact fat", () => {
  it("removes nothing and returns a deep copy", () => {
    const data = event();
    const { payload, removed } = redact(data, ["/email"], {
      shape: "fat",
      random: () => {
        throw new Error("no randomness needed");
      },
    });
    expect(removed).toEqual([]);
    expect(payload).toEqual(data);
    expect(payload).not.toBe(data);
  });

  it("still validates the pointers", () => {
    expectRedactionError(() => redact(event(), ["/a~2"], { shape: "fat" }), "BAD_POINTER");
  });
});

describe("redact errors", () => {
  it("BAD_ARGUMENT for a bad shape, pointer list or random", () => {
    expectRedactionError(() => redact(event(), ["/email"], { shape: "FAT" as "fat" }), "BAD_ARGUMENT", /shape/);
    expectRedactionError(() => redact(event(), ["/email"], undefined as never), "BAD_ARGUMENT", /shape/);
    expectRedactionError(() => redact(event(), "/email" as never, { shape: "thin" }), "BAD_ARGUMENT", /pointers/);
    expectRedactionError(() => redact(event(), ["/email"], { shape: "thin", random: 42 as never }), "BAD_ARGUMENT", /random/);
  });

  it("BAD_POINTER for the empty pointer or a non-string", () => {
    expectRedactionError(() => redact(event(), [""], { shape: "thin" }), "BAD_POINTER");
    expectRedactionError(() => redact(event(), [7 as never], { shape: "thin" }), "BAD_POINTER");
  });

  it("NOT_JSON for non-JSON data", () => {
    expectRedactionError(() => redact({ n: Infinity } as never, ["/n"], { shape: "thin" }), "NOT_JSON");
    expectRedactionError(() => redact(undefined as never, ["/n"], { shape: "fat" }), "NOT_JSON");
  });

  it("BAD_RANDOM when the random source misbehaves", () => {
    expectRedactionError(() => redact(event(), ["/email"], { shape: "thin", random: () => new Uint8Array(17) }), "BAD_RANDOM");
    expectRedactionError(() => redact(event(), ["/email"], { shape: "thin", random: () => [1, 2] as never }), "BAD_RANDOM");
    // Not consulted when nothing is present.
    expect(redact(event(), ["/phone"], { shape: "thin", random: () => new Uint8Array(0) }).removed).toEqual([]);
  });
});

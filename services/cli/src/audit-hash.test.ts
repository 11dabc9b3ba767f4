import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leafHash, nodeHash } from "@custody/merkle";
import { nativeTreeHasher } from "./audit-hash.js";

describe("the audit's node:crypto tree hasher", () => {
  const hasher = nativeTreeHasher();

  it("gives @custody/merkle's leaf hash for any entry bytes, up to the largest entry and past it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (entry) => {
        expect(hasher.leaf(entry)).toEqual(Buffer.from(leafHash(entry)));
      }),
      { numRuns: 2_000 },
    );
    for (const size of [0, 1, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      const entry = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
      expect(hasher.leaf(entry)).toEqual(Buffer.from(leafHash(entry)));
    }
  });

  it("gives @custody/merkle's node hash for any two hashes, and refuses anything else", () => {
    const h = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(h, h, (left, right) => {
        expect(hasher.node(left, right)).toEqual(Buffer.from(nodeHash(left, right)));
      }),
      { numRuns: 2_000 },
    );
    expect(() => hasher.node(new Uint8Array(31), new Uint8Array(32))).toThrow(/two 32-byte hashes/);
  });

  it("returns digests that stay put: later hashes do not overwrite earlier ones", () => {
    const first = hasher.leaf(Uint8Array.of(1));
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) hasher.node(hasher.leaf(Uint8Array.of(i & 0xff)), first);
    expect(first).toEqual(copy);
  });
});

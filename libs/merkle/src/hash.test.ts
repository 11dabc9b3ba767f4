import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, HASH_SIZE, bytesEqual, emptyRoot, leafHash, nodeHash } from "./hash.js";
import { fromHex, toHex } from "@custody/encoding";
import { rootFromLeafHashes } from "./reference.js";
import { bytes, expectMerkleError } from "./expect.fixture.js";
import { vectors } from "./vectors.fixture.js";

describe("RFC 9162 §2.1.1 hashing", () => {
  it("EMPTY_ROOT is SHA-256 of the empty string", () => {
    expect(HASH_SIZE).toBe(32);
    expect(toHex(EMPTY_ROOT)).toBe(vectors.empty_root);
    expect(toHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("leafHash matches the vectors (0x00 prefix), including the empty entry", () => {
    vectors.leaves_hex.forEach((leaf, i) => {
      expect(toHex(leafHash(fromHex(leaf)))).toBe(vectors.leaf_hashes_hex[i]);
    });
  });

  it("nodeHash matches every interior node of the 8-leaf vector tree (0x01 prefix)", () => {
    for (let level = 1; level <= 3; level++) {
      const below = vectors.node_hashes_by_level[String(level - 1)] ?? [];
      const here = vectors.node_hashes_by_level[String(level)] ?? [];
      expect(here.length).toBe(below.length / 2);
      here.forEach((hex, i) => {
        expect(toHex(nodeHash(fromHex(below[2 * i] ?? ""), fromHex(below[2 * i + 1] ?? "")))).toBe(hex);
      });
    }
  });

  it("leaf and node hashes are domain-separated", () => {
    const a = bytes(32, 1);
    const b = bytes(32, 2);
    const concatenated = new Uint8Array([...a, ...b]);
    expect(bytesEqual(leafHash(concatenated), nodeHash(a, b))).toBe(false);
  });

  it("nodeHash rejects children that are not exactly 32 bytes", () => {
    expectMerkleError(() => nodeHash(bytes(31), bytes(32)), "BAD_HASH_SIZE", "nodeHash left: expected 32-byte hash, got length=31");
    expectMerkleError(() => nodeHash(bytes(32), bytes(33)), "BAD_HASH_SIZE", "nodeHash right: expected 32-byte hash, got length=33");
    expectMerkleError(() => nodeHash("ab".repeat(32) as unknown as Uint8Array, bytes(32)), "BAD_ARGUMENT_TYPE", "nodeHash left: expected Uint8Array, got string");
  });

  it("leafHash rejects non-bytes", () => {
    expectMerkleError(() => leafHash([1, 2] as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "leafHash entry: expected Uint8Array, got array");
    expectMerkleError(() => leafHash(null as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "leafHash entry: expected Uint8Array, got null");
    expectMerkleError(() => leafHash(new Uint16Array(2) as unknown as Uint8Array), "BAD_ARGUMENT_TYPE", "leafHash entry: expected Uint8Array, got Uint16Array");
  });

  it("a caller mutating EMPTY_ROOT cannot corrupt the library's empty root", () => {
    const saved = EMPTY_ROOT.slice();
    EMPTY_ROOT[0] = (EMPTY_ROOT[0] ?? 0) ^ 0xff;
    try {
      expect(toHex(rootFromLeafHashes([]))).toBe(vectors.empty_root);
      expect(toHex(emptyRoot())).toBe(vectors.empty_root);
    } finally {
      EMPTY_ROOT.set(saved);
    }
  });

  it("bytesEqual compares length and content", () => {
    expect(bytesEqual(bytes(3, 1), bytes(3, 1))).toBe(true);
    expect(bytesEqual(bytes(3, 1), bytes(4, 1))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
  });
});

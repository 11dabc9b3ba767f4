import * as ed from "@noble/ed25519";
import { describe, expect, it } from "vitest";
import { ed25519Sign, isUsablePublicKey, publicKeyFromSeed, verifyEd25519 } from "./index.js";

/**
 * One Ed25519 policy for the platform and the verifier (FORMAT.md §1): strict RFC 8032, cofactorless,
 * canonical S, R and A, no small-order A. Under ZIP-215 (noble's default) a small-order key accepts
 * the all-zero signature for any message; here nothing accepts it, and no such key is usable.
 */

const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const P = 2n ** 255n - 19n;
const L = ed.Point.CURVE().n;

function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}
const fromLe = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);

/** The eight points of order dividing 8, canonically encoded (RFC 8032 §5.1.2; "Taming the many EdDSAs", table 6). */
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000", // identity, order 1
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // (0, -1), order 2
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4
  "0000000000000000000000000000000000000000000000000000000000000080", // order 4
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
];

/** Encodings with y ≥ p (y = p + k, k = 0…18), each with both sign bits: never canonical. */
const NON_CANONICAL_Y = Array.from({ length: 19 }, (_, k) => {
  const plain = le32(P + BigInt(k));
  const signed = Uint8Array.from(plain);
  signed[31]! |= 0x80;
  return [toHex(plain), toHex(signed)];
}).flat();

describe("Ed25519 policy", () => {
  it("verifies RFC 8032's test vectors", () => {
    const vectors = [
      ["d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "", "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"],
      ["3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72", "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
    ];
    for (const [key, message, signature] of vectors) {
      expect(isUsablePublicKey(hex(key!))).toBe(true);
      expect(verifyEd25519(hex(signature!), hex(message!), hex(key!))).toBe(true);
      expect(verifyEd25519(hex(signature!), hex("00"), hex(key!))).toBe(false);
    }
  });

  it("refuses the eight small-order keys, and never accepts the all-zero signature", () => {
    const zero = new Uint8Array(64);
    for (const key of SMALL_ORDER_POINTS) {
      const A = hex(key);
      expect(ed.Point.fromBytes(A, false).isSmallOrder(), key).toBe(true);
      expect(isUsablePublicKey(A), key).toBe(false);
      for (const message of [new Uint8Array(0), new TextEncoder().encode("any statement at all")]) {
        // The hole: ZIP-215 (noble's default) accepts it for every one of these keys.
        expect(ed.verify(zero, message, A), key).toBe(true);
        expect(verifyEd25519(zero, message, A), key).toBe(false);
      }
    }
  });

  it("refuses public keys that are not canonical encodings, whatever point they decode to", () => {
    let largeOrder = 0;
    for (const key of [...NON_CANONICAL_Y, "0100000000000000000000000000000000000000000000000000000000000080"]) {
      expect(isUsablePublicKey(hex(key)), key).toBe(false);
      try {
        if (!ed.Point.fromBytes(hex(key), true).isSmallOrder()) largeOrder++;
      } catch {
        // not a point at all
      }
    }
    // Some of them decode, leniently, to points a signature could be made for.
    expect(largeOrder).toBeGreaterThan(0);
  });

  it("refuses S ≥ L and a signature whose R carries a small-order component (cofactorless)", () => {
    const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const A = publicKeyFromSeed(seed);
    const message = new TextEncoder().encode("receipt");
    const good = ed25519Sign(message, seed);
    expect(verifyEd25519(good, message, A)).toBe(true);
    const unreduced = Uint8Array.from(good);
    unreduced.set(le32(fromLe(good.subarray(32)) + L), 32);
    expect(verifyEd25519(unreduced, message, A)).toBe(false);

    // A signer who knows its scalar a can sign with R' = rB + T (T of order 8): S' = r + k'a.
    const a = ed.utils.getExtendedPublicKey(seed).scalar;
    const sign = (torsion: ed.Point) => {
      const r = 123456789n;
      const R = ed.Point.BASE.multiply(r).add(torsion).toBytes();
      const k = fromLe(ed.hash(ed.etc.concatBytes(R, A, message))) % L;
      return ed.etc.concatBytes(R, le32((r + k * a) % L));
    };
    expect(verifyEd25519(sign(ed.Point.ZERO), message, A)).toBe(true);
    const mixed = sign(ed.Point.fromBytes(hex(SMALL_ORDER_POINTS[4]!)));
    // The cofactored equation (noble's `zip215: false`) accepts it; RFC 8032's cofactorless one does not.
    expect(ed.verify(mixed, message, A, { zip215: false })).toBe(true);
    expect(verifyEd25519(mixed, message, A)).toBe(false);
  });

  it("answers false, never throws, for inputs of the wrong length", () => {
    expect(verifyEd25519(new Uint8Array(63), new Uint8Array(0), new Uint8Array(32))).toBe(false);
    expect(verifyEd25519(new Uint8Array(64), new Uint8Array(0), new Uint8Array(31))).toBe(false);
    expect(isUsablePublicKey(new Uint8Array(33))).toBe(false);
  });
});

import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyEd25519 } from "@custody/crypto";
import { verifyCheckpoint } from "@custody/ledger";
import { formatCheckpoint, generateSigner, signerFromSeed, signNote, verifierKeyOf, type Signer } from "@custody/note";
import { encodeBase64 } from "@custody/encoding";
import { nativeSignatureAccepts } from "../services/cli/src/audit-signature.js";

ed.hashes.sha512 = sha512;
const N = ed.Point.CURVE().n;
const accepts = nativeSignatureAccepts();

const le = (bytes: Uint8Array) => bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
const toLe32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

// The points of small order but the identity (libs/crypto ed25519.test.ts lists all eight).
const TORSION = [
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
].map((h) => ed.Point.fromBytes(Buffer.from(h, "hex")));
const P = 2n ** 255n - 19n;

/**
 * An Ed25519 signature whose R is rB + T for a point T of small order (the signer's choice: it
 * takes the private key): a cofactored check accepts it, the platform's cofactorless one does not.
 */
function torsionSignature(seed: Uint8Array, message: Uint8Array, nonce: bigint, t: ed.Point): Uint8Array {
  const key = ed.utils.getExtendedPublicKey(seed);
  const r = (nonce % (N - 1n)) + 1n;
  const R = ed.Point.BASE.multiply(r).add(t).toBytes();
  const k = le(sha512(concat(R, key.pointBytes, message))) % N;
  return concat(R, toLe32((r + k * key.scalar) % N));
}

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 120 });

/**
 * The audit checks checkpoint signatures with node:crypto (OpenSSL) and leaves every "no" to the
 * platform's own check (libs/crypto verifyEd25519, through verifyNote): a "yes" must never come where
 * that check says no. Both are strict RFC 8032 with the cofactorless equation, so they should agree
 * everywhere on the platform's (valid) keys; this tries the places where Ed25519 verifiers differ.
 */
describe("the audit's node:crypto signature check", () => {
  it("accepts what the strict check accepts, for signatures made the usual way", () => {
    fc.assert(
      fc.property(seed, message, (s, m) => {
        const sig = ed.sign(m, s);
        const pub = ed.getPublicKey(s);
        expect(verifyEd25519(sig, m, pub)).toBe(true);
        expect(accepts(sig, m, pub)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("answers as the strict check does: corrupted signatures, messages and scalars, non-canonical R", () => {
    const corruption = fc.oneof(
      fc.record({ what: fc.constant("sig" as const), at: fc.nat({ max: 63 }), bit: fc.nat({ max: 7 }) }),
      fc.record({ what: fc.constant("msg" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
      fc.record({ what: fc.constant("s+L" as const) }),
      fc.record({ what: fc.constant("random R" as const), r: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
      // y = p + k (k < 19): the same point as y = k, never canonical.
      fc.record({ what: fc.constant("non-canonical R" as const), k: fc.nat({ max: 18 }), sign: fc.boolean() }),
    );
    fc.assert(
      fc.property(seed, message, corruption, (s, m, c) => {
        const pub = ed.getPublicKey(s);
        let sig = ed.sign(m, s);
        let msg = m;
        if (c.what === "sig") {
          sig = sig.slice();
          sig[c.at]! ^= 1 << c.bit;
        } else if (c.what === "msg") {
          msg = m.length === 0 ? Uint8Array.of(1) : m.slice();
          if (m.length > 0) msg[c.at % m.length]! ^= 1 << c.bit;
        } else if (c.what === "s+L") {
          sig = concat(sig.subarray(0, 32), toLe32(le(sig.subarray(32)) + N));
        } else if (c.what === "random R") {
          sig = concat(c.r, sig.subarray(32));
        } else {
          const r = toLe32(P + BigInt(c.k));
          if (c.sign) r[31]! |= 0x80;
          sig = concat(r, sig.subarray(32));
        }
        expect(accepts(sig, msg, pub)).toBe(verifyEd25519(sig, msg, pub));
      }),
      { numRuns: 600 },
    );
  });

  it("refuses, as the strict check does, a signature with a small-order component in R", () => {
    fc.assert(
      fc.property(seed, message, fc.bigInt({ min: 1n, max: N }), fc.constantFrom(...TORSION), (s, m, nonce, t) => {
        const sig = torsionSignature(s, m, nonce, t);
        const pub = ed.getPublicKey(s);
        // A cofactored check would take it (noble's own zip215: false does).
        expect(ed.verify(sig, m, pub, { zip215: false })).toBe(true);
        expect(verifyEd25519(sig, m, pub)).toBe(false);
        expect(accepts(sig, m, pub)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("leaves every checkpoint's verdict and message as the strict check gives them", () => {
    const mine = signerFromSeed(
      "custody.sig-test/log",
      Uint8Array.from({ length: 32 }, (_, i) => i + 1),
    );
    const retired = generateSigner("custody.sig-test/log");
    const stranger = generateSigner("custody.sig-test/log");
    const keys = [verifierKeyOf(retired), verifierKeyOf(mine)];
    const root = new Uint8Array(32).fill(9);
    const text = formatCheckpoint({ origin: mine.name, size: 5, rootHash: root });
    const line = (signer: Signer, sig: Uint8Array) => `— ${signer.name} ${encodeBase64(concat(signer.keyId, sig))}\n`;
    const torsion = torsionSignature(mine.seed, new TextEncoder().encode(text), 12345n, TORSION[0]!);
    const notes = [
      signNote(text, [mine]),
      signNote(text, [retired, mine]),
      signNote(text, [stranger]),
      `${text}\n${line(mine, torsion)}`,
      `${text}\n${line(mine, torsion)}${line(retired, ed.sign(new TextEncoder().encode(text), retired.seed))}`,
      `${text}\n${line(mine, new Uint8Array(64))}`,
      signNote(text, [mine]).replace(/\n$/, " \n"),
      signNote(formatCheckpoint({ origin: mine.name, size: 6, rootHash: root }), [mine]),
    ];
    const verdicts = notes.map((note) => {
      const cp = { treeSize: 5, rootHash: root, note };
      const verdict = verifyCheckpoint(cp, keys, mine.name, accepts);
      expect(verdict).toEqual(verifyCheckpoint(cp, keys, mine.name));
      return verdict.ok;
    });
    expect(verdicts).toEqual([true, true, false, false, false, false, false, false]);
  });
});

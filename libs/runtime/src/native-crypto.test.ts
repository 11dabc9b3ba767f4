import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { portableBackend } from "@custody/crypto";
import { nativeCryptoBackend } from "./native-crypto.js";

const bytes = fc.uint8Array({ maxLength: 2048 });

describe("node:crypto backend", () => {
  it("hashes exactly as the portable backend, for any parts", () => {
    fc.assert(
      fc.property(fc.array(bytes, { minLength: 0, maxLength: 5 }), (parts) => {
        expect(nativeCryptoBackend.sha256(...parts)).toEqual(portableBackend.sha256(...parts));
      }),
    );
  });

  it("computes the same HMAC-SHA256 as the portable backend, for any key and parts", () => {
    fc.assert(
      fc.property(bytes, fc.array(bytes, { maxLength: 4 }), (key, parts) => {
        expect(nativeCryptoBackend.hmacSha256(key, ...parts)).toEqual(portableBackend.hmacSha256(key, ...parts));
      }),
    );
  });

  it("signs exactly as the portable backend (Ed25519 is deterministic)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), bytes, (seed, message) => {
        expect(nativeCryptoBackend.ed25519Sign(message, seed)).toEqual(portableBackend.ed25519Sign(message, seed));
      }),
      { numRuns: 50 },
    );
  });

  it("matches the RFC 8032 test 1 and FIPS 180-4 vectors", () => {
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    expect(Buffer.from(nativeCryptoBackend.ed25519Sign(new Uint8Array(0), seed)).toString("hex")).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
    expect(Buffer.from(nativeCryptoBackend.sha256(new TextEncoder().encode("abc"))).toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("refuses a seed of the wrong length", () => {
    expect(() => nativeCryptoBackend.ed25519Sign(new Uint8Array(1), new Uint8Array(31))).toThrow(/expected 32 bytes, got length=31/);
  });
});

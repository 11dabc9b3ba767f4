import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { generateSecret, parseSecret, secretKeyId, SECRET_BYTES } from "./secret.js";
import { SECRET_A, SPEC, counterRandom, expectSigningError } from "./expect.fixture.js";

describe("generateSecret", () => {
  it("is whsec_ + base64 of 32 bytes from the injected source", () => {
    const s = generateSecret(counterRandom(1));
    expect(s).toBe("whsec_" + Buffer.from(Uint8Array.from({ length: 32 }, (_, i) => i + 1)).toString("base64"));
    expect(s).toBe("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
    expect(s).toHaveLength(6 + 44);
    expect(parseSecret(s)).toHaveLength(SECRET_BYTES);
  });

  it("asks the source for exactly 32 bytes", () => {
    const asked: number[] = [];
    generateSecret((n) => {
      asked.push(n);
      return new Uint8Array(n).fill(9);
    });
    expect(asked).toEqual([32]);
  });

  it("defaults to WebCrypto and gives distinct secrets", () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).not.toBe(b);
    expect(parseSecret(a)).toHaveLength(32);
  });

  it("is accepted by the standardwebhooks package", () => {
    expect(() => new Webhook(generateSecret())).not.toThrow();
  });

  it.each([
    ["too few bytes", () => new Uint8Array(31).fill(1)],
    ["too many bytes", () => new Uint8Array(33).fill(1)],
    ["not a Uint8Array", () => Array(32).fill(1) as unknown as Uint8Array],
    ["all zeros (a stub, not randomness)", (n: number) => new Uint8Array(n)],
  ])("refuses a random source returning %s", (_, random) => {
    expectSigningError(() => generateSecret(random), "BAD_RANDOM");
  });
});

describe("parseSecret", () => {
  it("decodes the Standard Webhooks spec secret to its 24 bytes", () => {
    expect(parseSecret(SPEC.secret)).toEqual(new Uint8Array(Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64")));
  });

  it("accepts 24 and 64 bytes, refuses 23 and 65", () => {
    const of = (n: number) => "whsec_" + Buffer.alloc(n, 1).toString("base64");
    expect(parseSecret(of(24))).toHaveLength(24);
    expect(parseSecret(of(64))).toHaveLength(64);
    expectSigningError(() => parseSecret(of(23)), "BAD_SECRET", /24–64 bytes, got 23/);
    expectSigningError(() => parseSecret(of(65)), "BAD_SECRET", /got 65/);
  });

  it.each([
    ["no prefix", SECRET_A.slice(6)],
    ["wrong prefix case", "WHSEC_" + SECRET_A.slice(6)],
    ["missing padding", SECRET_A.slice(0, -1)],
    ["non-canonical trailing bits", SECRET_A.slice(0, -2) + "J="],
    ["base64url alphabet", "whsec_" + Buffer.alloc(32, 0xfb).toString("base64url") + "="],
    ["surrounding whitespace", ` ${SECRET_A}`],
    ["trailing newline", `${SECRET_A}\n`],
    ["empty key", "whsec_"],
    ["not a string", 42 as unknown as string],
  ])("refuses %s", (_, s) => {
    expectSigningError(() => parseSecret(s), "BAD_SECRET");
  });

  it("returns a fresh copy each time", () => {
    const a = parseSecret(SECRET_A);
    a[0] = 0;
    expect(parseSecret(SECRET_A)[0]).toBe(0x42);
  });
});

describe("secretKeyId", () => {
  it("is whk_ + the first 16 hex digits of SHA-256(raw key bytes)", () => {
    // Literal answers, and the same computed independently with node:crypto.
    expect(secretKeyId(SPEC.secret)).toBe("whk_f74e1720b7614881");
    expect(secretKeyId(SECRET_A)).toBe("whk_425ed4e4a36b30ea");
    const raw = Buffer.from(SECRET_A.slice(6), "base64");
    expect(secretKeyId(SECRET_A)).toBe("whk_" + createHash("sha256").update(raw).digest("hex").slice(0, 16));
  });

  it("is stable, and differs between secrets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), fc.uint8Array({ minLength: 24, maxLength: 64 }), (a, b) => {
        const sa = "whsec_" + Buffer.from(a).toString("base64");
        const sb = "whsec_" + Buffer.from(b).toString("base64");
        expect(secretKeyId(sa)).toMatch(/^whk_[0-9a-f]{16}$/);
        expect(secretKeyId(sa)).toBe(secretKeyId(sa));
        if (sa !== sb) expect(secretKeyId(sa)).not.toBe(secretKeyId(sb));
      }),
    );
  });

  it("validates the secret", () => {
    expectSigningError(() => secretKeyId("whsec_AAAA"), "BAD_SECRET");
  });
});

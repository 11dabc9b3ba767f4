import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { enc } from "./expect.fixture.js";

describe("base64 (RFC 4648 §4, canonical)", () => {
  // RFC 4648 §10 test vectors.
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  it.each(vectors)("encodes and decodes %j <-> %j", (plain, b64) => {
    expect(encodeBase64(enc(plain))).toBe(b64);
    expect(decodeBase64(b64)).toEqual(enc(plain));
  });

  it("uses the standard alphabet (+ and /), not base64url", () => {
    expect(encodeBase64(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe("+/+/");
    expect(decodeBase64("-_-_")).toBeUndefined();
  });

  it.each([
    ["missing padding", "Zg"],
    ["too much padding", "Zg==="],
    ["padding in the middle", "Zg==Zm9v"],
    ["non-zero trailing bits (1 byte)", "Zh=="],
    ["non-zero trailing bits (2 bytes)", "Zm9="],
    ["whitespace", "Zm9v Yg=="],
    ["newline", "Zm9v\nYmFy"],
    ["non-ASCII", "Zm9vé==="],
    ["only padding", "===="],
  ])("rejects %s", (_, s) => {
    expect(decodeBase64(s)).toBeUndefined();
  });

  it("round-trips and agrees with Node's Buffer on any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const s = encodeBase64(bytes);
        expect(s).toBe(Buffer.from(bytes).toString("base64"));
        expect(decodeBase64(s)).toEqual(bytes);
      }),
    );
  });

  it("accepts exactly one encoding per byte string", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."ABCQRSgh+/=Zm9"), maxLength: 12 }), (s) => {
        const bytes = decodeBase64(s);
        if (bytes !== undefined) expect(encodeBase64(bytes)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "./base64.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("base64 (RFC 4648 §4, strict)", () => {
  it("matches the RFC 4648 §10 test vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, b64] of vectors) {
      expect(encodeBase64(bytes(plain))).toBe(b64);
      expect(decodeBase64(b64)).toEqual(bytes(plain));
    }
  });

  it("uses the standard alphabet (+ and /)", () => {
    expect(encodeBase64(Uint8Array.of(0xfb, 0xff))).toBe("+/8=");
    expect(decodeBase64("+/8=")).toEqual(Uint8Array.of(0xfb, 0xff));
  });

  it.each([
    ["Zg", "missing padding"],
    ["Zg=", "length not a multiple of 4"],
    ["Zh==", "non-zero trailing bits (1 byte)"],
    ["Zm9=", "non-zero trailing bits (2 bytes)"],
    ["Zm 9v", "space"],
    ["Zm9v\n", "newline"],
    ["-_8=", "URL-safe alphabet"],
    ["Zg==Zg==", "padding in the middle"],
    ["=Zg=", "padding first"],
    ["Z===", "three padding characters"],
    ["====", "only padding"],
    ["Zm9\u00e9", "non-ASCII"],
  ])("rejects %j (%s)", (s) => {
    expect(decodeBase64(s)).toBeUndefined();
  });

  it("round-trips and has exactly one accepted encoding per byte string", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (b) => {
        const s = encodeBase64(b);
        expect(decodeBase64(s)).toEqual(b);
        expect(s).toBe(Buffer.from(b).toString("base64"));
      }),
    );
    // Any string our decoder accepts re-encodes to itself.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AQgw+/=Zz09".split("")), maxLength: 12 }), (s) => {
        const d = decodeBase64(s);
        if (d !== undefined) expect(encodeBase64(d)).toBe(s);
      }),
    );
  });
});

import fc from "fast-check";
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "./base64url.js";

describe("base64url", () => {
  it("agrees with Node's encoder and round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const s = encodeBase64Url(bytes);
        expect(s).toBe(Buffer.from(bytes).toString("base64url"));
        expect(decodeBase64Url(s)).toEqual(bytes);
      }),
    );
  });

  it("RFC 4648 §10 vectors, unpadded", () => {
    const enc = (s: string) => encodeBase64Url(new TextEncoder().encode(s));
    expect(["", "f", "fo", "foo", "foob", "fooba", "foobar"].map(enc)).toEqual(["", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"]);
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
  });

  it.each([
    ["Zg==", "padding"],
    ["Zm9v+", "standard alphabet"],
    ["Zm9v/w", "standard alphabet"],
    ["Zm 9v", "whitespace"],
    ["Z", "a lone 6-bit group"],
    ["Zh", "non-zero trailing bits (1 byte)"],
    ["Zm9", "non-zero trailing bits (2 bytes)"],
    ["Zm9vé", "non-ASCII"],
  ])("rejects %j (%s)", (s) => {
    expect(decodeBase64Url(s)).toBeUndefined();
  });
});

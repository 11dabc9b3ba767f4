import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { custodySignature, verifyCustodySignature } from "./custody.js";
import { SECRET_A, SECRET_B, SPEC, enc, expectSigningError } from "./expect.fixture.js";

/** The receiver snippet from our docs, transcribed: hmac.new(SECRET.encode(), payload, sha256).hexdigest(). */
function receiverExpects(secret: string, payload: Uint8Array): string {
  return "sha256=" + createHmac("sha256", Buffer.from(secret, "utf8")).update(payload).digest("hex");
}

describe("custodySignature", () => {
  it("is HMAC-SHA256 keyed with the whole whsec_ string's UTF-8 bytes, hex (computed and literal)", () => {
    expect(custodySignature(SECRET_A, enc('{"a":1}'))).toBe(receiverExpects(SECRET_A, enc('{"a":1}')));
    expect(custodySignature(SECRET_A, enc('{"a":1}'))).toBe("sha256=c0c4aaadef0d4ea02df648d735cb3ccb20388dfbb5281fa746cde1be505662bf");
    expect(custodySignature(SPEC.secret, enc(SPEC.body))).toBe("sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c");
  });

  it("is NOT keyed with the base64-decoded secret (that is the Standard Webhooks keying)", () => {
    const decodedKeying =
      "sha256=" +
      createHmac("sha256", Buffer.from(SECRET_A.slice(6), "base64"))
        .update("{}")
        .digest("hex");
    const withoutPrefix =
      "sha256=" +
      createHmac("sha256", Buffer.from(SECRET_A.slice(6), "utf8"))
        .update("{}")
        .digest("hex");
    expect(custodySignature(SECRET_A, enc("{}"))).not.toBe(decodedKeying);
    expect(custodySignature(SECRET_A, enc("{}"))).not.toBe(withoutPrefix);
  });

  it("agrees with the receiver snippet on any body, including non-UTF-8 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (body) => {
        expect(custodySignature(SECRET_B, body)).toBe(receiverExpects(SECRET_B, body));
      }),
      { numRuns: 200 },
    );
  });

  it("validates its inputs", () => {
    expectSigningError(() => custodySignature(SECRET_A.slice(6), enc("{}")), "BAD_SECRET");
    expectSigningError(() => custodySignature(SECRET_A, "{}" as unknown as Uint8Array), "BAD_BODY");
  });
});

describe("verifyCustodySignature", () => {
  const body = enc('{"a":1}');
  const header = custodySignature(SECRET_A, body);

  it("accepts the header the receiver snippet would compute", () => {
    expect(() => verifyCustodySignature(SECRET_A, body, receiverExpects(SECRET_A, body))).not.toThrow();
  });

  it("rejects another body or another secret", () => {
    expectSigningError(() => verifyCustodySignature(SECRET_A, enc('{"a":2}'), header), "SIGNATURE_MISMATCH");
    expectSigningError(() => verifyCustodySignature(SECRET_B, body, header), "SIGNATURE_MISMATCH");
  });

  it("rejects a missing header", () => {
    expectSigningError(() => verifyCustodySignature(SECRET_A, body, undefined), "MISSING_HEADER");
    expectSigningError(() => verifyCustodySignature(SECRET_A, body, ""), "MISSING_HEADER");
  });

  it.each([
    ["no prefix", header.slice(7)],
    ["another algorithm", "sha1=" + header.slice(7)],
    ["uppercase hex", "sha256=" + header.slice(7).toUpperCase()],
    ["truncated", header.slice(0, -2)],
    ["too long", header + "00"],
    ["a space after =", "sha256= " + header.slice(7)],
    ["a trailing newline", header + "\n"],
  ])("rejects a malformed header: %s", (_, h) => {
    expectSigningError(() => verifyCustodySignature(SECRET_A, body, h), "BAD_SIGNATURE_HEADER");
  });

  it("validates the secret and body before looking at the header", () => {
    expectSigningError(() => verifyCustodySignature("not-a-secret", body, header), "BAD_SECRET");
    expectSigningError(() => verifyCustodySignature(SECRET_A, null as unknown as Uint8Array, header), "BAD_BODY");
  });
});

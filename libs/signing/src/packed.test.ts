import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildDeliveryHeaders } from "./delivery.js";
import { SECRET_A, SECRET_B, UUID, enc, expectSigningError } from "./expect.fixture.js";
import { packSignatures, unpackSignatures } from "./packed.js";
import { secretKeyId } from "./secret.js";

const secret = (s: string) => ({ secret: s, keyId: secretKeyId(s) });

describe("packSignatures / unpackSignatures", () => {
  it("keeps the custody MAC then each webhook MAC, 32 bytes each, and rebuilds the exact header text", () => {
    const headers = buildDeliveryHeaders({ msgId: "evt_01", timestamp: 1_700_000_000, body: enc("{}"), eventType: "a.b", idempotencyKey: UUID, secrets: [secret(SECRET_A), secret(SECRET_B)] });
    const packed = packSignatures(headers);
    expect(packed.length).toBe(96);
    expect(Buffer.from(packed.subarray(0, 32)).toString("hex")).toBe(headers["x-custody-signature"].slice("sha256=".length));
    expect(`v1,${Buffer.from(packed.subarray(64)).toString("base64")}`).toBe(headers["webhook-signature"].split(" ")[1]);
    expect(unpackSignatures(packed)).toEqual({ "webhook-signature": headers["webhook-signature"], "x-custody-signature": headers["x-custody-signature"] });
  });

  it("round-trips any MACs for one to three secrets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 3 }), (custody, webhook) => {
        const headers = {
          "x-custody-signature": `sha256=${Buffer.from(custody).toString("hex")}`,
          "webhook-signature": webhook.map((m) => `v1,${Buffer.from(m).toString("base64")}`).join(" "),
        };
        expect(unpackSignatures(packSignatures(headers))).toEqual(headers);
      }),
    );
  });

  it("refuses spellings it could not rebuild, and stored bytes of the wrong length", () => {
    const ok = { "x-custody-signature": `sha256=${"ab".repeat(32)}`, "webhook-signature": `v1,${Buffer.alloc(32, 7).toString("base64")}` };
    expectSigningError(() => packSignatures({ ...ok, "x-custody-signature": `sha256=${"AB".repeat(32)}` }), "BAD_SIGNATURE_HEADER");
    expectSigningError(() => packSignatures({ ...ok, "webhook-signature": `${ok["webhook-signature"]}  ${ok["webhook-signature"]}` }), "BAD_SIGNATURE_HEADER");
    expectSigningError(() => packSignatures({ ...ok, "webhook-signature": `v2,${Buffer.alloc(32).toString("base64")}` }), "BAD_SIGNATURE_HEADER");
    // The last character's two low bits are padding, zero in the canonical spelling.
    expectSigningError(() => packSignatures({ ...ok, "webhook-signature": ok["webhook-signature"].replace(/.=$/, "B=") }), "BAD_SIGNATURE_HEADER");
    expectSigningError(() => unpackSignatures(new Uint8Array(32)), "BAD_SIGNATURE_HEADER");
    expectSigningError(() => unpackSignatures(new Uint8Array(80)), "BAD_SIGNATURE_HEADER");
  });
});

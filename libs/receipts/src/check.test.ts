import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { receiptStatementBytes, ReceiptError } from "@custody/custody";
import { checkReceipt, type ReceiptClaim } from "./index.js";

/** The eight points of order dividing 8 (RFC 8032 §5.1.2), canonically encoded. */
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];

const bodySha256 = randomBytes(32).toString("hex");
const statement = receiptStatementBytes({ delivery: "dlv_1", event: "evt_1", bodySha256, receivedAt: "2026-12-03T10:00:00.000Z" });

function claim(publicKey: Uint8Array, signature: Uint8Array): ReceiptClaim {
  return { tenantId: "ten_1", deliveryId: "dlv_1", eventId: "evt_1", bodySha256, publicKey, statement, signature, source: "api" };
}

describe("the platform's receipt check", () => {
  it("accepts a receipt signed by the endpoint's key", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
    expect(checkReceipt(claim(raw, sign(null, statement, privateKey)))).toMatchObject({ delivery: "dlv_1", event: "evt_1" });
  });

  it("rejects the all-zero signature under every small-order key (accepted under ZIP-215), as the verifier does", () => {
    for (const key of SMALL_ORDER_POINTS) {
      let error: unknown;
      try {
        checkReceipt(claim(Buffer.from(key, "hex"), new Uint8Array(64)));
      } catch (err) {
        error = err;
      }
      expect(error, key).toBeInstanceOf(ReceiptError);
      expect((error as ReceiptError).code, key).toBe("RECEIPT_SIGNATURE_INVALID");
    }
  });
});

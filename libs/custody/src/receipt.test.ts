import { randomBytes } from "node:crypto";
import * as ed from "@noble/ed25519";
import { describe, expect, it } from "vitest";
import { receiptStatementBytes, verifyReceipt } from "./index.js";

const secret = ed.utils.randomSecretKey();
const publicKey = ed.getPublicKey(secret);
const statement = { delivery: "dlv_1", event: "evt_1", bodySha256: randomBytes(32).toString("hex"), receivedAt: "2026-11-23T10:00:00.123Z" };
const bytes = receiptStatementBytes(statement);
const signature = ed.sign(bytes, secret);
const expected = { delivery: "dlv_1", event: "evt_1", bodySha256: statement.bodySha256 };

describe("verifyReceipt", () => {
  it("accepts the canonical statement signed by the endpoint's key", () => {
    expect(new TextDecoder().decode(bytes)).toBe(`{"bodySha256":"${statement.bodySha256}","delivery":"dlv_1","event":"evt_1","kind":"custody-receipt","receivedAt":"2026-11-23T10:00:00.123Z","v":1}`);
    expect(verifyReceipt({ statement: bytes, signature, publicKey, expected })).toEqual(statement);
  });

  it("rejects any flipped byte of the statement or the signature, and another key", () => {
    for (let i = 0; i < bytes.length; i++) {
      const bad = Uint8Array.from(bytes);
      bad[i]! ^= 1;
      expect(() => verifyReceipt({ statement: bad, signature, publicKey, expected })).toThrow();
    }
    for (let i = 0; i < 64; i += 7) {
      const bad = Uint8Array.from(signature);
      bad[i]! ^= 1;
      expect(() => verifyReceipt({ statement: bytes, signature: bad, publicKey, expected })).toThrow(/does not verify/);
    }
    expect(() => verifyReceipt({ statement: bytes, signature, publicKey: ed.getPublicKey(ed.utils.randomSecretKey()), expected })).toThrow(/does not verify/);
  });

  it("rejects a valid receipt for another delivery, event or body", () => {
    expect(() => verifyReceipt({ statement: bytes, signature, publicKey, expected: { ...expected, delivery: "dlv_2" } })).toThrow(/RECEIPT|delivery/);
    expect(() => verifyReceipt({ statement: bytes, signature, publicKey, expected: { ...expected, bodySha256: "0".repeat(64) } })).toThrow(/bodySha256/);
  });

  it("rejects non-canonical or malformed statements even when signed", () => {
    for (const text of [
      JSON.stringify({ v: 1, kind: "custody-receipt", delivery: "dlv_1", event: "evt_1", bodySha256: statement.bodySha256, receivedAt: statement.receivedAt }),
      `{"bodySha256":"${statement.bodySha256}","delivery":"dlv_1","event":"evt_1","extra":1,"kind":"custody-receipt","receivedAt":"2026-11-23T10:00:00.123Z","v":1}`,
      `{"bodySha256":"${statement.bodySha256}","delivery":"dlv_1","event":"evt_1","kind":"custody-receipt","receivedAt":"yesterday","v":1}`,
    ]) {
      const b = new TextEncoder().encode(text);
      expect(() => verifyReceipt({ statement: b, signature: ed.sign(b, secret), publicKey, expected })).toThrow();
    }
  });
});

import { describe, expect, it } from "vitest";
import { sealAttempts } from "@custody/custody";
import { generateSigner, verifierKeyOf } from "@custody/note";
import { generateSecret, secretKeyId } from "@custody/signing";
import { checkDelivery } from "./receive.js";

const signer = generateSigner("custody.test/log");
const secret = generateSecret();
const [sealed] = sealAttempts(
  [
    {
      tenant: "ten_1",
      delivery: "dlv_1",
      event: "evt_1",
      eventType: "order.created",
      attempt: 1,
      target: { endpoint: "wh_1" },
      previous: null,
      idempotencyKey: "9f1c2b0e-5d4a-4c7e-9a51-0d6b2f3e8c71",
      body: new TextEncoder().encode('{"n":1}'),
      ingested: new Uint8Array(32),
      redacted: new Uint8Array(32),
      secrets: [{ secret, keyId: secretKeyId(secret) }],
    },
  ],
  signer,
  Math.floor(Date.now() / 1000),
).sealed;
const { headers, attempt } = sealed!;

describe("custody receive's checks", () => {
  it("accepts a format 2 delivery as sent: both signatures, its custody record and its seal", () => {
    expect(checkDelivery(headers, attempt.body, secret, [verifierKeyOf(signer)])).toEqual([
      "  ✓ webhook-signature (Standard Webhooks)",
      "  ✓ x-custody-signature (sha256=)",
      "  ✓ custody record (body, signed headers, root, ids, timestamp)",
      "  ✓ custody seal (inclusion in the signed batch)",
    ]);
  });

  it("says the seal was not checked without the platform's keys, and still checks the record", () => {
    expect(checkDelivery(headers, attempt.body, undefined, [])).toEqual(["  ✓ custody record (body, signed headers, root, ids, timestamp)", "  – custody seal: not checked (no platform keys)"]);
  });

  it("rejects a changed body, a changed signed header and another signer's seal", () => {
    const body = Uint8Array.from(attempt.body);
    body[1]! ^= 1;
    const changedBody = checkDelivery(headers, body, secret, [verifierKeyOf(signer)]);
    expect(changedBody.filter((l) => l.startsWith("  ✗")).map((l) => l.split(":")[0])).toEqual([
      "  ✗ webhook-signature (Standard Webhooks)",
      "  ✗ x-custody-signature (sha256=)",
      "  ✗ custody record (body, signed headers, root, ids, timestamp)",
    ]);
    expect(changedBody.some((l) => l.includes("custody seal"))).toBe(false);
    expect(checkDelivery({ ...headers, "x-custody-event": "order.deleted" }, attempt.body, undefined, [])[0]).toMatch(/^ {2}✗ custody record .*signed/);
    expect(checkDelivery(headers, attempt.body, undefined, [verifierKeyOf(generateSigner("custody.test/log"))])).toEqual([
      "  ✓ custody record (body, signed headers, root, ids, timestamp)",
      expect.stringMatching(/^ {2}✗ custody seal \(inclusion in the signed batch\): /),
    ]);
  });
});

import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { buildDeliveryHeaders, RESERVED_HEADER_NAMES, type DeliveryHeadersInput } from "./delivery.js";
import { secretKeyId } from "./secret.js";
import { standardSignature, verifyStandardSignature } from "./standard.js";
import { custodySignature, verifyCustodySignature } from "./custody.js";
import { SECRET_A, SECRET_B, UUID, enc, expectSigningError } from "./expect.fixture.js";

const T = 1_700_000_000;
const BODY = '{"id":"evt_01","type":"invoice.paid","data":{"amount":4200}}';
const current = { secret: SECRET_A, keyId: secretKeyId(SECRET_A) };
const previous = { secret: SECRET_B, keyId: secretKeyId(SECRET_B) };
const input = (over: Partial<DeliveryHeadersInput> = {}): DeliveryHeadersInput => ({
  msgId: "evt_01",
  timestamp: T,
  body: enc(BODY),
  eventType: "invoice.paid",
  idempotencyKey: UUID,
  secrets: [current],
  ...over,
});

describe("buildDeliveryHeaders", () => {
  it("builds the full header set (literal expectations)", () => {
    const h = buildDeliveryHeaders(input({ secrets: [current, previous], custodyHeaders: { "X-Custody-Tenant": "ten_1" } }));
    expect(h).toEqual({
      "content-type": "application/json",
      "webhook-id": "evt_01",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `${standardSignature(SECRET_A, "evt_01", T, enc(BODY))} ${standardSignature(SECRET_B, "evt_01", T, enc(BODY))}`,
      "x-custody-signature": "sha256=" + createHmac("sha256", SECRET_A).update(BODY).digest("hex"),
      "x-custody-signature-key-id": "whk_425ed4e4a36b30ea",
      "x-custody-timestamp": "1700000000",
      "x-custody-event": "invoice.paid",
      "idempotency-key": UUID,
      "x-custody-tenant": "ten_1",
    });
    expect(Object.keys(h).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it("signs x-custody-signature with the current secret only", () => {
    const h = buildDeliveryHeaders(input({ secrets: [previous, current] }));
    expect(h["x-custody-signature"]).toBe(custodySignature(SECRET_B, enc(BODY)));
    expect(h["x-custody-signature-key-id"]).toBe(previous.keyId);
    expect(h["webhook-signature"].split(" ")).toHaveLength(2);
  });

  it("with one secret emits one v1 entry", () => {
    expect(buildDeliveryHeaders(input())["webhook-signature"]).toBe(standardSignature(SECRET_A, "evt_01", T, enc(BODY)));
  });

  it("is verified by the standardwebhooks package for both secrets during overlap, and by our verifiers", () => {
    const now = Math.floor(Date.now() / 1000);
    const h = buildDeliveryHeaders(input({ timestamp: now, secrets: [current, previous] }));
    for (const secret of [SECRET_A, SECRET_B]) {
      expect(new Webhook(secret).verify(BODY, { ...h })).toEqual(JSON.parse(BODY));
      expect(() => new Webhook(secret).verify(BODY.replace("4200", "4201"), { ...h })).toThrow(/No matching signature/);
    }
    expect(verifyStandardSignature({ headers: h, body: enc(BODY), secrets: [SECRET_B], nowSeconds: now }).secretIndex).toBe(0);
    expect(() => verifyCustodySignature(SECRET_A, enc(BODY), h["x-custody-signature"])).not.toThrow();
  });

  describe("validation", () => {
    it.each([
      ["an empty msgId", { msgId: "" }, "BAD_MSG_ID"],
      ["a msgId with a comma", { msgId: "evt,1" }, "BAD_MSG_ID"],
      ["a msgId with whitespace", { msgId: "evt 1" }, "BAD_MSG_ID"],
      ["a msgId over 255 chars", { msgId: "e".repeat(256) }, "BAD_MSG_ID"],
      ["a millisecond-ish float timestamp", { timestamp: 1_700_000_000.5 }, "BAD_TIMESTAMP"],
      ["a negative timestamp", { timestamp: -1 }, "BAD_TIMESTAMP"],
      ["a string body", { body: BODY as unknown as Uint8Array }, "BAD_BODY"],
      ["an empty eventType", { eventType: "" }, "BAD_EVENT_TYPE"],
      ["an eventType with a space", { eventType: "invoice paid" }, "BAD_EVENT_TYPE"],
      ["an eventType with CRLF", { eventType: "a\r\nb" }, "BAD_EVENT_TYPE"],
      ["an eventType over 255 chars", { eventType: "e".repeat(256) }, "BAD_EVENT_TYPE"],
      ["a non-UUID idempotency key", { idempotencyKey: "abc" }, "BAD_IDEMPOTENCY_KEY"],
      ["a UUID without dashes", { idempotencyKey: UUID.replaceAll("-", "") }, "BAD_IDEMPOTENCY_KEY"],
      ["a UUID in braces", { idempotencyKey: `{${UUID}}` }, "BAD_IDEMPOTENCY_KEY"],
      ["a UUID with version 0", { idempotencyKey: "6f1c2a4e-8b3d-0f7a-9c2e-1d5b7a9e0c3f" }, "BAD_IDEMPOTENCY_KEY"],
      ["a UUID with the wrong variant", { idempotencyKey: "6f1c2a4e-8b3d-4f7a-cc2e-1d5b7a9e0c3f" }, "BAD_IDEMPOTENCY_KEY"],
      ["no secrets", { secrets: [] }, "NO_SECRETS"],
      ["a secrets object", { secrets: current as unknown as [] }, "NO_SECRETS"],
      ["a bad secret", { secrets: [{ secret: "whsec_AAAA", keyId: "whk_x" }] }, "BAD_SECRET"],
      ["a null secret entry", { secrets: [null as unknown as typeof current] }, "BAD_SECRET"],
      ["a key id of another secret", { secrets: [{ secret: SECRET_A, keyId: previous.keyId }] }, "KEY_ID_MISMATCH"],
      ["a previous secret with the wrong key id", { secrets: [current, { secret: SECRET_B, keyId: current.keyId }] }, "KEY_ID_MISMATCH"],
      ["the same secret twice", { secrets: [current, current] }, "DUPLICATE_SECRET"],
    ] as Array<[string, Partial<DeliveryHeadersInput>, string]>)("refuses %s", (_, over, code) => {
      expectSigningError(() => buildDeliveryHeaders(input(over)), code as never);
    });

    it("accepts UUIDs of either case and versions 1–8", () => {
      for (const key of [UUID.toUpperCase(), "018f3c1e-7b2a-7c3d-8e4f-5a6b7c8d9e0f", "a0b1c2d3-e4f5-1a2b-bc3d-4e5f6a7b8c9d"]) {
        expect(buildDeliveryHeaders(input({ idempotencyKey: key }))["idempotency-key"]).toBe(key);
      }
    });
  });

  describe("custodyHeaders", () => {
    it.each([...RESERVED_HEADER_NAMES])("may not set %s, in any case", (name) => {
      expectSigningError(() => buildDeliveryHeaders(input({ custodyHeaders: { [name]: "x" } })), "RESERVED_HEADER");
      expectSigningError(() => buildDeliveryHeaders(input({ custodyHeaders: { [name.toUpperCase()]: "x" } })), "RESERVED_HEADER");
    });

    it("reserves every header the builder emits", () => {
      for (const name of Object.keys(buildDeliveryHeaders(input()))) expect(RESERVED_HEADER_NAMES.has(name)).toBe(true);
    });

    it.each([
      ["a name with a space", { "x tenant": "a" }],
      ["a name with a colon", { "x-tenant:": "a" }],
      ["an empty name", { "": "a" }],
      ["a non-ASCII name", { "x-ténant": "a" }],
      ["a value with CRLF (header injection)", { "x-tenant": "a\r\nx-evil: 1" }],
      ["a value with a NUL", { "x-tenant": "a\0" }],
      ["a value with non-ASCII", { "x-tenant": "é" }],
      ["a value with leading space", { "x-tenant": " a" }],
      ["a value with trailing tab", { "x-tenant": "a\t" }],
      ["a non-string value", { "x-tenant": 1 as unknown as string }],
      ["the same name twice in different case", { "X-Tenant": "a", "x-tenant": "b" }],
    ])("refuses %s", (_, custodyHeaders) => {
      expectSigningError(() => buildDeliveryHeaders(input({ custodyHeaders })), "BAD_HEADER");
    });

    it("refuses a non-object", () => {
      expectSigningError(() => buildDeliveryHeaders(input({ custodyHeaders: [] as unknown as Record<string, string> })), "BAD_HEADER");
      expectSigningError(() => buildDeliveryHeaders(input({ custodyHeaders: "x" as unknown as Record<string, string> })), "BAD_HEADER");
    });

    it("passes valid headers through, lowercased, including empty and inner-space values", () => {
      const h = buildDeliveryHeaders(input({ custodyHeaders: { "X-Custody-Attempt": "3", "X-Note": "a b\tc", "x-empty": "" } }));
      expect(h["x-custody-attempt"]).toBe("3");
      expect(h["x-note"]).toBe("a b\tc");
      expect(h["x-empty"]).toBe("");
    });
  });
});

import { describe, expect, it } from "vitest";
import * as api from "./index.js";
import { SigningError, SigningErrorCodes, type SigningErrorCode } from "./errors.js";
import { SECRET_A, SECRET_B, UUID, enc, expectSigningError } from "./expect.fixture.js";

const body = enc('{"a":1}');
const delivery = (over: Partial<api.DeliveryHeadersInput> = {}): api.DeliveryHeadersInput => ({
  msgId: "evt_1",
  timestamp: 1_700_000_000,
  body,
  eventType: "order.created",
  idempotencyKey: UUID,
  secrets: [{ secret: SECRET_A, keyId: api.secretKeyId(SECRET_A) }],
  ...over,
});
const signed = api.standardWebhookHeaders({ msgId: "evt_1", timestamp: 1_700_000_000, body, secrets: [SECRET_A] });
const verify = (over: Partial<Parameters<typeof api.verifyStandardSignature>[0]> = {}) => api.verifyStandardSignature({ headers: signed, body, secrets: [SECRET_A], nowSeconds: 1_700_000_000, ...over });

/**
 * One trigger per code through the public API. Typed as a full record, so adding a code to
 * SigningErrorCodes without a negative test here is a type error.
 */
const triggers: Record<SigningErrorCode, () => unknown> = {
  BAD_SECRET: () => api.parseSecret("whsec_not base64"),
  BAD_RANDOM: () => api.generateSecret(() => new Uint8Array(16)),
  NO_SECRETS: () => api.standardWebhookHeaders({ msgId: "evt_1", timestamp: 1, body, secrets: [] }),
  DUPLICATE_SECRET: () => api.standardWebhookHeaders({ msgId: "evt_1", timestamp: 1, body, secrets: [SECRET_A, SECRET_A] }),
  KEY_ID_MISMATCH: () => api.buildDeliveryHeaders(delivery({ secrets: [{ secret: SECRET_A, keyId: api.secretKeyId(SECRET_B) }] })),
  BAD_MSG_ID: () => api.standardSignature(SECRET_A, "evt 1", 1, body),
  BAD_TIMESTAMP: () => api.standardSignature(SECRET_A, "evt_1", 1.5, body),
  BAD_BODY: () => api.standardSignature(SECRET_A, "evt_1", 1, '{"a":1}' as unknown as Uint8Array),
  BAD_EVENT_TYPE: () => api.buildDeliveryHeaders(delivery({ eventType: "" })),
  BAD_IDEMPOTENCY_KEY: () => api.buildDeliveryHeaders(delivery({ idempotencyKey: "not-a-uuid" })),
  BAD_HEADER: () => api.buildDeliveryHeaders(delivery({ custodyHeaders: { "x-tenant": "a\r\nx-evil: 1" } })),
  RESERVED_HEADER: () => api.buildDeliveryHeaders(delivery({ custodyHeaders: { "Webhook-Signature": "v1,forged" } })),
  BAD_TOLERANCE: () => verify({ toleranceSeconds: -1 }),
  MISSING_HEADER: () => verify({ headers: { "webhook-id": "evt_1", "webhook-timestamp": "1700000000" } }),
  BAD_SIGNATURE_HEADER: () => api.verifyCustodySignature(SECRET_A, body, "sha1=abc"),
  SIGNATURE_MISMATCH: () => verify({ body: enc('{"a":2}') }),
  TIMESTAMP_OUT_OF_TOLERANCE: () => verify({ nowSeconds: 1_700_000_301 }),
};

describe("SigningError", () => {
  it.each(Object.entries(triggers))("%s has a public trigger", (code, trigger) => {
    const err = expectSigningError(trigger, code as SigningErrorCode);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("SigningError");
    expect(err.message.length).toBeGreaterThan(0);
  });

  it("the code list is closed and matches the trigger table", () => {
    expect(Object.keys(triggers).sort()).toEqual([...SigningErrorCodes].sort());
    for (const code of SigningErrorCodes) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it("is exported from the package root and carries its code", () => {
    const err = new api.SigningError("SIGNATURE_MISMATCH", "x");
    expect(err).toBeInstanceOf(SigningError);
    expect(err.code).toBe("SIGNATURE_MISMATCH");
    expect(err.message).toBe("x");
  });

  it("never puts a secret into an error message", () => {
    const failures = [
      () => api.verifyCustodySignature(SECRET_A, body, "sha256=" + "0".repeat(64)),
      () => verify({ body: enc("x") }),
      () => api.buildDeliveryHeaders(delivery({ secrets: [{ secret: SECRET_A, keyId: "whk_0000000000000000" }] })),
      () => api.parseSecret(SECRET_A.slice(0, -1)),
      () => api.parseSecret(SECRET_A.slice(6)),
    ];
    for (const f of failures) {
      let message = "";
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(SigningError);
        message = (err as SigningError).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain("QkJCQkJC");
    }
  });
});

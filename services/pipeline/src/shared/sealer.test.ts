import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_SEAL_BATCH, verifyDelivery } from "@custody/custody";
import { generateSigner, verifierKeyOf } from "@custody/note";
import { generateSecret, secretKeyId } from "@custody/signing";
import { sealForSending, type ToSeal } from "./sealer.js";

const signer = generateSigner("custody.test/log");
const secret = generateSecret();

function item(i: number): ToSeal {
  return {
    attempt: {
      tenant: "ten_1",
      delivery: `dlv_${i}`,
      event: `evt_${i >> 4}`,
      eventType: "case.completed",
      attempt: 1,
      target: { endpoint: `wh_${i & 15}` },
      previous: null,
      idempotencyKey: randomUUID(),
      body: new TextEncoder().encode(`{"n":${i}}`),
      ingested: randomBytes(32),
      redacted: randomBytes(32),
      secrets: [{ secret, keyId: secretKeyId(secret) }],
    },
    targetUrl: `https://example.test/${i & 15}`,
    firstAttemptAt: null,
    lastDelayMs: null,
  };
}

describe("sealForSending", () => {
  it("splits more attempts than one seal may hold into several seals, each attempt verifying under its own", () => {
    const items = Array.from({ length: MAX_SEAL_BATCH + 3 }, (_, i) => item(i));
    const sealed = sealForSending(signer, items, new Date());
    expect(sealed.results.map((r) => r.size)).toEqual([MAX_SEAL_BATCH, 3]);
    expect(sealed.ready.map((r) => r.deliveryId)).toEqual(items.map((i) => i.attempt.delivery));
    expect(sealed.ready.map((r) => r.url)).toEqual(items.map((i) => i.targetUrl));
    for (const r of [sealed.ready[0]!, sealed.ready[MAX_SEAL_BATCH - 1]!, sealed.ready[MAX_SEAL_BATCH]!, sealed.ready.at(-1)!]) {
      expect(() => verifyDelivery({ body: r.body, headers: r.headers, keys: [verifierKeyOf(signer)] })).not.toThrow();
    }
    expect(sealed.ready[MAX_SEAL_BATCH]!.headers["x-custody-seal"]).toMatch(/;size=3;index=0;/);
  });
});

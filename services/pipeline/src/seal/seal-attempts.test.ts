import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { custodyRoot, parseCustodyHeaders, preparedHop, verifySeal } from "@custody/custody";
import { decodeEntry, encodeEntry } from "@custody/ledger";
import { generateSigner, verifierKeyOf } from "@custody/note";
import { generateSecret, secretKeyId, verifyCustodySignature } from "@custody/signing";
import { sealAttempts, type AttemptToSeal } from "./seal-attempts.js";

const signer = generateSigner("custody.test/log");

function attempt(i: number, secrets: string[]): AttemptToSeal {
  return {
    deliveryId: `dlv_${i}`,
    attemptNo: 1,
    tenantId: "ten_1",
    eventId: `evt_${i}`,
    eventType: "case.completed",
    endpointId: i % 2 === 0 ? "wh_1" : null,
    url: "https://example.com/hook",
    idempotencyKey: randomUUID(),
    body: new TextEncoder().encode(JSON.stringify({ n: i })),
    ingestedHop: randomBytes(32),
    redactedHop: randomBytes(32),
    secrets: secrets.map((secret) => ({ secret, keyId: secretKeyId(secret) })),
  };
}

describe("sealAttempts", () => {
  it("signs every attempt so Standard Webhooks, X-Custody-Signature and the custody seal all verify", () => {
    const current = generateSecret();
    const previous = generateSecret();
    const attempts = Array.from({ length: 7 }, (_, i) => attempt(i, [current, previous]));
    const now = Math.floor(Date.now() / 1000);
    const result = sealAttempts(attempts, signer, now);
    expect(result.batch.size).toBe(7);
    for (const sealed of result.sealed) {
      const body = sealed.attempt.body;
      const text = new TextDecoder().decode(body);
      // During a rotation overlap both secrets verify the same delivery.
      new Webhook(current).verify(text, sealed.headers);
      new Webhook(previous).verify(text, sealed.headers);
      verifyCustodySignature(current, body, sealed.headers["x-custody-signature"]);
      const parsed = parseCustodyHeaders(sealed.headers);
      expect(parsed.hops.prepared).toEqual(preparedHop(body));
      expect(custodyRoot(parsed.hops)).toEqual(parsed.root);
      verifySeal(parsed.root, parsed.seal, [verifierKeyOf(signer)]);
      const entry = decodeEntry(encodeEntry(sealed.custodyDocument));
      expect(entry).toMatchObject({ kind: "custody", delivery: sealed.attempt.deliveryId, root: sealed.headers["x-custody-root"] });
    }
  });
});


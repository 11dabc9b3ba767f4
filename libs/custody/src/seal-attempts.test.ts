import { randomBytes, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { leafHash } from "@custody/merkle";
import { toHex } from "@custody/encoding";
import { generateSigner, verifierKeyOf } from "@custody/note";
import { generateSecret, secretKeyId, verifyCustodySignature } from "@custody/signing";
import { batchFromLeafHashes, CustodyFormatError, parseCustodyRecord, rebuildSealedAttempt, sealAttempts, verifyDelivery, type AttemptToSeal } from "./index.js";

const signer = generateSigner("custody.test/log");
const keys = [verifierKeyOf(signer)];
const current = generateSecret();
const previous = generateSecret();

function attempt(i: number): AttemptToSeal {
  return {
    tenant: "ten_1",
    delivery: `dlv_${i}`,
    event: `evt_${i}`,
    eventType: "case.completed",
    attempt: i % 3 === 0 ? 2 : 1,
    target: i % 2 === 0 ? { endpoint: "wh_1" } : { callback: true },
    previous: i % 3 === 0 ? toHex(randomBytes(32)) : null,
    idempotencyKey: randomUUID(),
    body: new TextEncoder().encode(JSON.stringify({ n: i })),
    ingested: randomBytes(32),
    redacted: randomBytes(32),
    secrets: [current, previous].map((secret) => ({ secret, keyId: secretKeyId(secret) })),
  };
}

describe("sealAttempts (format 2)", () => {
  const now = Math.floor(Date.now() / 1000);
  const result = sealAttempts(
    Array.from({ length: 7 }, (_, i) => attempt(i)),
    signer,
    now,
  );

  it("gives every attempt headers that Standard Webhooks, X-Custody-Signature and the custody check all accept", () => {
    expect(result.size).toBe(7);
    expect(result.keyId).toBe(toHex(signer.keyId));
    for (const s of result.sealed) {
      new Webhook(current).verify(new TextDecoder().decode(s.attempt.body), s.headers);
      new Webhook(previous).verify(new TextDecoder().decode(s.attempt.body), s.headers);
      verifyCustodySignature(current, s.attempt.body, s.headers["x-custody-signature"]);
      const record = verifyDelivery({ body: s.attempt.body, headers: s.headers, keys });
      expect(record).toEqual(parseCustodyRecord(s.record));
      expect(record).toMatchObject({ delivery: s.attempt.delivery, event: s.attempt.event, attempt: s.attempt.attempt, target: s.attempt.target, sealedAt: now, previous: s.attempt.previous });
      expect(toHex(leafHash(s.record))).toBe(toHex(result.leafHashes[s.index]!));
    }
  });

  it("rejects a delivery whose body, signed headers, identity or seal were changed", () => {
    const s = result.sealed[3]!;
    const body = Uint8Array.from(s.attempt.body);
    body[0]! ^= 1;
    const reject = (b: Uint8Array, headers: Record<string, string>, why: RegExp) => expect(() => verifyDelivery({ body: b, headers, keys })).toThrow(why);
    reject(body, s.headers, /prepared/);
    for (const name of ["webhook-signature", "x-custody-event", "idempotency-key", "x-custody-signature-key-id"]) {
      reject(s.attempt.body, { ...s.headers, [name]: `${s.headers[name]}x` }, /signed/);
    }
    const { "x-custody-delivery-id": _, ...withoutId } = s.headers;
    expect(() => verifyDelivery({ body: s.attempt.body, headers: withoutId, keys })).toThrow(/x-custody-delivery-id/);
    const other = result.sealed[4]!;
    // A record and seal of another attempt of the batch: its prepared hop does not match this body.
    reject(s.attempt.body, { ...s.headers, "x-custody-record": other.headers["x-custody-record"]! }, /prepared/);
    reject(s.attempt.body, { ...s.headers, "x-custody-seal": other.headers["x-custody-seal"]! }, /signature|root|verif/i);
    const otherSigner = generateSigner("custody.test/log");
    expect(() => verifyDelivery({ body: s.attempt.body, headers: s.headers, keys: [verifierKeyOf(otherSigner)] })).toThrow();
    try {
      verifyDelivery({ body, headers: s.headers, keys });
    } catch (err) {
      expect(err).toBeInstanceOf(CustodyFormatError);
      expect((err as CustodyFormatError).code).toBe("MISMATCH");
    }
  });
});

describe("rebuildSealedAttempt", () => {
  it("rebuilds exactly the record and headers that were sent, from what is stored", () => {
    const result = sealAttempts(
      Array.from({ length: 5 }, (_, i) => attempt(i)),
      signer,
      1_700_000_000,
    );
    for (const s of result.sealed) {
      const rebuilt = rebuildSealedAttempt({
        tenant: s.attempt.tenant,
        delivery: s.attempt.delivery,
        event: s.attempt.event,
        eventType: s.attempt.eventType,
        attempt: s.attempt.attempt,
        target: s.attempt.target,
        idempotencyKey: s.attempt.idempotencyKey,
        sealedAt: 1_700_000_000,
        previous: s.attempt.previous,
        hops: s.hops,
        webhookSignature: s.headers["webhook-signature"]!,
        custodySignature: s.headers["x-custody-signature"]!,
        keyIds: s.attempt.secrets.map((k) => k.keyId),
        note: result.note,
        signer: signer.name,
        index: s.index,
        size: result.size,
        path: batchFromLeafHashes(result.leafHashes).pathOf(s.index),
      });
      expect(rebuilt.headers).toEqual(s.headers);
      expect(rebuilt.record).toEqual(s.record);
      expect(rebuilt.root).toEqual(s.root);
    }
  });
});

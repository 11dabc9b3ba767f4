import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { custodySignature, verifyCustodySignature } from "./custody.js";
import { SigningError } from "./errors.js";
import { generateSecret } from "./secret.js";
import { standardSignature, standardWebhookHeaders, verifyStandardSignature } from "./standard.js";
import { enc } from "./expect.fixture.js";

/*
 * Property tests: for random secrets, message ids, timestamps and bodies, what we sign verifies
 * (with our verifier, node:crypto and the standardwebhooks package), and any single-byte change to
 * the body, the id, the timestamp or the signature makes verification fail.
 */

const ID_CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/+=!~"];
const idArb = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 64 });
const secretArb = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((b) => "whsec_" + Buffer.from(b).toString("base64"));
const tsArb = fc.integer({ min: 0, max: 4_102_444_800 }); // up to 2100-01-01
const bodyArb = fc.uint8Array({ maxLength: 512 });
const NUM_RUNS = 300;

/** Verifies with a huge tolerance so only the signature decides. Returns the error code or "ok". */
function outcome(headers: Record<string, string>, body: Uint8Array, secret: string): string {
  try {
    verifyStandardSignature({ headers, body, secrets: [secret], nowSeconds: 0, toleranceSeconds: Number.MAX_SAFE_INTEGER });
    return "ok";
  } catch (err) {
    if (err instanceof SigningError) return err.code;
    throw err;
  }
}

/** `s` with the character at index i replaced by a different one from `alphabet`. */
function changeChar(s: string, i: number, pick: number, alphabet: readonly string[]): string {
  const others = alphabet.filter((c) => c !== s[i]);
  return s.slice(0, i) + others[pick % others.length] + s.slice(i + 1);
}

describe("properties", () => {
  it("random secrets, ids, timestamps and bodies sign and verify, and agree with node:crypto", () => {
    fc.assert(
      fc.property(secretArb, idArb, tsArb, bodyArb, (secret, msgId, ts, body) => {
        const headers = standardWebhookHeaders({ msgId, timestamp: ts, body, secrets: [secret] });
        const key = Buffer.from(secret.slice(6), "base64");
        expect(headers["webhook-signature"]).toBe("v1," + createHmac("sha256", key).update(`${msgId}.${ts}.`).update(body).digest("base64"));
        expect(outcome(headers, body, secret)).toBe("ok");
        expect(() => verifyCustodySignature(secret, body, custodySignature(secret, body))).not.toThrow();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("random UTF-8 bodies and ids verify with the standardwebhooks package, and a changed body does not", () => {
    const now = Math.floor(Date.now() / 1000);
    fc.assert(
      fc.property(secretArb, idArb, fc.string({ unit: "grapheme", maxLength: 200 }), fc.nat(), (secret, msgId, text, pos) => {
        const headers = standardWebhookHeaders({ msgId, timestamp: now, body: enc(text), secrets: [secret] });
        const wh = new Webhook(secret);
        expect(() => wh.verify(text, { ...headers }, { jsonParse: false })).not.toThrow();
        const i = pos % (text.length + 1);
        const changed = text.slice(0, i) + "\u0001" + text.slice(i);
        expect(() => wh.verify(changed, { ...headers }, { jsonParse: false })).toThrow(/No matching signature/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("any single-byte change to the body fails", () => {
    fc.assert(
      fc.property(secretArb, idArb, tsArb, fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (secret, msgId, ts, body, pos, delta) => {
        const headers = standardWebhookHeaders({ msgId, timestamp: ts, body, secrets: [secret] });
        const changed = body.slice();
        const i = pos % body.length;
        changed[i] = ((changed[i] ?? 0) + delta) & 0xff;
        expect(outcome(headers, changed, secret)).toBe("SIGNATURE_MISMATCH");
        expect(() => verifyCustodySignature(secret, changed, custodySignature(secret, body))).toThrow(SigningError);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("any single-character change to the id fails", () => {
    fc.assert(
      fc.property(secretArb, idArb, tsArb, bodyArb, fc.nat(), fc.nat(), (secret, msgId, ts, body, pos, pick) => {
        const headers = standardWebhookHeaders({ msgId, timestamp: ts, body, secrets: [secret] });
        const changed = changeChar(msgId, pos % msgId.length, pick, ID_CHARS);
        expect(outcome({ ...headers, "webhook-id": changed }, body, secret)).toBe("SIGNATURE_MISMATCH");
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("any single-digit change to the timestamp fails (a leading zero is refused outright)", () => {
    const digits = [..."0123456789"];
    fc.assert(
      fc.property(secretArb, idArb, tsArb, bodyArb, fc.nat(), fc.nat(), (secret, msgId, ts, body, pos, pick) => {
        const headers = standardWebhookHeaders({ msgId, timestamp: ts, body, secrets: [secret] });
        const t = headers["webhook-timestamp"];
        const i = pos % t.length;
        const changed = changeChar(t, i, pick, digits);
        const expected = changed.length > 1 && changed.startsWith("0") ? "BAD_TIMESTAMP" : "SIGNATURE_MISMATCH";
        expect(outcome({ ...headers, "webhook-timestamp": changed }, body, secret)).toBe(expected);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("any single-bit change to the signature fails", () => {
    fc.assert(
      fc.property(secretArb, idArb, tsArb, bodyArb, fc.integer({ min: 0, max: 255 }), (secret, msgId, ts, body, bit) => {
        const sig = standardSignature(secret, msgId, ts, body);
        const raw = Buffer.from(sig.slice(3), "base64");
        raw[bit >> 3] = (raw[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        const headers = { "webhook-id": msgId, "webhook-timestamp": String(ts), "webhook-signature": "v1," + raw.toString("base64") };
        expect(outcome(headers, body, secret)).toBe("SIGNATURE_MISMATCH");
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a signature made with one secret never verifies under another", () => {
    fc.assert(
      fc.property(idArb, bodyArb, (msgId, body) => {
        const [a, b] = [generateSecret(), generateSecret()];
        const headers = standardWebhookHeaders({ msgId, timestamp: 1, body, secrets: [a] });
        expect(outcome(headers, body, b)).toBe("SIGNATURE_MISMATCH");
      }),
      { numRuns: 100 },
    );
  });
});

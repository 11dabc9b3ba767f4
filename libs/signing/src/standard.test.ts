import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { standardSignature, standardWebhookHeaders, verifyStandardSignature } from "./standard.js";
import { generateSecret } from "./secret.js";
import { SECRET_A, SECRET_B, SPEC, enc, expectSigningError } from "./expect.fixture.js";

/** Independent reference: the spec's construction with node:crypto. */
function nodeSignature(secret: string, msgId: string, timestamp: number, body: Uint8Array): string {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return "v1," + createHmac("sha256", key).update(`${msgId}.${timestamp}.`).update(body).digest("base64");
}

/** Runs `fn` with Date.now() at `seconds`, because the standardwebhooks package reads the real clock. */
function at<T>(seconds: number, fn: () => T): T {
  vi.useFakeTimers({ toFake: ["Date"], now: seconds * 1000 });
  try {
    return fn();
  } finally {
    vi.useRealTimers();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

const T = 1_700_000_000;
const BODY = '{"type":"order.created","data":{"id":"ord_1","note":"héllo ✓"}}';

describe("standardSignature", () => {
  it("reproduces the Standard Webhooks spec test vector (literal)", () => {
    expect(standardSignature(SPEC.secret, SPEC.msgId, SPEC.timestamp, enc(SPEC.body))).toBe(SPEC.signature);
  });

  it("matches node:crypto HMAC-SHA256 keyed with the base64-decoded secret (computed and literal)", () => {
    const body = enc('{"a":1}');
    expect(standardSignature(SECRET_A, "evt_1", T, body)).toBe(nodeSignature(SECRET_A, "evt_1", T, body));
    expect(standardSignature(SECRET_A, "evt_1", T, body)).toBe("v1,vsa0sLszCGuZeIfShkRoEyJWraz9HWDIwRhXjjwU1L0=");
  });

  it("signs the exact raw bytes, including ones that are not UTF-8", () => {
    const body = Uint8Array.of(0xff, 0x00, 0xfe, 0x0a);
    expect(standardSignature(SECRET_A, "evt_1", T, body)).toBe(nodeSignature(SECRET_A, "evt_1", T, body));
  });

  it("agrees with the standardwebhooks package's own sign()", () => {
    expect(standardSignature(SECRET_A, "evt_1", T, enc(BODY))).toBe(new Webhook(SECRET_A).sign("evt_1", new Date(T * 1000), BODY));
  });

  it("signs the empty body and timestamp 0", () => {
    expect(standardSignature(SECRET_A, "m", 0, new Uint8Array())).toBe(nodeSignature(SECRET_A, "m", 0, new Uint8Array()));
  });
});

describe("standardWebhookHeaders", () => {
  it("emits the three headers with one v1 entry per secret, space-separated, in order", () => {
    const h = standardWebhookHeaders({ msgId: "evt_1", timestamp: T, body: enc(BODY), secrets: [SECRET_A, SECRET_B] });
    expect(Object.keys(h)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
    expect(h["webhook-id"]).toBe("evt_1");
    expect(h["webhook-timestamp"]).toBe("1700000000");
    expect(h["webhook-signature"]).toBe(`${nodeSignature(SECRET_A, "evt_1", T, enc(BODY))} ${nodeSignature(SECRET_B, "evt_1", T, enc(BODY))}`);
  });

  it("is accepted by the standardwebhooks package for each secret during a rotation overlap", () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders({ msgId: "evt_rot", timestamp: now, body: enc(BODY), secrets: [SECRET_A, SECRET_B] });
    for (const secret of [SECRET_A, SECRET_B]) {
      expect(at(now, () => new Webhook(secret).verify(BODY, { ...headers }))).toEqual(JSON.parse(BODY));
    }
    // A third secret that is not in the overlap is refused.
    expect(() => at(now, () => new Webhook(generateSecret()).verify(BODY, { ...headers }))).toThrow(/No matching signature/);
  });

  it("is refused by the standardwebhooks package when the body, id or timestamp changes", () => {
    const headers = standardWebhookHeaders({ msgId: "evt_1", timestamp: T, body: enc(BODY), secrets: [SECRET_A, SECRET_B] });
    const wh = new Webhook(SECRET_A);
    at(T, () => {
      expect(() => wh.verify(BODY.replace("ord_1", "ord_2"), { ...headers })).toThrow(/No matching signature/);
      expect(() => wh.verify(BODY + " ", { ...headers })).toThrow(/No matching signature/);
      expect(() => wh.verify(BODY, { ...headers, "webhook-id": "evt_2" })).toThrow(/No matching signature/);
      expect(() => wh.verify(BODY, { ...headers, "webhook-timestamp": String(T + 1) })).toThrow(/No matching signature/);
      expect(wh.verify(BODY, { ...headers })).toEqual(JSON.parse(BODY));
    });
  });

  it("validates every input", () => {
    const ok = { msgId: "evt_1", timestamp: T, body: enc(BODY), secrets: [SECRET_A] };
    expectSigningError(() => standardWebhookHeaders({ ...ok, secrets: [] }), "NO_SECRETS");
    expectSigningError(() => standardWebhookHeaders({ ...ok, secrets: "x" as unknown as string[] }), "NO_SECRETS");
    expectSigningError(() => standardWebhookHeaders({ ...ok, secrets: [SECRET_A, SECRET_B, SECRET_A] }), "DUPLICATE_SECRET");
    expectSigningError(() => standardWebhookHeaders({ ...ok, secrets: [SECRET_A, "whsec_x"] }), "BAD_SECRET");
    expectSigningError(() => standardWebhookHeaders({ ...ok, msgId: "" }), "BAD_MSG_ID");
    expectSigningError(() => standardWebhookHeaders({ ...ok, timestamp: -1 }), "BAD_TIMESTAMP");
    expectSigningError(() => standardWebhookHeaders({ ...ok, body: BODY as unknown as Uint8Array }), "BAD_BODY");
  });
});

describe("input validation of the signed fields", () => {
  const sign = (msgId: unknown, timestamp: unknown) => () => standardSignature(SECRET_A, msgId as string, timestamp as number, enc("{}"));

  it.each([
    ["empty", ""],
    ["256 chars", "a".repeat(256)],
    ["a space", "evt 1"],
    ["a tab", "evt\t1"],
    ["a newline", "evt\n1"],
    ["a comma", "evt,1"],
    ["non-ASCII", "évt_1"],
    ["a DEL", "evt\x7f"],
    ["not a string", 7],
  ])("refuses a msgId with %s", (_, msgId) => {
    expectSigningError(sign(msgId, T), "BAD_MSG_ID");
  });

  it("accepts msgIds of 1 and 255 visible ASCII characters", () => {
    expect(sign("a", T)()).toMatch(/^v1,/);
    expect(sign("~".repeat(255), T)()).toMatch(/^v1,/);
    expect(sign("evt_01HZX.9:/+=!", T)()).toMatch(/^v1,/);
  });

  it.each([
    ["negative", -1],
    ["fractional", 1.5],
    ["unsafe", 2 ** 53],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a string", "1700000000"],
    ["a bigint", 1n],
  ])("refuses a timestamp that is %s", (_, ts) => {
    expectSigningError(sign("evt_1", ts), "BAD_TIMESTAMP");
  });

  it("accepts the largest safe integer as a timestamp", () => {
    expect(sign("evt_1", Number.MAX_SAFE_INTEGER)()).toBe(nodeSignature(SECRET_A, "evt_1", Number.MAX_SAFE_INTEGER, enc("{}")));
  });

  it("refuses a non-Uint8Array body (a Buffer is a Uint8Array and is fine)", () => {
    expectSigningError(() => standardSignature(SECRET_A, "evt_1", T, [1, 2] as unknown as Uint8Array), "BAD_BODY");
    expectSigningError(() => standardSignature(SECRET_A, "evt_1", T, new Uint16Array(2) as unknown as Uint8Array), "BAD_BODY");
    expect(standardSignature(SECRET_A, "evt_1", T, Buffer.from("{}"))).toBe(nodeSignature(SECRET_A, "evt_1", T, enc("{}")));
  });
});

describe("verifyStandardSignature", () => {
  const body = enc(BODY);
  const headers = standardWebhookHeaders({ msgId: "evt_1", timestamp: T, body, secrets: [SECRET_A, SECRET_B] });
  const verify = (over: Partial<Parameters<typeof verifyStandardSignature>[0]> = {}) => verifyStandardSignature({ headers, body, secrets: [SECRET_A], nowSeconds: T, ...over });

  it("accepts the spec test vector (literal)", () => {
    const r = verifyStandardSignature({
      headers: { "webhook-id": SPEC.msgId, "webhook-timestamp": String(SPEC.timestamp), "webhook-signature": SPEC.signature },
      body: enc(SPEC.body),
      secrets: [SPEC.secret],
      nowSeconds: SPEC.timestamp,
    });
    expect(r).toEqual({ msgId: SPEC.msgId, timestamp: SPEC.timestamp, secretIndex: 0 });
  });

  it("accepts if any v1 entry matches any secret, and reports which secret", () => {
    expect(verify({ secrets: [SECRET_A] }).secretIndex).toBe(0);
    expect(verify({ secrets: [SECRET_B] }).secretIndex).toBe(0);
    const other = generateSecret();
    expect(verify({ secrets: [other, SECRET_B] }).secretIndex).toBe(1);
    expect(verify({ secrets: [SECRET_B, SECRET_A] }).secretIndex).toBe(0);
  });

  it("accepts a header signed only with the previous secret while the receiver holds both", () => {
    const old = standardWebhookHeaders({ msgId: "evt_1", timestamp: T, body, secrets: [SECRET_B] });
    expect(verify({ headers: old, secrets: [SECRET_A, SECRET_B] }).secretIndex).toBe(1);
  });

  it("accepts what the standardwebhooks package signs", () => {
    const sig = new Webhook(SECRET_A).sign("msg_x", new Date(T * 1000), BODY);
    expect(verify({ headers: { "webhook-id": "msg_x", "webhook-timestamp": String(T), "webhook-signature": sig } }).msgId).toBe("msg_x");
  });

  it("matches header names case-insensitively and accepts Node's IncomingHttpHeaders shape", () => {
    const mixed = { "Webhook-Id": headers["webhook-id"], "WEBHOOK-TIMESTAMP": headers["webhook-timestamp"], "webhook-Signature": headers["webhook-signature"], "set-cookie": ["a", "b"], host: undefined };
    expect(verify({ headers: mixed }).timestamp).toBe(T);
  });

  it("ignores other versions, malformed entries and extra spaces", () => {
    const mine = headers["webhook-signature"].split(" ")[0] as string;
    const sig = `v2,AAAA v1 garbage, v1,!!!! v1,${"A".repeat(43)}=  ${mine} v1a,xyz`;
    expect(verify({ headers: { ...headers, "webhook-signature": sig } }).secretIndex).toBe(0);
    expectSigningError(() => verify({ headers: { ...headers, "webhook-signature": `v2,${mine.slice(3)}` } }), "SIGNATURE_MISMATCH");
    expectSigningError(() => verify({ headers: { ...headers, "webhook-signature": mine.slice(3) } }), "SIGNATURE_MISMATCH");
  });

  it("rejects a signature under a secret it was not given", () => {
    expectSigningError(() => verify({ secrets: [generateSecret()] }), "SIGNATURE_MISMATCH");
  });

  it("checks the tolerance both ways, inclusive at the boundary, default 300 s", () => {
    expect(verify({ nowSeconds: T + 300 }).timestamp).toBe(T);
    expect(verify({ nowSeconds: T - 300 }).timestamp).toBe(T);
    expectSigningError(() => verify({ nowSeconds: T + 301 }), "TIMESTAMP_OUT_OF_TOLERANCE", /too|more than 300s/);
    expectSigningError(() => verify({ nowSeconds: T - 301 }), "TIMESTAMP_OUT_OF_TOLERANCE");
    expect(verify({ nowSeconds: T + 3600, toleranceSeconds: 3600 }).timestamp).toBe(T);
    expectSigningError(() => verify({ nowSeconds: T + 1, toleranceSeconds: 0 }), "TIMESTAMP_OUT_OF_TOLERANCE");
    expect(verify({ nowSeconds: T, toleranceSeconds: 0 }).timestamp).toBe(T);
  });

  it("reports a forgery as SIGNATURE_MISMATCH even when the timestamp is also stale", () => {
    expectSigningError(() => verify({ body: enc("{}"), nowSeconds: T + 10_000 }), "SIGNATURE_MISMATCH");
  });

  it.each([
    ["webhook-id", "webhook-id"],
    ["webhook-timestamp", "webhook-timestamp"],
    ["webhook-signature", "webhook-signature"],
  ] as const)("requires %s (absent or empty)", (_, name) => {
    const { [name]: __, ...rest } = headers;
    expectSigningError(() => verify({ headers: rest }), "MISSING_HEADER", new RegExp(name));
    expectSigningError(() => verify({ headers: { ...headers, [name]: "" } }), "MISSING_HEADER");
    expectSigningError(() => verify({ headers: { ...headers, [name]: undefined } }), "MISSING_HEADER");
  });

  it("refuses ambiguous headers: the same name twice, or a repeated header", () => {
    expectSigningError(() => verify({ headers: { ...headers, "Webhook-Id": "evt_2" } }), "BAD_HEADER", /more than once/);
    expectSigningError(() => verify({ headers: { ...headers, "webhook-signature": [headers["webhook-signature"]] } }), "BAD_HEADER");
    expectSigningError(() => verify({ headers: null as unknown as Record<string, string> }), "BAD_HEADER");
  });

  it.each(["", " 1700000000", "1700000000 ", "+1700000000", "01700000000", "1.7e9", "-1", "abc", "9007199254740993", "0x10"])("refuses a non-canonical webhook-timestamp %j", (ts) => {
    expectSigningError(() => verify({ headers: { ...headers, "webhook-timestamp": ts } }), ts === "" ? "MISSING_HEADER" : "BAD_TIMESTAMP");
  });

  it("validates its other inputs", () => {
    expectSigningError(() => verify({ secrets: [] }), "NO_SECRETS");
    expectSigningError(() => verify({ secrets: [SECRET_A, SECRET_A] }), "DUPLICATE_SECRET");
    expectSigningError(() => verify({ secrets: ["whsec_AAAA"] }), "BAD_SECRET");
    expectSigningError(() => verify({ body: BODY as unknown as Uint8Array }), "BAD_BODY");
    expectSigningError(() => verify({ nowSeconds: T + 0.5 }), "BAD_TIMESTAMP", /nowSeconds/);
    expectSigningError(() => verify({ toleranceSeconds: 1.5 }), "BAD_TOLERANCE");
    expectSigningError(() => verify({ toleranceSeconds: Number.POSITIVE_INFINITY }), "BAD_TOLERANCE");
  });
});

import { describe, expect, it } from "vitest";
import { buildDeliveryHeaders } from "./delivery.js";
import { signedHeadersHop, SIGNED_HEADER_NAMES } from "./hop.js";
import { secretKeyId } from "./secret.js";
import { SECRET_A, SECRET_B, UUID, enc, expectSigningError } from "./expect.fixture.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("signedHeadersHop", () => {
  it("covers exactly the six signature headers, sorted, as name:value LF (literal)", () => {
    const h = buildDeliveryHeaders({
      msgId: "evt_01",
      timestamp: 1_700_000_000,
      body: enc('{"a":1}'),
      eventType: "invoice.paid",
      idempotencyKey: UUID,
      secrets: [
        { secret: SECRET_A, keyId: secretKeyId(SECRET_A) },
        { secret: SECRET_B, keyId: secretKeyId(SECRET_B) },
      ],
      custodyHeaders: { "x-custody-tenant": "ten_1" },
    });
    // Literal: an independent verifier can check its implementation against this exact string.
    const expected =
      "webhook-id:evt_01\n" +
      "webhook-signature:v1,jhfbVl0iarsICM5Yxa1AWDe1zo3xN2NsoY2C/Qc7npA= v1,9Kry6AbBXoD/q0RRquU6tqNqXY/YfkQvgucp9ZHbAxg=\n" +
      "webhook-timestamp:1700000000\n" +
      "x-custody-signature:sha256=c0c4aaadef0d4ea02df648d735cb3ccb20388dfbb5281fa746cde1be505662bf\n" +
      "x-custody-signature-key-id:whk_425ed4e4a36b30ea\n" +
      "x-custody-timestamp:1700000000\n";
    expect(text(signedHeadersHop(h))).toBe(expected);
  });

  it("matches the doc-comment example byte for byte", () => {
    const bytes = signedHeadersHop({ "Webhook-Id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,abc=" });
    expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from("webhook-id:msg_1\nwebhook-signature:v1,abc=\nwebhook-timestamp:1700000000\n", "ascii").toString("hex"));
  });

  it("lists the names in byte-wise ascending order", () => {
    expect([...SIGNED_HEADER_NAMES]).toEqual([...SIGNED_HEADER_NAMES].sort());
    expect(SIGNED_HEADER_NAMES).toHaveLength(6);
  });

  it("ignores other headers and insertion order, lowercases names, keeps values verbatim", () => {
    const a = signedHeadersHop({ "X-Custody-Timestamp": "1", "webhook-id": "Evt_A", "content-type": "application/json", "x-custody-event": "e" });
    const b = signedHeadersHop({ "webhook-id": "Evt_A", "x-custody-timestamp": "1" });
    expect(text(a)).toBe("webhook-id:Evt_A\nx-custody-timestamp:1\n");
    expect(a).toEqual(b);
    expect(text(signedHeadersHop({ "webhook-id": " a  b " }))).toBe("webhook-id: a  b \n");
  });

  it("skips absent headers; an empty value is present", () => {
    expect(signedHeadersHop({})).toEqual(new Uint8Array());
    expect(signedHeadersHop({ "webhook-id": undefined, "x-other": "1" })).toEqual(new Uint8Array());
    expect(text(signedHeadersHop({ "webhook-id": "" }))).toBe("webhook-id:\n");
  });

  it("changes when any covered value changes", () => {
    const base = { "webhook-id": "a", "webhook-timestamp": "1", "webhook-signature": "v1,x", "x-custody-signature": "s", "x-custody-signature-key-id": "k", "x-custody-timestamp": "1" };
    const hop = text(signedHeadersHop(base));
    for (const name of SIGNED_HEADER_NAMES) expect(text(signedHeadersHop({ ...base, [name]: base[name] + "!" }))).not.toBe(hop);
  });

  it.each([
    ["a value with LF (could forge a line)", { "webhook-id": "a\nx-custody-timestamp:1" }],
    ["a value with CR", { "webhook-id": "a\r" }],
    ["a value with a tab", { "webhook-id": "a\tb" }],
    ["a value with non-ASCII", { "webhook-id": "é" }],
    ["a name twice in different case", { "webhook-id": "a", "Webhook-ID": "a" }],
    ["an array value", { "webhook-signature": ["v1,a", "v1,b"] }],
  ])("refuses %s", (_, headers) => {
    expectSigningError(() => signedHeadersHop(headers), "BAD_HEADER");
  });

  it("does not mind bad values in headers it does not cover", () => {
    expect(text(signedHeadersHop({ "webhook-id": "a", "x-other": "é\n", "set-cookie": ["1", "2"] }))).toBe("webhook-id:a\n");
  });
});

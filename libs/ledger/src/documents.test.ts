import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventEntry, type LedgerEntry, outcomesEntry, parseEntry, parseEntryOf, recallEntry, receiptEntry, sealEntry } from "./documents.js";
import { attemptEntry, custodyEntry } from "./documents-v1.js";
import { encodeEntry, MAX_BATCH_SIZE } from "./entry.js";

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"));
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const time = fc.date({ min: new Date(0), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
const base64 = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString("base64"));

/** Every kind the builders make, with arbitrary well-formed fields. */
const anyEntry: fc.Arbitrary<LedgerEntry> = fc.oneof(
  fc
    .record({ tenantId: id, eventId: id, type: fc.stringMatching(/^[a-z]{1,20}\.[a-z]{1,20}$/), payloadSha256: fc.uint8Array({ minLength: 32, maxLength: 32 }), occurredAt: time, supersedes: fc.option(id) })
    .map(eventEntry),
  fc.record({ tenantId: id, eventId: id, reason: fc.string({ minLength: 1, maxLength: 1000 }), recalledAt: time }).map(recallEntry),
  fc.record({ tenantId: id, deliveryId: id, eventId: id, statement: base64(1, 300), signature: base64(64, 64), publicKey: hex(32) }).map(receiptEntry),
  fc.record({ batchRoot: hex(32), size: fc.integer({ min: 1, max: MAX_BATCH_SIZE }), keyId: hex(4) }).map(sealEntry),
  fc.record({ batchRoot: hex(32), size: fc.integer({ min: 1, max: MAX_BATCH_SIZE }) }).map(outcomesEntry),
  fc
    .record({
      tenantId: id,
      deliveryId: id,
      eventId: id,
      attemptNo: fc.integer({ min: 1, max: 100 }),
      endpointId: fc.option(id),
      hops: fc.record({ ingested: hex(32), prepared: hex(32), redacted: hex(32), signed: hex(32) }),
      custodyRoot: hex(32),
      seal: fc.integer({ min: 1, max: MAX_BATCH_SIZE }).chain((size) => fc.record({ batchRoot: hex(32), size: fc.constant(size), index: fc.integer({ min: 0, max: size - 1 }), keyId: hex(4) })),
    })
    .map(custodyEntry),
  fc
    .record({
      tenantId: id,
      deliveryId: id,
      attemptNo: fc.integer({ min: 1, max: 100 }),
      custodyRoot: hex(32),
      outcome: fc.constantFrom("delivered" as const, "retry" as const, "dead" as const),
      statusCode: fc.option(fc.integer({ min: 100, max: 599 })),
      errorClass: fc.option(fc.constantFrom("timeout", "connect", "refused_target")),
      startedAt: time,
      durationMs: fc.integer({ min: 0, max: 60_000 }),
      responseSha256: fc.option(hex(32)),
    })
    .map(attemptEntry),
);

/** The bytes of an entry with one member changed (or removed, for `undefined`). */
function withMember(entry: LedgerEntry, member: string, value: unknown): Uint8Array {
  const changed: Record<string, unknown> = { ...entry };
  if (value === undefined) delete changed[member];
  else changed[member] = value;
  return encodeEntry(changed as LedgerEntry);
}

describe("ledger entry parsers", () => {
  it("read back exactly what every builder wrote, kind by kind", () => {
    fc.assert(
      fc.property(anyEntry, (entry) => {
        const bytes = encodeEntry(entry);
        expect(parseEntry(bytes)).toEqual(entry);
        expect(parseEntryOf(bytes, entry.kind)).toEqual(entry);
      }),
    );
  });

  it("refuse a member the kind does not list, and a missing one, whatever the kind", () => {
    fc.assert(
      fc.property(anyEntry, fc.constantFrom("extra", "payload", "data"), (entry, extra) => {
        expect(() => parseEntry(withMember(entry, extra, 1))).toThrow(`member ${extra} is not one of this kind's members`);
        const members = Object.keys(entry).filter((m) => m !== "v" && m !== "kind" && m !== "supersedes");
        for (const m of members) expect(() => parseEntry(withMember(entry, m, undefined))).toThrow(`member ${m} is missing`);
      }),
      { numRuns: 50 },
    );
  });

  it("refuse a member of the wrong type or format, naming it", () => {
    const event = eventEntry({ tenantId: "ten_1", eventId: "evt_1", type: "order.final", payloadSha256: new Uint8Array(32), occurredAt: new Date(0), supersedes: "evt_0" });
    const cases: Array<[LedgerEntry, string, unknown, RegExp]> = [
      [event, "tenant", 7, /member tenant is not an id/],
      [event, "event", "evt 1", /member event is not an id/],
      [event, "payloadSha256", "AB".repeat(32), /member payloadSha256 is not 64 lowercase hex/],
      [event, "occurredAt", "1970-01-01T00:00:00Z", /member occurredAt is not a time/],
      [event, "occurredAt", "2026-02-30T00:00:00.000Z", /member occurredAt is not a time/],
      [event, "type", "", /member type is not 1 to 128 characters/],
      [event, "supersedes", null, /member supersedes is not an id/],
      [recallEntry({ tenantId: "ten_1", eventId: "evt_1", reason: "x", recalledAt: new Date(0) }), "reason", "", /member reason is not 1 to 1000/],
      [sealEntry({ batchRoot: "00".repeat(32), size: 1, keyId: "0011aabb" }), "keyId", "0011AABB", /member keyId is not a key id/],
      [sealEntry({ batchRoot: "00".repeat(32), size: 1, keyId: "0011aabb" }), "size", MAX_BATCH_SIZE + 1, /member size is not an integer from 1 to 4096/],
      [outcomesEntry({ batchRoot: "00".repeat(32), size: 1 }), "size", 1.5, /member size is not an integer/],
      [receiptEntry({ tenantId: "t", deliveryId: "d", eventId: "e", statement: "e30=", signature: "AA==", publicKey: "00".repeat(32) }), "signature", "AA==", /signature is not the canonical base64 of 64 bytes/],
      [receiptEntry({ tenantId: "t", deliveryId: "d", eventId: "e", statement: "e30=", signature: "A".repeat(86) + "==", publicKey: "00".repeat(32) }), "statement", "e30", /member statement is not canonical base64/],
    ];
    for (const [entry, member, value, message] of cases) expect(() => parseEntry(withMember(entry, member, value))).toThrow(message);
  });

  it("refuse format 1 entries whose nested members are not the listed ones", () => {
    const custody = custodyEntry({
      tenantId: "ten_1",
      deliveryId: "dlv_1",
      eventId: "evt_1",
      attemptNo: 1,
      endpointId: "wh_1",
      hops: { ingested: "00".repeat(32), prepared: "11".repeat(32), redacted: "22".repeat(32), signed: "33".repeat(32) },
      custodyRoot: "44".repeat(32),
      seal: { batchRoot: "55".repeat(32), size: 2, index: 1, keyId: "0011aabb" },
    });
    expect(() => parseEntry(withMember(custody, "hops", { ...custody.hops, delivered: "66".repeat(32) }))).toThrow(/member delivered is not one of/);
    expect(() => parseEntry(withMember(custody, "seal", { ...custody.seal, index: 2 }))).toThrow(/member index is not an integer from 0 to 1/);
    expect(() => parseEntry(withMember(custody, "target", { endpoint: "wh_1", callback: true }))).toThrow(/member target is not/);
    expect(() => parseEntry(withMember(custody, "target", { callback: false }))).toThrow(/member target is not/);
    const attempt = attemptEntry({
      tenantId: "ten_1",
      deliveryId: "dlv_1",
      attemptNo: 1,
      custodyRoot: "44".repeat(32),
      outcome: "retry",
      statusCode: 503,
      errorClass: null,
      startedAt: new Date(0),
      durationMs: 5,
      responseSha256: null,
    });
    expect(() => parseEntry(withMember(attempt, "outcome", "lost"))).toThrow(/member outcome is not one of delivered, retry, dead/);
    expect(() => parseEntry(withMember(attempt, "status", 99))).toThrow(/member status is not an HTTP status or null/);
    expect(() => parseEntry(withMember(attempt, "error", "Timeout"))).toThrow(/member error is not an error class or null/);
  });

  it("parseEntryOf refuses another kind, naming both", () => {
    const bytes = encodeEntry(outcomesEntry({ batchRoot: "00".repeat(32), size: 1 }));
    expect(() => parseEntryOf(bytes, "seal")).toThrow('kind is "outcomes", expected "seal"');
  });
});

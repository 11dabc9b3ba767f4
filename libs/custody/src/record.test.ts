import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leafHash, rootFromLeafHashes, verifyInclusion } from "@custody/merkle";
import { toHex } from "@custody/encoding";
import {
  batchFromLeafHashes,
  batchOf,
  custodyRoot,
  hopLeafEntry,
  hopsFromBytes,
  SEALED_HOPS,
  encodeCustodyRecord,
  encodeOutcomeRecord,
  packLeafHashes,
  parseCustodyRecord,
  parseOutcomeRecord,
  unpackLeafHashes,
  type CustodyRecord,
  type OutcomeRecord,
} from "./index.js";

const h = (c: string) => c.repeat(64);
const custody: CustodyRecord = {
  tenant: "ten_A",
  delivery: "dlv_B",
  event: "evt_C",
  attempt: 2,
  target: { endpoint: "wh_D" },
  sealedAt: 1_700_000_000,
  previous: h("e"),
  hops: { ingested: h("1"), redacted: h("2"), prepared: h("3"), signed: h("4") },
  root: h("5"),
};
const outcome: OutcomeRecord = {
  tenant: "ten_A",
  delivery: "dlv_B",
  attempt: 2,
  root: h("5"),
  outcome: "delivered",
  status: 200,
  error: null,
  startedAt: "2026-12-03T16:14:56.123Z",
  durationMs: 12,
  responseSha256: h("6"),
};
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

describe("custody and outcome records", () => {
  it("encode as RFC 8785 canonical JSON (literal, for independent implementations)", () => {
    expect(text(encodeCustodyRecord(custody))).toBe(
      `{"attempt":2,"delivery":"dlv_B","event":"evt_C","hops":{"ingested":"${h("1")}","prepared":"${h("3")}","redacted":"${h("2")}","signed":"${h("4")}"},"kind":"custody","previous":"${h("e")}","root":"${h("5")}","sealedAt":1700000000,"target":{"endpoint":"wh_D"},"tenant":"ten_A","v":2}`,
    );
    expect(text(encodeCustodyRecord({ ...custody, attempt: 1, previous: null, target: { callback: true } }))).toContain('"kind":"custody","previous":null,');
    expect(text(encodeOutcomeRecord(outcome))).toBe(
      `{"attempt":2,"delivery":"dlv_B","durationMs":12,"error":null,"kind":"attempt","outcome":"delivered","responseSha256":"${h("6")}","root":"${h("5")}","startedAt":"2026-12-03T16:14:56.123Z","status":200,"tenant":"ten_A","v":2}`,
    );
  });

  it("round-trip through the strict parsers", () => {
    expect(parseCustodyRecord(encodeCustodyRecord(custody))).toEqual(custody);
    expect(parseOutcomeRecord(encodeOutcomeRecord(outcome))).toEqual(outcome);
    const dead: OutcomeRecord = { ...outcome, outcome: "dead", status: null, error: "endpoint_disabled", responseSha256: null };
    expect(parseOutcomeRecord(encodeOutcomeRecord(dead))).toEqual(dead);
  });

  it("refuse bytes that are not exactly the canonical form", () => {
    const good = text(encodeCustodyRecord(custody));
    for (const bad of [
      good.replace('"attempt":2,', '"attempt":2.0,'),
      good.replace("{", "{ "),
      good.replace('"v":2}', '"v":2,"extra":1}'),
      good.replace('"attempt":2,', '"attempt":2,"attempt":2,'),
      good.replace('"tenant":"ten_A","v":2', '"v":2,"tenant":"ten_A"'),
      good.replace('"v":2', '"v":1'),
      good.replace('"kind":"custody"', '"kind":"attempt"'),
      `\uFEFF${good}`,
    ]) {
      expect(() => parseCustodyRecord(enc(bad)), bad).toThrow(/canonical|"v": 2|UTF-8 JSON/);
    }
    expect(() => parseOutcomeRecord(encodeCustodyRecord(custody))).toThrow(/"kind": "attempt"/);
  });

  it("refuse ill-formed members", () => {
    const bad: Array<Partial<CustodyRecord>> = [
      { attempt: 0 },
      { attempt: 1 }, // attempt 1 has no previous
      { previous: null }, // attempt 2 must have one
      { previous: "E".repeat(64) },
      { hops: { ...custody.hops, signed: "00" } },
      { target: { endpoint: "" } },
      { target: { endpoint: "wh_D", callback: true } as never },
      { sealedAt: -1 },
      { tenant: "ten A" },
    ];
    for (const over of bad) expect(() => encodeCustodyRecord({ ...custody, ...over }), JSON.stringify(over)).toThrow(/custody record/);
    const badOutcomes: Array<Partial<OutcomeRecord>> = [{ outcome: "ok" as "delivered" }, { status: 99 }, { error: "Timeout" }, { startedAt: "2026-12-03T16:14:56Z" }, { durationMs: -1 }, { responseSha256: "" }];
    for (const over of badOutcomes) expect(() => encodeOutcomeRecord({ ...outcome, ...over }), JSON.stringify(over)).toThrow(/outcome record/);
  });
});

describe("batch trees", () => {
  it("give every member a path that proves it under the root, also from stored leaf hashes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), (n) => {
        const entries = Array.from({ length: n }, (_, i) => enc(`record ${i}`));
        const batch = batchOf(entries);
        const again = batchFromLeafHashes(unpackLeafHashes(packLeafHashes(batch.leafHashes)));
        expect(toHex(again.root)).toBe(toHex(batch.root));
        for (let i = 0; i < n; i++) {
          expect(again.pathOf(i).map(toHex)).toEqual(batch.pathOf(i).map(toHex));
          verifyInclusion(leafHash(entries[i]!), i, n, batch.pathOf(i), batch.root);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("refuse empty and oversized batches and torn leaf packs", () => {
    expect(() => batchOf([])).toThrow(/1 to 4096/);
    expect(() => unpackLeafHashes(new Uint8Array(33))).toThrow(/multiple of 32/);
  });
});

describe("custodyRoot", () => {
  it("is the RFC 9162 root of the four hop leaf entries (FORMAT.md §7), by the reference implementation", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 128 }), (bytes) => {
        const hops = hopsFromBytes(bytes);
        expect(custodyRoot(hops)).toEqual(rootFromLeafHashes(SEALED_HOPS.map((n) => leafHash(hopLeafEntry(n, hops[n])))));
      }),
      { numRuns: 50 },
    );
    // Literal, for independent implementations: hops 0x01…, 0x02…, 0x03…, 0x04… (32 bytes each).
    const literal = hopsFromBytes(Uint8Array.from({ length: 128 }, (_, i) => (i >> 5) + 1));
    expect(toHex(custodyRoot(literal))).toBe("0c5629b0fb91049a7a9bc7bccb0e50e4cdfa65fa6811d745c77291d4f9861670");
  });
});

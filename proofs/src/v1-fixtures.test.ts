import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseVerifierKey } from "@custody/note";
import { verifyProof, verifyRedaction } from "./index.js";

/**
 * Real `custody-chain/v1` documents, captured from a live platform before the v2 evidence format:
 * thin (during a secret rotation overlap), fat, callback, retried (three attempts), receipted,
 * recalled, a recall notice and replayed deliveries. The verifier must keep accepting them as they
 * are — an auditor may hold such a document for years — and keep rejecting a changed payload.
 */
interface Fixture {
  path: string;
  eventId: string;
  document: unknown;
  payload: string;
  keys: string[];
  secret: string;
  receiptKey?: string;
  original?: { data: unknown };
  checks: string[];
}

const dir = new URL("../fixtures/v1/", import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), "utf8")) as Fixture] as const);

describe("v1 documents captured before v2", () => {
  it("covers every kind of delivery", () => {
    expect(new Set(fixtures.map(([, f]) => f.path))).toEqual(new Set(["/thin", "/fat", "/callback", "/flaky", "/receipt"]));
  });

  for (const [file, f] of fixtures) {
    const input = {
      document: f.document,
      key: f.keys.map(parseVerifierKey),
      secret: f.secret,
      ...(f.receiptKey === undefined ? {} : { receiptKey: Buffer.from(f.receiptKey, "hex") }),
    };
    it(`${file} verifies, and a flipped payload byte fails 'prepared'`, () => {
      const payload = Buffer.from(f.payload, "base64");
      const checks = verifyProof({ ...input, payload });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(checks.map((c) => c.name)).toEqual(f.checks);
      const flipped = Buffer.from(payload);
      flipped[flipped.length - 3]! ^= 1;
      expect(verifyProof({ ...input, payload: flipped }).find((c) => !c.ok)?.name).toBe("prepared");
    });
    it(`${file}: an unsigned header that disagrees with the document fails 'signed'`, () => {
      const document = structuredClone(f.document) as { deliveries: Array<{ attempts: Array<{ headers: Record<string, string> }> }> };
      const headers = document.deliveries[0]!.attempts[0]!.headers;
      headers["x-custody-delivery-id"] = "dlv_someone_else";
      const checks = verifyProof({ ...input, document, payload: Buffer.from(f.payload, "base64") });
      expect(checks.find((c) => !c.ok)).toMatchObject({ name: "signed", detail: expect.stringMatching(/x-custody-delivery-id/) });
    });
    if (f.original !== undefined) {
      it(`${file}: the producer's original opens every redaction`, () => {
        const checks = verifyRedaction({ document: f.document, original: f.original, key: input.key });
        expect(checks.filter((c) => !c.ok)).toEqual([]);
      });
    }
  }
});

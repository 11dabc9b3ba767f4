import { describe, expect, it } from "vitest";
import { countingRandom, expectRedactionError } from "./expect.fixture.js";
import { redact, verifyRedaction, verifyRemovedField } from "./index.js";
import type { JsonValue, RemovedField } from "./index.js";

const original: JsonValue = {
  email: "alice@example.com",
  result: { taxId: "DE123", score: 7 },
  holders: [{ name: "Alice" }, { name: "Bob" }],
};
const honest = redact(original, ["/email", "/result/taxId", "/holders/1", "/absent"], { shape: "thin", random: countingRandom() });
const field = (path: string): RemovedField => honest.removed.find((r) => r.path === path)!;

describe("verifyRemovedField", () => {
  it("accepts each honestly removed field", () => {
    for (const r of honest.removed) expect(() => verifyRemovedField(original, r)).not.toThrow();
  });

  it("PATH_ABSENT when the original has nothing there", () => {
    expectRedactionError(() => verifyRemovedField({ result: {} }, field("/result/taxId")), "PATH_ABSENT", /"\/result\/taxId"/);
  });

  it("COMMITMENT_MISMATCH for another value, path, or salt", () => {
    expectRedactionError(() => verifyRemovedField({ ...(original as object), email: "eve@example.com" }, field("/email")), "COMMITMENT_MISMATCH");
    // Replay: the email's commitment presented for another present field.
    expectRedactionError(() => verifyRemovedField(original, { ...field("/email"), path: "/result/score" }), "COMMITMENT_MISMATCH");
    expectRedactionError(() => verifyRemovedField(original, { ...field("/email"), salt: field("/holders/1").salt }), "COMMITMENT_MISMATCH");
  });

  it("checks the formats first", () => {
    expectRedactionError(() => verifyRemovedField(original, { ...field("/email"), path: "email" }), "BAD_POINTER");
    expectRedactionError(() => verifyRemovedField(original, { ...field("/email"), salt: "short" }), "BAD_SALT");
    expectRedactionError(() => verifyRemovedField(original, { ...field("/email"), commitment: "00" }), "BAD_COMMITMENT");
    expectRedactionError(() => verifyRemovedField(original, null as never), "BAD_ARGUMENT");
    expectRedactionError(() => verifyRemovedField(original, { path: "/email", salt: field("/email").salt } as never), "BAD_ARGUMENT");
    expectRedactionError(() => verifyRemovedField({ x: 1n } as never, field("/email")), "NOT_JSON");
  });

  it("ignores properties other than path, salt and commitment", () => {
    expect(() => verifyRemovedField(original, { ...field("/email"), extra: 1 } as RemovedField)).not.toThrow();
  });
});

describe("verifyRedaction", () => {
  const claim = { original, delivered: honest.payload, removed: honest.removed };

  it("accepts an honest redaction, in any order of removed", () => {
    verifyRedaction(claim);
    verifyRedaction({ ...claim, removed: [...honest.removed].reverse() });
  });

  it("accepts a fat delivery (nothing removed)", () => {
    verifyRedaction({ original, delivered: redact(original, ["/email"], { shape: "fat" }).payload, removed: [] });
  });

  it("PAYLOAD_MISMATCH when the delivered payload is not the original minus the removed paths", () => {
    // Personal data left in although claimed removed.
    expectRedactionError(() => verifyRedaction({ ...claim, delivered: original }), "PAYLOAD_MISMATCH");
    // Something else dropped silently.
    expectRedactionError(() => verifyRedaction({ ...claim, delivered: { holders: [{ name: "Alice" }, null], result: {} } }), "PAYLOAD_MISMATCH");
    // An array element spliced out instead of nulled.
    expectRedactionError(() => verifyRedaction({ ...claim, delivered: { holders: [{ name: "Alice" }], result: { score: 7 } } }), "PAYLOAD_MISMATCH");
    // A removed-field entry dropped from the list: the payload no longer matches.
    expectRedactionError(() => verifyRedaction({ ...claim, removed: honest.removed.slice(1) }), "PAYLOAD_MISMATCH");
  });

  it("compares canonically, not by key order or number spelling", () => {
    const reordered = JSON.parse('{"holders":[{"name":"Alice"},null],"result":{"score":7.0}}') as JsonValue;
    verifyRedaction({ ...claim, delivered: reordered });
  });

  it("DUPLICATE_PATH before anything is hashed", () => {
    expectRedactionError(() => verifyRedaction({ ...claim, removed: [...honest.removed, field("/email")] }), "DUPLICATE_PATH", /"\/email"/);
  });

  it("PATH_ABSENT / COMMITMENT_MISMATCH from the per-field check", () => {
    const { email: _, ...withoutEmail } = original as Record<string, JsonValue>;
    expectRedactionError(() => verifyRedaction({ ...claim, original: withoutEmail }), "PATH_ABSENT");
    expectRedactionError(() => verifyRedaction({ ...claim, original: { ...withoutEmail, email: "x" } }), "COMMITMENT_MISMATCH");
  });

  it("BAD_ARGUMENT / NOT_JSON for malformed claims", () => {
    expectRedactionError(() => verifyRedaction(null as never), "BAD_ARGUMENT");
    expectRedactionError(() => verifyRedaction({ ...claim, removed: {} as never }), "BAD_ARGUMENT");
    expectRedactionError(() => verifyRedaction({ ...claim, delivered: undefined as never }), "NOT_JSON");
    expectRedactionError(() => verifyRedaction({ ...claim, original: { ...(original as object), email: undefined } as never }), "NOT_JSON");
  });
});

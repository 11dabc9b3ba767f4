/**
 * One negative test per error code. The table is typed `Record<RedactionErrorCode, …>`, so adding a
 * code to RedactionErrorCodes without a way to reach it here is a type error, and the runtime check
 * below catches a table that drifts from the list.
 */
import { describe, expect, it } from "vitest";
import { SALT_0_15_TEXT } from "./expect.fixture.js";
import { computeCommitment, redact, redactionHopBytes, RedactionError, RedactionErrorCodes, requiredAcknowledgements, verifyRedaction, verifyRemovedField } from "./index.js";
import type { RedactionErrorCode, RemovedField } from "./index.js";

const original = { email: "a@example.com", age: 41 };
const field: RemovedField = { path: "/email", salt: SALT_0_15_TEXT, commitment: computeCommitment("/email", SALT_0_15_TEXT, "a@example.com") };

const triggers: Record<RedactionErrorCode, () => unknown> = {
  BAD_ARGUMENT: () => redact(original, ["/email"], { shape: "skinny" as "thin" }),
  BAD_POINTER: () => redact(original, ["email"], { shape: "thin" }),
  NOT_JSON: () => redact({ when: new Date(0) } as never, ["/email"], { shape: "thin" }),
  BAD_SALT: () => verifyRemovedField(original, { ...field, salt: SALT_0_15_TEXT + "==" }),
  BAD_COMMITMENT: () => verifyRemovedField(original, { ...field, commitment: field.commitment.toUpperCase() }),
  BAD_RANDOM: () => redact(original, ["/email"], { shape: "thin", random: () => new Uint8Array(8) }),
  PATH_ABSENT: () => verifyRemovedField(original, { ...field, path: "/phone" }),
  COMMITMENT_MISMATCH: () => verifyRemovedField({ ...original, email: "b@example.com" }, field),
  DUPLICATE_PATH: () => redactionHopBytes({ age: 41 }, [field, field]),
  PAYLOAD_MISMATCH: () => verifyRedaction({ original, delivered: { age: 42 }, removed: [field] }),
  AMBIGUOUS_ACKNOWLEDGEMENT: () =>
    requiredAcknowledgements(
      [
        { name: "a.b", personalDataFields: ["/c"] },
        { name: "a", personalDataFields: ["/b.c"] },
      ],
      ["a.b"],
    ),
};

describe("RedactionError", () => {
  it("the trigger table covers exactly the declared codes", () => {
    expect(Object.keys(triggers).sort()).toEqual([...RedactionErrorCodes].sort());
  });

  it.each(RedactionErrorCodes.map((c) => [c] as const))("%s is thrown as a RedactionError with that code", (c) => {
    let caught: unknown;
    try {
      triggers[c]();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RedactionError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as RedactionError).code).toBe(c);
    expect((caught as RedactionError).name).toBe("RedactionError");
    expect((caught as RedactionError).message.length).toBeGreaterThan(0);
  });

  it("messages never carry the personal values involved", () => {
    for (const c of RedactionErrorCodes) {
      try {
        triggers[c]();
      } catch (e) {
        expect((e as Error).message).not.toContain("example.com");
      }
    }
  });
});

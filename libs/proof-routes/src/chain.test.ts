import { describe, expect, it } from "vitest";
import { DOCUMENT_BOUNDS } from "@custody/custody";
import { AppError } from "@custody/errors";
import { withinBounds } from "./chain.js";

const doc = (deliveries: number, attempts: number) => ({ deliveries: Array.from({ length: deliveries }, (_, i) => ({ id: `dlv_${i}`, attempts: Array.from({ length: attempts }, () => ({})) })) });

describe("withinBounds", () => {
  it("passes a document at its bounds through unchanged", () => {
    const d = doc(DOCUMENT_BOUNDS.deliveries, 1);
    expect(withinBounds(d)).toBe(d);
    expect(withinBounds(doc(1, DOCUMENT_BOUNDS.attempts)).deliveries[0]!.attempts).toHaveLength(DOCUMENT_BOUNDS.attempts);
  });

  it("refuses one delivery too many, or one attempt too many, with PROOF_TOO_LARGE (422)", () => {
    for (const [d, why] of [
      [doc(DOCUMENT_BOUNDS.deliveries + 1, 1), /1001 deliveries.*endpointId/],
      [doc(2, DOCUMENT_BOUNDS.attempts + 1), /delivery dlv_0 has 101 attempts/],
    ] as const) {
      const err = (() => {
        try {
          withinBounds(d);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe("PROOF_TOO_LARGE");
      expect((err as AppError).status).toBe(422);
      expect((err as Error).message).toMatch(why);
    }
  });
});

import { describe, expect, it } from "vitest";
import { MerkleErrorCodes, MerkleProofError, type MerkleErrorCode } from "./errors.js";
import * as api from "./index.js";
import { bytes, expectMerkleError } from "./expect.fixture.js";

/**
 * One trigger per code through the public API. The table is typed as a full record, so adding a
 * code to MerkleErrorCodes without a negative test here is a type error.
 */
const triggers: Record<MerkleErrorCode, () => unknown> = {
  BAD_INTEGER: () => api.verifyInclusion(bytes(32), 0.5, 1, [], bytes(32)),
  BAD_ARGUMENT_TYPE: () => api.verifyInclusion("00" as unknown as Uint8Array, 0, 1, [], bytes(32)),
  BAD_HASH_SIZE: () => api.verifyInclusion(bytes(31), 0, 1, [], bytes(32)),
  INDEX_OUT_OF_RANGE: () => api.verifyInclusion(bytes(32), 1, 1, [], bytes(32)),
  WRONG_PROOF_SIZE: () => api.verifyInclusion(bytes(32), 0, 1, [bytes(32)], bytes(32)),
  ROOT_MISMATCH: () => api.verifyInclusion(bytes(32, 1), 0, 1, [], bytes(32, 2)),
  SIZE_ZERO_CONSISTENCY: () => api.verifyConsistency(0, 1, [], bytes(32), bytes(32)),
  SIZE_ORDER: () => api.verifyConsistency(2, 1, [], bytes(32), bytes(32)),
  BAD_RANGE: () => api.perfectDecomposition(1, 3),
  BAD_FRONTIER: () => api.appendLeaves([], 1, []),
  MISSING_NODE: () => api.assembleProof([[{ level: 0, index: 0 }]], () => undefined),
};

describe("MerkleProofError", () => {
  it.each(Object.entries(triggers))("%s has a public trigger", (code, trigger) => {
    const err = expectMerkleError(trigger, code as MerkleErrorCode);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("MerkleProofError");
    expect(err.message.length).toBeGreaterThan(0);
  });

  it("the code list is closed and matches the trigger table", () => {
    expect(Object.keys(triggers).sort()).toEqual([...MerkleErrorCodes].sort());
    for (const code of MerkleErrorCodes) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it("is a plain Error subclass carrying its code", () => {
    const err = new MerkleProofError("ROOT_MISMATCH", "x");
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe("ROOT_MISMATCH");
    expect(err.message).toBe("x");
  });
});

/**
 * @custody/verifier: the standalone verifier of Custody's proofs (proofs/FORMAT.md). Pure: the same
 * checks run in the `custody-verify` CLI and in the offline browser page.
 */
export {
  allOk,
  verifyCheckpoint,
  verifyConsistencyArgs,
  verifyInclusionArgs,
  verifyProof,
  verifyRedaction,
  type Check,
  type CheckName,
  type Count,
  type ProofInput,
  type RedactionInput,
} from "./checks.js";
export { formatCheck } from "./format.js";
export { parseKeys } from "./keys.js";
export { CheckFailure } from "./entries.js";

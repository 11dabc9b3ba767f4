export { MerkleProofError, MerkleErrorCodes, type MerkleErrorCode } from "./errors.js";
export { HASH_SIZE, EMPTY_ROOT, leafHash, nodeHash } from "./hash.js";
// Hex lives in @custody/encoding; this alias only serves services/api until its feature-folder move
// (in progress elsewhere) lands and its one caller switches. Remove it then.
export { toHex, fromHex } from "@custody/encoding";
export { rootFromLeafHashes, inclusionProof, consistencyProof } from "./reference.js";
export {
  verifyInclusion,
  verifyConsistency,
  rootFromInclusionProof,
  rootFromConsistencyProof,
  inclusionProofLength,
  consistencyProofLength,
} from "./verify.js";
export { perfectDecomposition, hashFromDecomposition, nodeKey, type NodeId, type StoredNode } from "./nodeid.js";
export { inclusionProofPlan, consistencyProofPlan, rootPlan, uniqueNodeIds, assembleProof } from "./plan.js";
export { appendLeaves, type AppendResult } from "./append.js";
export { treeLevels, type TreeLevels } from "./levels.js";

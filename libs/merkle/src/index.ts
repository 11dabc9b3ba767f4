export { MerkleProofError, MerkleErrorCodes, type MerkleErrorCode } from "./errors.js";
export { HASH_SIZE, EMPTY_ROOT, leafHash, nodeHash } from "./hash.js";
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

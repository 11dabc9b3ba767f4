export { appendEntries, leafIndexesOf, type NewEntry, type AppendedEntry } from "./append.js";
export { fetchNodes, loadNodes, loadFrontier, rootAt, inclusionProofAt, inclusionProofsAt, consistencyProofBetween, committedTreeSize } from "./tree-store.js";

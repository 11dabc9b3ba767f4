export { appendEntries, entriesInsertSql, entryColumns, entryInsert, entryRows, leafIndexesOf, type EntryColumn, type NewEntry, type AppendedEntry } from "./append.js";
export { fetchNodes, loadNodes, loadFrontier, rootAt, inclusionProofAt, inclusionProofsAt, consistencyProofBetween, committedTreeSize } from "./tree-store.js";
export {
  entriesAfter,
  commitOrderRows,
  finalPrefix,
  positionOf,
  comparePositions,
  assertXidCounterAhead,
  XidCounterBehind,
  ORIGIN_POSITION,
  type CommitPosition,
  type CommitOrderRow,
  type EntriesAfter,
  type OrderedEntry,
} from "./commit-order.js";
export { extendTree, storeCheckpoint, sequencedPosition, legacyQueued, dequeueLegacy, LedgerHeadMoved, AFTER_LEGACY, type TreeTip, type ExtendedTree, type CheckpointToStore } from "./tree-writes.js";

export { encodeEntry, decodeEntry, EntryFormatError, ENTRY_KINDS, ENTRY_KINDS_BY_VERSION, MAX_ENTRY_BYTES, type EntryVersion, type EntryDocument, type EntryKind, type JsonValue } from "./entry.js";
export {
  LedgerAuditor,
  completedNodeRanges,
  verifyCheckpoint,
  type AuditCheck,
  type AuditCheckpoint,
  type AuditFinding,
  type AuditLeaf,
  type AuditLeafBatch,
  type AuditReport,
  type CheckpointVerdict,
  type NodeRange,
  type SignatureAccepts,
  type StoredNodeLookup,
  type TreeHasher,
} from "./audit.js";
export { entryProblem, isCertainlyCanonicalEntry } from "./audit-canonical.js";
export {
  eventEntry,
  custodyEntry,
  attemptEntry,
  recallEntry,
  receiptEntry,
  sealEntry,
  outcomesEntry,
  type BatchEntryFields,
  type EventEntryFields,
  type CustodyEntryFields,
  type AttemptEntryFields,
  type RecallEntryFields,
  type ReceiptEntryFields,
} from "./documents.js";

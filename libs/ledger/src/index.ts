export { encodeEntry, decodeEntry, EntryFormatError, ENTRY_KINDS, ENTRY_KINDS_BY_VERSION, MAX_ENTRY_BYTES, MAX_BATCH_SIZE, type EntryVersion, type EntryDocument, type EntryKind, type JsonValue } from "./entry.js";
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
export { isCertainlyCanonicalEntry } from "./audit-canonical.js";
export {
  eventEntry,
  recallEntry,
  receiptEntry,
  sealEntry,
  outcomesEntry,
  parseEntry,
  entryFault,
  parseEntryOf,
  type BatchEntryFields,
  type EventEntry,
  type EventEntryFields,
  type LedgerEntry,
  type LedgerEntryOf,
  type OutcomesEntry,
  type RecallEntry,
  type RecallEntryFields,
  type ReceiptEntry,
  type ReceiptEntryFields,
  type SealEntry,
} from "./documents.js";
export { custodyEntry, attemptEntry, type AttemptEntry, type AttemptEntryFields, type CustodyEntry, type CustodyEntryFields } from "./documents-v1.js";
export { hex32Member, intMember, objectMember, own, stringMember, type Members } from "./members.js";

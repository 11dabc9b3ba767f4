export { encodeEntry, decodeEntry, EntryFormatError, ENTRY_KINDS, MAX_ENTRY_BYTES, type EntryDocument, type EntryKind, type JsonValue } from "./entry.js";
export { LedgerAuditor, type AuditCheck, type AuditCheckpoint, type AuditFinding, type AuditLeaf, type AuditReport } from "./audit.js";
export { eventEntry, custodyEntry, attemptEntry, recallEntry, receiptEntry, type EventEntryFields, type CustodyEntryFields, type AttemptEntryFields, type RecallEntryFields, type ReceiptEntryFields } from "./documents.js";

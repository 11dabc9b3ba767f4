export { SEALED_HOPS, CustodyFormatError, hopLeafEntry, custodyRoot, preparedHop, hashHopBytes, hopsToHex, hopsFromHex, hopsToBytes, hopsFromBytes, type SealedHop, type SealedHops } from "./hops.js";
export { sealLeafEntry, sealOrigin, sealLeaves, sealBatch, verifySealOf, sealSignatureOf, MAX_SEAL_BATCH, type SealedBatch, type SealProof } from "./seal.js";
export { batchOf, batchFromLeafHashes, packLeafHashes, unpackLeafHashes, MAX_BATCH, type Batch } from "./batch.js";
export {
  encodeCustodyRecord,
  encodeOutcomeRecord,
  parseCustodyRecord,
  parseOutcomeRecord,
  OUTCOMES,
  type AttemptOutcome,
  type CustodyRecord,
  type DeliveryTarget,
  type OutcomeRecord,
} from "./record.js";
export { formatCustodyHeaders, parseCustodyHeaders, formatCustodyHeadersV2, parseCustodyHeadersV2, formatSealHeader, type CustodyHeaders, type CustodyHeadersV2 } from "./headers.js";
export { checkDeliveryRecord, verifyDelivery } from "./verify-delivery.js";
export { rebuildSealedAttempt, sealAttempts, type AttemptToSeal, type SealedAttempt, type SealResult, type StoredSeal } from "./seal-attempts.js";
export { ChainOfCustody, ChainOfCustodyV2, DeliveryProof, DeliveryProofV2, AttemptProof, AttemptProofV2, DOCUMENT_BOUNDS, ProvenEntry, RemovedField } from "./proof-document.js";
export { isUsableReceiptKey, receiptStatementBytes, parseReceiptStatement, verifyReceipt, ReceiptError, type ReceiptStatement, type ReceiptErrorCode } from "./receipt.js";

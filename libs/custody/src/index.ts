export { SEALED_HOPS, CustodyFormatError, hopLeafEntry, custodyRoot, preparedHop, hashHopBytes, hopsToHex, hopsFromHex, type SealedHop, type SealedHops } from "./hops.js";
export { sealLeafEntry, sealOrigin, sealBatch, verifySeal, sealSignatureOf, MAX_SEAL_BATCH, type SealedBatch, type SealProof } from "./seal.js";
export { formatCustodyHeaders, parseCustodyHeaders, type CustodyHeaders } from "./headers.js";
export { ChainOfCustody, DeliveryProof, AttemptProof, ProvenEntry, RemovedField } from "./proof-document.js";
export { receiptStatementBytes, parseReceiptStatement, verifyReceipt, ReceiptError, type ReceiptStatement, type ReceiptErrorCode } from "./receipt.js";

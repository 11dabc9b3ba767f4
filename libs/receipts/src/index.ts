export { checkReceipt, recordReceipts, receiptFromResponse, type ReceiptClaim, type RecordedReceipt } from "./record.js";

import { isUsablePublicKey, verifyEd25519 } from "@custody/crypto";
import { isHex32, isId, utf8Bytes } from "@custody/encoding";

export type ReceiptErrorCode = "RECEIPT_MALFORMED" | "RECEIPT_SIGNATURE_INVALID" | "RECEIPT_MISMATCH";

export class ReceiptError extends Error {
  override readonly name = "ReceiptError";
  constructor(
    readonly code: ReceiptErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ReceiptStatement {
  delivery: string;
  event: string;
  /** hex SHA-256 of the exact body the endpoint received */
  bodySha256: string;
  /** RFC 3339 */
  receivedAt: string;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const MAX_STATEMENT_BYTES = 2048;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The statement an endpoint signs (proofs/FORMAT.md §11): JCS of
 * `{"bodySha256","delivery","event","kind":"custody-receipt","receivedAt","v":1}`. Every member is a
 * string or the version number, so the canonical form is a fixed member order and JSON string escapes.
 */
export function receiptStatementBytes(s: ReceiptStatement): Uint8Array {
  const json = `{"bodySha256":${JSON.stringify(s.bodySha256)},"delivery":${JSON.stringify(s.delivery)},"event":${JSON.stringify(s.event)},"kind":"custody-receipt","receivedAt":${JSON.stringify(s.receivedAt)},"v":1}`;
  return utf8Bytes(json);
}

/** Parses statement bytes, which must be exactly the canonical form of a well-formed statement. */
export function parseReceiptStatement(bytes: Uint8Array): ReceiptStatement {
  if (bytes.length === 0 || bytes.length > MAX_STATEMENT_BYTES) throw new ReceiptError("RECEIPT_MALFORMED", `statement must be 1 to ${MAX_STATEMENT_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ReceiptError("RECEIPT_MALFORMED", "statement is not UTF-8 JSON");
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== "object" || v === null || v.v !== 1 || v.kind !== "custody-receipt") throw new ReceiptError("RECEIPT_MALFORMED", 'statement must have "v": 1 and "kind": "custody-receipt"');
  const s = { delivery: v.delivery, event: v.event, bodySha256: v.bodySha256, receivedAt: v.receivedAt };
  if (!isId(s.delivery) || !isId(s.event)) throw new ReceiptError("RECEIPT_MALFORMED", "statement delivery and event must be ids");
  if (!isHex32(s.bodySha256)) throw new ReceiptError("RECEIPT_MALFORMED", "statement bodySha256 must be 64 lowercase hex characters");
  if (typeof s.receivedAt !== "string" || !RFC3339.test(s.receivedAt) || Number.isNaN(Date.parse(s.receivedAt))) throw new ReceiptError("RECEIPT_MALFORMED", "statement receivedAt must be an RFC 3339 time");
  const statement = s as ReceiptStatement;
  const canonical = receiptStatementBytes(statement);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i]) || Object.keys(v).length !== 6) {
    throw new ReceiptError("RECEIPT_MALFORMED", "statement is not in canonical form (RFC 8785) or has extra members");
  }
  return statement;
}

/**
 * Whether a receipt could ever verify under this endpoint key: a canonical encoding (y < p) of a
 * point not of small order. Strict verification (FORMAT.md §1) rejects every signature under any
 * other key, so the platform refuses such a key when it is registered.
 */
export function isUsableReceiptKey(publicKey: Uint8Array): boolean {
  return isUsablePublicKey(publicKey);
}

/**
 * Checks a counter-signed receipt: the statement is well-formed, names this delivery, event and
 * body hash, and its Ed25519 signature verifies under the endpoint's registered key.
 */
export function verifyReceipt(input: { statement: Uint8Array; signature: Uint8Array; publicKey: Uint8Array; expected: { delivery: string; event: string; bodySha256: string } }): ReceiptStatement {
  const statement = parseReceiptStatement(input.statement);
  if (input.signature.length !== 64) throw new ReceiptError("RECEIPT_MALFORMED", `signature must be 64 bytes, got ${input.signature.length}`);
  // Strict RFC 8032, the verifier's policy (FORMAT.md §1): the ledger never holds a receipt its own verifier rejects.
  if (!verifyEd25519(input.signature, input.statement, input.publicKey)) throw new ReceiptError("RECEIPT_SIGNATURE_INVALID", "the receipt signature does not verify under the endpoint's receipt key");
  for (const field of ["delivery", "event", "bodySha256"] as const) {
    if (statement[field] !== input.expected[field]) throw new ReceiptError("RECEIPT_MISMATCH", `the receipt's ${field} is ${statement[field]}, expected ${input.expected[field]}`);
  }
  return statement;
}

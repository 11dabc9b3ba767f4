/**
 * Counter-signed delivery receipts (proofs/FORMAT.md §11): an endpoint's Ed25519 signature over a
 * JCS statement naming the delivery, the event and the SHA-256 of the body it received. The
 * verifier checks the signature with the receipt key the auditor supplies, never with the key the
 * entry itself names: a key taken from the document under test would prove nothing.
 */
import { isUsablePublicKey, verifyEd25519 } from "@custody/crypto";
import type { ReceiptEntry } from "@custody/ledger";
import { canonicalize, decodeBase64, toHex } from "@custody/encoding";
import type { DeliveryCore } from "./attempt.js";
import type { Context } from "./context.js";
import { decodeKind, expectMember, fail, includedUnder, readProven, reason } from "./entries.js";
import { someItem, type Check } from "./report.js";

export const RECEIPT_KEY_SIZE = 32;

/**
 * Throws unless `key` is a usable receipt key: 32 bytes, a canonical encoding of a point not of
 * small order (the keys strict RFC 8032 verification can ever accept a signature for).
 */
export function assertReceiptKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== RECEIPT_KEY_SIZE) fail(`receipt key must be ${RECEIPT_KEY_SIZE} bytes`);
  if (!isUsablePublicKey(key)) fail("receipt key is not a canonical Ed25519 public key of large order");
}

const STATEMENT_MEMBERS = ["bodySha256", "delivery", "event", "kind", "receivedAt", "v"];
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
// RFC 3339 date-time (any offset, optional fraction); the statement's time is the receiver's claim.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export interface ReceiptExpectation {
  tenant: string | undefined;
  delivery: string;
  event: string;
  /** hex SHA-256 of the delivered body (the attempt's `prepared` hop) */
  bodySha256: string;
}

/**
 * Checks a decoded `receipt` entry: it names the delivery and event, its publicKey is the given
 * key, its signature verifies over its statement with that key, and the statement is canonical
 * JCS with exactly the FORMAT §11 members, naming the same delivery, event and body hash.
 * Returns the statement's receivedAt.
 */
export function checkReceiptEntry(entry: ReceiptEntry, key: Uint8Array, want: ReceiptExpectation): string {
  const what = "receipt entry";
  if (want.tenant !== undefined) expectMember(entry, "tenant", want.tenant, what);
  expectMember(entry, "delivery", want.delivery, what);
  expectMember(entry, "event", want.event, what);
  if (entry.publicKey !== toHex(key)) fail(`${what}: signed by endpoint key ${entry.publicKey}, not the receipt key given`);
  // The entry's parser checked both are canonical base64, the signature of 64 bytes.
  const statement = decodeBase64(entry.statement)!;
  const signature = decodeBase64(entry.signature)!;
  if (!verifyEd25519(signature, statement, key)) fail(`${what}: the Ed25519 signature does not verify over the statement with the receipt key`);

  let text: string;
  let parsed: unknown;
  try {
    text = decoder.decode(statement);
    parsed = JSON.parse(text);
  } catch (err) {
    fail(`receipt statement is not UTF-8 JSON: ${reason(err)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) fail("receipt statement is not a JSON object");
  let canonical: string | undefined;
  try {
    canonical = canonicalize(parsed);
  } catch (err) {
    fail(`receipt statement is not canonical JSON: ${reason(err)}`);
  }
  if (canonical !== text) fail("receipt statement is not canonical JSON (RFC 8785)");
  const s = parsed as Record<string, unknown>;
  const members = Object.keys(s).sort();
  if (members.join(",") !== STATEMENT_MEMBERS.join(",")) fail(`receipt statement has members ${members.join(", ")}; expected ${STATEMENT_MEMBERS.join(", ")}`);
  const expect = (member: string, value: string | number) => {
    if (s[member] !== value) fail(`receipt statement: ${member} is ${JSON.stringify(s[member])}, expected ${JSON.stringify(value)}`);
  };
  expect("v", 1);
  expect("kind", "custody-receipt");
  expect("delivery", want.delivery);
  expect("event", want.event);
  expect("bodySha256", want.bodySha256);
  const receivedAt = s.receivedAt;
  if (typeof receivedAt !== "string" || !RFC3339.test(receivedAt)) fail("receipt statement: receivedAt is not an RFC 3339 time");
  return receivedAt;
}

/**
 * Check 12, `receipt` (FORMAT §14), with the endpoint's receipt key: passes when the receipt entry of
 * at least one matching delivery is included under the checkpoint and verifies with the key.
 */
export function receiptCheck(ctx: Context, deliveries: readonly DeliveryCore[], key: Uint8Array, bodySha256: string): Check {
  try {
    assertReceiptKey(key);
  } catch (err) {
    return { name: "receipt", ok: false, detail: reason(err) };
  }
  return someItem(
    "receipt",
    deliveries,
    (d) => d.id,
    (d) => {
      if (d.receipt === null) fail("the delivery has no receipt entry");
      const read = readProven(d.receipt, "receipt entry");
      const entry = decodeKind(read.bytes, "receipt", "receipt entry");
      const receivedAt = checkReceiptEntry(entry, key, { tenant: ctx.eventTenant, delivery: d.id, event: ctx.doc.event.id, bodySha256 });
      const where = includedUnder(d.receipt, read.leaf, ctx.checkpoint, "receipt entry");
      return `received ${receivedAt}, signed by the receipt key, ${where}`;
    },
  );
}

import { toHex } from "@custody/encoding";
import type { VerifierKey } from "@custody/note";
import { signedHeadersHopV2, type HeaderInput } from "@custody/signing";
import { parseCustodyHeadersV2 } from "./headers.js";
import { custodyRoot, CustodyFormatError, hashHopBytes, hopsFromHex, preparedHop } from "./hops.js";
import { parseCustodyRecord, type CustodyRecord } from "./record.js";
import { verifySealOf, type SealProof } from "./seal.js";

function mismatch(what: string): never {
  throw new CustodyFormatError("MISMATCH", what);
}

function header(headers: HeaderInput, name: string): string | undefined {
  const v = headers[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * What a receiver checks on a format 2 delivery, with nothing but the body, the headers (names
 * lowercase, as Node gives them) and the platform's verifier keys (proofs/FORMAT.md §10): the
 * delivery's own checks (`checkDeliveryRecord`, 1–5), then the seal note over its batch (6–7).
 * Returns the record. Throws CustodyFormatError (BAD_HEADER, BAD_RECORD, BAD_SEAL, MISMATCH) or a
 * NoteError.
 */
export function verifyDelivery(input: { body: Uint8Array; headers: HeaderInput; keys: readonly VerifierKey[] }): CustodyRecord {
  const { record, bytes, seal } = checkDeliveryRecord(input);
  verifySealOf(bytes, seal, input.keys);
  return record;
}

/**
 * FORMAT.md §10 checks 1–5, the ones that need no key: the custody record is canonical; its
 * `prepared` hop is SHA-256 of the body; its `signed` hop is the hash of the signed header lines;
 * its root is the MTH of its hops; it names the delivery, event and timestamp the headers carry.
 * A receiver without the platform's keys can still tell a body or header changed in transit.
 */
export function checkDeliveryRecord(input: { body: Uint8Array; headers: HeaderInput }): { record: CustodyRecord; bytes: Uint8Array; seal: SealProof } {
  const { body, headers } = input;
  const flat = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeof v === "string" ? v : undefined]));
  const { record: bytes, seal } = parseCustodyHeadersV2(flat);
  const record = parseCustodyRecord(bytes);
  if (toHex(preparedHop(body)) !== record.hops.prepared) mismatch("prepared: SHA-256 of the body is not the record's prepared hop");
  if (toHex(hashHopBytes(signedHeadersHopV2(headers))) !== record.hops.signed) mismatch("signed: the signed header lines do not hash to the record's signed hop");
  if (toHex(custodyRoot(hopsFromHex(record.hops))) !== record.root) mismatch("root: the MTH of the hops is not the record's root");
  if (header(headers, "x-custody-delivery-id") !== record.delivery) mismatch("x-custody-delivery-id is not the record's delivery");
  if (header(headers, "webhook-id") !== record.event) mismatch("webhook-id is not the record's event");
  const ts = String(record.sealedAt);
  if (header(headers, "webhook-timestamp") !== ts || header(headers, "x-custody-timestamp") !== ts) mismatch("webhook-timestamp and x-custody-timestamp must be the record's sealedAt");
  return { record, bytes, seal };
}

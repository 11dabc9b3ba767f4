import { utf8Bytes } from "@custody/encoding";
/**
 * Canonical bytes of a delivery's signature headers, hashed into a chain-of-custody hop.
 *
 * Format 2 (proofs/FORMAT.md §6, `signedHeadersHopV2`): the nine names of SIGNED_HEADER_NAMES_V2,
 * every one required (MISSING_HEADER otherwise), each as one `name:value\n` line in that order, with
 * the value rules below. Format 1, kept for verifying old documents:
 *
 * FORMAT (normative; an independent verifier reimplements exactly this):
 *
 *  1. The covered names are exactly these six, compared case-insensitively against the input:
 *       webhook-id, webhook-signature, webhook-timestamp,
 *       x-custody-signature, x-custody-signature-key-id, x-custody-timestamp
 *     Every other header is ignored. A covered name whose value is absent (no key, or the value
 *     `undefined`) is skipped: it contributes no line. An empty string is present (line `name:`).
 *  2. Each present covered header becomes one line: the name in lowercase ASCII, one ':' (0x3A),
 *     the value exactly as given (no trimming, no case change, no whitespace folding), one LF (0x0A).
 *     No space after the colon; no CR.
 *  3. Lines are ordered by name, ascending, comparing bytes (all names are lowercase ASCII). That
 *     order is the list in step 1.
 *  4. The lines are concatenated with nothing between, before or after them, and encoded as UTF-8
 *     (values are restricted to ASCII, so this is also their ASCII encoding). If no covered header
 *     is present the result is the empty byte string.
 *
 * Refused with SigningError BAD_HEADER (never silently normalised, because two different inputs
 * must never produce the same bytes): a covered name given twice (keys that differ only in case),
 * a covered value that is not a single string, or a value with a character outside 0x20–0x7E
 * (which excludes LF, so a value can never forge a line).
 *
 * Example: {"Webhook-Id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,abc="}
 *   -> "webhook-id:msg_1\nwebhook-signature:v1,abc=\nwebhook-timestamp:1700000000\n"
 */
import { fail } from "./errors.js";
import { headerMap, type HeaderInput } from "./headers.js";

/** The covered header names, already in canonical (byte-wise ascending) order. */
export const SIGNED_HEADER_NAMES = ["webhook-id", "webhook-signature", "webhook-timestamp", "x-custody-signature", "x-custody-signature-key-id", "x-custody-timestamp"] as const;

/**
 * Format 2's covered names, in canonical (byte-wise ascending) order: the format 1 six plus the
 * event type, the idempotency key and the delivery id, so that every header a verifier compares
 * with the document is signed too.
 */
export const SIGNED_HEADER_NAMES_V2 = [
  "idempotency-key",
  "webhook-id",
  "webhook-signature",
  "webhook-timestamp",
  "x-custody-delivery-id",
  "x-custody-event",
  "x-custody-signature",
  "x-custody-signature-key-id",
  "x-custody-timestamp",
] as const;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// Sets iterate in insertion order: the canonical order above.
const V1_NAMES: ReadonlySet<string> = new Set(SIGNED_HEADER_NAMES);
const V2_NAMES: ReadonlySet<string> = new Set(SIGNED_HEADER_NAMES_V2);

function hopBytes(headers: HeaderInput, names: ReadonlySet<string>, required: boolean): Uint8Array {
  const byName = headerMap(headers, names);
  let text = "";
  for (const name of names) {
    const value = byName.get(name);
    if (value === undefined) {
      if (required) fail("MISSING_HEADER", `the signed hop needs header ${name}`);
      continue;
    }
    if (!PRINTABLE_ASCII.test(value)) fail("BAD_HEADER", `header ${name} has a character outside printable ASCII (0x20–0x7E)`);
    text += `${name}:${value}\n`;
  }
  return utf8Bytes(text);
}

/** Format 1: the present headers of SIGNED_HEADER_NAMES. */
export function signedHeadersHop(headers: HeaderInput): Uint8Array {
  return hopBytes(headers, V1_NAMES, false);
}

/** Format 2: all of SIGNED_HEADER_NAMES_V2, each required. */
export function signedHeadersHopV2(headers: HeaderInput): Uint8Array {
  return hopBytes(headers, V2_NAMES, true);
}

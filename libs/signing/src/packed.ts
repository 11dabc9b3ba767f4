/**
 * A delivery's two signature headers as bytes, for storage: the `x-custody-signature` MAC, then one
 * Standard Webhooks MAC per `v1,<base64>` token of `webhook-signature`, in header order, 32 bytes
 * each. The header text is a fixed spelling of those bytes (`sha256=` + lowercase hex; `v1,` +
 * padded base64, tokens joined by one space), so it is rebuilt exactly — at 64 bytes for one secret
 * against 120 as text.
 */
import { allocBytes, decodeBase64, encodeBase64, fromHex, toHex } from "@custody/encoding";
import { CUSTODY_SIGNATURE_HEADER, CUSTODY_SIGNATURE_PREFIX } from "./custody.js";
import { fail } from "./errors.js";

const MAC_BYTES = 32;
const STANDARD_TOKEN = /^v1,[A-Za-z0-9+/]{43}=$/;

export interface SignatureHeaders {
  "webhook-signature": string;
  "x-custody-signature": string;
}

/** Packs the headers as buildDeliveryHeaders writes them. Throws SigningError BAD_SIGNATURE_HEADER on any other spelling, which could not be rebuilt. */
export function packSignatures(headers: SignatureHeaders): Uint8Array {
  const custody = headers["x-custody-signature"];
  if (!CUSTODY_SIGNATURE_HEADER.test(custody)) fail("BAD_SIGNATURE_HEADER", "x-custody-signature is not sha256= and 64 lowercase hex digits");
  const tokens = headers["webhook-signature"].split(" ");
  const out = allocBytes(MAC_BYTES * (1 + tokens.length));
  out.set(fromHex(custody.slice(CUSTODY_SIGNATURE_PREFIX.length)), 0);
  tokens.forEach((token, i) => {
    // decodeBase64 refuses non-canonical spellings, which would not be rebuilt as they were.
    const mac = STANDARD_TOKEN.test(token) ? decodeBase64(token.slice(3)) : undefined;
    if (mac === undefined) fail("BAD_SIGNATURE_HEADER", `webhook-signature token ${i + 1} is not v1, and the canonical base64 of 32 bytes`);
    out.set(mac, MAC_BYTES * (1 + i));
  });
  return out;
}

/** The header values packSignatures was given. Throws SigningError BAD_SIGNATURE_HEADER when the length is not 32 × (1 + secrets). */
export function unpackSignatures(packed: Uint8Array): SignatureHeaders {
  if (packed.length < 2 * MAC_BYTES || packed.length % MAC_BYTES !== 0) fail("BAD_SIGNATURE_HEADER", `packed signatures are ${packed.length} bytes, not 32 × (1 + secrets)`);
  const tokens: string[] = [];
  for (let at = MAC_BYTES; at < packed.length; at += MAC_BYTES) tokens.push(`v1,${encodeBase64(packed.subarray(at, at + MAC_BYTES))}`);
  return {
    "webhook-signature": tokens.join(" "),
    "x-custody-signature": CUSTODY_SIGNATURE_PREFIX + toHex(packed.subarray(0, MAC_BYTES)),
  };
}

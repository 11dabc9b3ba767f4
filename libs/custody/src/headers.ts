import { decodeBase64, encodeBase64, fromHex, toHex } from "@custody/encoding";
import { MAX_BATCH } from "./batch.js";
import { CustodyFormatError, hopsFromHex, hopsToHex, SEALED_HOPS, type SealedHops } from "./hops.js";
import type { SealProof } from "./seal.js";

/**
 * Format 1's custody headers, which gave a receiver a platform-signed statement about the bytes it
 * got (proofs/FORMAT.md Appendix A; `x-custody-seal` is the §10 form). Format 2 deliveries carry
 * CustodyHeadersV2 instead; these remain for format 1 documents:
 *
 *   x-custody-hops:  ingested=<hex>;redacted=<hex>;prepared=<hex>;signed=<hex>
 *   x-custody-root:  <hex custody root>
 *   x-custody-seal:  signer=<name>;size=<n>;index=<i>;path=<hex>,<hex>…;sig=<base64>
 */
export interface CustodyHeaders {
  "x-custody-hops": string;
  "x-custody-root": string;
  "x-custody-seal": string;
}

export function formatCustodyHeaders(hops: SealedHops, root: Uint8Array, seal: SealProof): CustodyHeaders {
  const hex = hopsToHex(hops);
  return {
    "x-custody-hops": SEALED_HOPS.map((name) => `${name}=${hex[name]}`).join(";"),
    "x-custody-root": toHex(root),
    "x-custody-seal": formatSealHeader(seal),
  };
}

function fields(value: string, header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new CustodyFormatError("BAD_HEADER", `${header}: expected name=value pairs separated by ';'`);
    const name = part.slice(0, eq).trim();
    if (out.has(name)) throw new CustodyFormatError("BAD_HEADER", `${header}: ${name} given twice`);
    out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** Format 1: parses the three headers strictly; the values are attacker-controlled at the receiver. */
export function parseCustodyHeaders(headers: Readonly<Record<string, string | undefined>>): { hops: SealedHops; root: Uint8Array; seal: SealProof } {
  const get = (name: keyof CustodyHeaders) => {
    const v = headers[name];
    if (typeof v !== "string" || v.length === 0 || v.length > 8192) throw new CustodyFormatError("BAD_HEADER", `missing or oversized ${name}`);
    return v;
  };
  const hops = hopsFromHex(Object.fromEntries(fields(get("x-custody-hops"), "x-custody-hops")));
  const rootHex = get("x-custody-root");
  if (!/^[0-9a-f]{64}$/.test(rootHex)) throw new CustodyFormatError("BAD_HEADER", "x-custody-root must be 64 lowercase hex characters");
  return { hops, root: fromHex(rootHex), seal: parseSealHeader(get("x-custody-seal")) };
}

/**
 * Format 2 (proofs/FORMAT.md §10): the custody record itself, and the seal proof of its leaf.
 *
 *   x-custody-record: <base64 of the custody record bytes>
 *   x-custody-seal:   signer=<name>;size=<n>;index=<i>;path=<hex>,<hex>…;sig=<base64>
 */
export interface CustodyHeadersV2 {
  "x-custody-record": string;
  "x-custody-seal": string;
}

export function formatSealHeader(seal: SealProof): string {
  return `signer=${seal.signer};size=${seal.size};index=${seal.index};path=${seal.path.map(toHex).join(",")};sig=${seal.signature}`;
}

export function formatCustodyHeadersV2(record: Uint8Array, seal: SealProof): CustodyHeadersV2 {
  return { "x-custody-record": encodeBase64(record), "x-custody-seal": formatSealHeader(seal) };
}

// Exactly the form formatSealHeader writes: fields in this order, no spaces, canonical decimals,
// lowercase hex, base64 — a receiver accepts only what the platform sends (FORMAT.md §10).
const SEAL_HEADER = /^signer=([^\s;=]{1,255});size=(0|[1-9][0-9]{0,3});index=(0|[1-9][0-9]{0,3});path=((?:[0-9a-f]{64}(?:,[0-9a-f]{64}){0,63})?);sig=([A-Za-z0-9+/]{1,200}={0,2})$/;

function parseSealHeader(value: string): SealProof {
  const m = SEAL_HEADER.exec(value);
  if (m === null) throw new CustodyFormatError("BAD_HEADER", "x-custody-seal must be exactly signer=<name>;size=<n>;index=<i>;path=<hex>,…;sig=<base64>");
  const size = Number(m[2]);
  const index = Number(m[3]);
  if (size < 1 || size > MAX_BATCH || index >= size) throw new CustodyFormatError("BAD_HEADER", `x-custody-seal index ${index} of a batch of ${size} is out of range`);
  return { signer: m[1]!, size, index, path: m[4] === "" ? [] : m[4]!.split(",").map(fromHex), signature: m[5]! };
}

/** Parses the two format 2 headers strictly; the values are attacker-controlled at the receiver. */
export function parseCustodyHeadersV2(headers: Readonly<Record<string, string | undefined>>): { record: Uint8Array; seal: SealProof } {
  const record = headers["x-custody-record"];
  const seal = headers["x-custody-seal"];
  if (typeof record !== "string" || record.length === 0 || record.length > 8192) throw new CustodyFormatError("BAD_HEADER", "missing or oversized x-custody-record");
  if (typeof seal !== "string" || seal.length === 0 || seal.length > 8192) throw new CustodyFormatError("BAD_HEADER", "missing or oversized x-custody-seal");
  const bytes = decodeBase64(record);
  if (bytes === undefined) throw new CustodyFormatError("BAD_HEADER", "x-custody-record is not canonical base64");
  return { record: bytes, seal: parseSealHeader(seal) };
}

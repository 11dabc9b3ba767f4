import { canonicalize, utf8Bytes, type JsonValue } from "@custody/encoding";
import type { LedgerEntry } from "./documents.js";

/**
 * The kinds of ledger entry, by format version (proofs/FORMAT.md §3). An entry commits to payloads by
 * hash; it never holds a payload. Version 2 replaced the per-attempt `custody` and `attempt` entries
 * with one `seal` and one `outcomes` entry per batch, whose Merkle trees hold the per-attempt records.
 */
export const ENTRY_KINDS_BY_VERSION = {
  1: ["event", "custody", "attempt", "receipt", "recall"],
  2: ["seal", "outcomes"],
} as const;
export const ENTRY_KINDS = [...ENTRY_KINDS_BY_VERSION[1], ...ENTRY_KINDS_BY_VERSION[2]] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
export type EntryVersion = keyof typeof ENTRY_KINDS_BY_VERSION;

/** Most records a `seal` or `outcomes` entry's batch holds (FORMAT §3, §8). */
export const MAX_BATCH_SIZE = 4096;

/** Largest encoded entry: entries hold hashes and metadata, so anything bigger is a bug upstream. */
export const MAX_ENTRY_BYTES = 64 * 1024;

export type { JsonValue } from "@custody/encoding";

/** Every entry is a JSON object with a format version and a kind; the rest depends on the kind. */
export interface EntryDocument {
  v: EntryVersion;
  kind: EntryKind;
  [field: string]: JsonValue;
}

export class EntryFormatError extends Error {
  override readonly name = "EntryFormatError";
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The exact bytes of an entry: RFC 8785 canonical JSON, UTF-8. Canonical so that anyone can re-derive
 * the bytes from the parsed document and a verifier can reject a document that was re-serialised.
 */
export function encodeEntry(document: EntryDocument | LedgerEntry): Uint8Array {
  // A number, not a string that happens to name a property: `"v": "1"` is not version 1.
  if (document.v !== 1 && document.v !== 2) throw new EntryFormatError(`entry version must be the number 1 or 2, got ${JSON.stringify(document.v)}`);
  const kinds: readonly string[] = ENTRY_KINDS_BY_VERSION[document.v];
  if (!kinds.includes(document.kind)) throw new EntryFormatError(`entry kind ${String(document.kind)} does not exist in version ${document.v}`);
  const text = canonicalize(document);
  if (text === undefined) throw new EntryFormatError("entry is not representable as JSON");
  const bytes = utf8Bytes(text);
  if (bytes.length > MAX_ENTRY_BYTES) throw new EntryFormatError(`entry is ${bytes.length} bytes; the limit is ${MAX_ENTRY_BYTES}`);
  return bytes;
}

/** Parses entry bytes and insists they are exactly the canonical encoding of what they say. */
export function decodeEntry(bytes: Uint8Array): EntryDocument {
  if (bytes.length === 0 || bytes.length > MAX_ENTRY_BYTES) throw new EntryFormatError(`entry must be 1 to ${MAX_ENTRY_BYTES} bytes, got ${bytes.length}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new EntryFormatError(`entry is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new EntryFormatError("entry is not a JSON object");
  const document = parsed as EntryDocument;
  const again = encodeEntry(document);
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) throw new EntryFormatError("entry bytes are not in canonical form (RFC 8785)");
  return document;
}

/**
 * Reading the ledger entries a chain-of-custody document carries (proofs/FORMAT.md §3, §11): the
 * entry bytes, their leaf hash, their inclusion under the verified checkpoint, and typed access to
 * their members. Every value here comes from the document, so every read checks its type.
 */
import type { ProvenEntry } from "@custody/custody";
import { decodeEntry, type EntryDocument } from "@custody/ledger";
import { fromHex, leafHash, verifyInclusion } from "@custody/merkle";
import { decodeBase64, type Checkpoint } from "@custody/note";

/** A verification failure with a message meant for the person running the verifier. */
export class CheckFailure extends Error {
  override readonly name = "CheckFailure";
}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

/** The message of anything a check threw: our failures, the libraries' typed errors, or a bug. */
export function reason(err: unknown): string {
  if (err instanceof Error) {
    // The libraries' error messages are already specific; a RangeError from a hostile, deeply nested
    // JSON value (stack exhaustion) is reported like any other refusal.
    return err.message;
  }
  return String(err);
}

export interface ReadEntry {
  readonly bytes: Uint8Array;
  /** SHA-256(0x00 || bytes): the entry's ledger leaf (FORMAT §3). */
  readonly leaf: Uint8Array;
}

/** The entry's exact bytes (strict canonical base64, FORMAT §1) and its leaf hash. */
export function readProven(proven: ProvenEntry, what: string): ReadEntry {
  const bytes = decodeBase64(proven.entry);
  if (bytes === undefined) fail(`${what}: entry is not canonical base64`);
  return { bytes, leaf: leafHash(bytes) };
}

/**
 * Decodes entry bytes (rejecting any non-canonical JCS, FORMAT §3) and checks their kind. The
 * ledger library re-encodes and compares, so a re-serialised or padded entry fails here.
 */
export function decodeKind(bytes: Uint8Array, kind: string, what: string): EntryDocument {
  let entry: EntryDocument;
  try {
    entry = decodeEntry(bytes);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  if (entry.kind !== kind) fail(`${what}: kind is ${JSON.stringify(entry.kind)}, expected "${kind}"`);
  return entry;
}

/**
 * Throws unless the entry's leaf is included at its `leafIndex` in the tree the checkpoint states
 * (FORMAT §11). An entry appended after the checkpoint (leafIndex null) is not proven, so it fails
 * with a message saying to fetch the document again. Returns a short description.
 */
export function includedUnder(proven: ProvenEntry, leaf: Uint8Array, checkpoint: Checkpoint | undefined, what: string): string {
  if (checkpoint === undefined) fail(`${what}: not checked against the ledger, because the checkpoint did not verify`);
  if (proven.leafIndex === null) {
    if (proven.inclusion.length > 0) fail(`${what}: has an inclusion proof but no leafIndex`);
    fail(`${what}: not yet covered by the checkpoint (leafIndex is null); fetch the document again in a moment`);
  }
  try {
    verifyInclusion(leaf, proven.leafIndex, checkpoint.size, proven.inclusion.map(fromHex), checkpoint.rootHash);
  } catch (err) {
    fail(`${what}: not included under the checkpoint: ${reason(err)}`);
  }
  return `leaf ${proven.leafIndex} of ${checkpoint.size}`;
}

/** A member that must be a string. */
export function str(entry: EntryDocument, member: string, what: string): string {
  const v = entry[member];
  if (typeof v !== "string") fail(`${what}: member ${member} is not a string`);
  return v;
}

/** A member that must equal `expected` exactly (same type and value). */
export function expectMember(entry: EntryDocument, member: string, expected: string | number, what: string): void {
  const v = entry[member];
  if (v !== expected) fail(`${what}: ${member} is ${JSON.stringify(v) ?? "missing"}, expected ${JSON.stringify(expected)}`);
}

const HEX32 = /^[0-9a-f]{64}$/;

/** A member that must be 64 lowercase hex characters. */
export function hex32(entry: EntryDocument | Record<string, unknown>, member: string, what: string): string {
  const v = (entry as Record<string, unknown>)[member];
  if (typeof v !== "string" || !HEX32.test(v)) fail(`${what}: member ${member} is not 64 lowercase hex characters`);
  return v;
}

/** A member that must be a plain JSON object (not an array or null). */
export function obj(entry: EntryDocument, member: string, what: string): Record<string, unknown> {
  const v = entry[member];
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(`${what}: member ${member} is not an object`);
  return v as Record<string, unknown>;
}

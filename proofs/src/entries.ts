/**
 * Reading the ledger entries a chain-of-custody document carries (proofs/FORMAT.md §3, §13): the
 * entry bytes, their leaf hash, their inclusion under the verified checkpoint, and typed access to
 * their members. Every value here comes from the document, so every read checks its type.
 */
import type { ProvenEntry } from "@custody/custody";
import { decodeEntry, type EntryDocument } from "@custody/ledger";
import { leafHash, verifyInclusion } from "@custody/merkle";
import { canonicalize, decodeBase64, fromHex } from "@custody/encoding";
import type { Checkpoint } from "@custody/note";

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
 * Decodes entry bytes (rejecting any non-canonical JCS, FORMAT §3) and checks their kind and its
 * version. The ledger library re-encodes and compares, so a re-serialised or padded entry fails here.
 */
export function decodeKind(bytes: Uint8Array, kind: EntryKindRead, what: string): EntryDocument {
  let entry: EntryDocument;
  try {
    entry = decodeEntry(bytes);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  if (entry.kind !== kind) fail(`${what}: kind is ${JSON.stringify(entry.kind)}, expected "${kind}"`);
  // decodeEntry looks the version up by property name, so it lets "v": "1" pass for "v": 1.
  if (entry.v !== VERSION_OF[kind]) fail(`${what}: v is ${JSON.stringify(entry.v)}, expected ${VERSION_OF[kind]}`);
  return entry;
}

/** The `v` of each kind of entry a document carries (FORMAT §3, Appendix A). */
const VERSION_OF: Readonly<Record<EntryKindRead, number>> = { event: 1, recall: 1, receipt: 1, custody: 1, attempt: 1, seal: 2, outcomes: 2 };
export type EntryKindRead = "event" | "recall" | "receipt" | "custody" | "attempt" | "seal" | "outcomes";

/**
 * Throws unless the entry's leaf is included at its `leafIndex` in the tree the checkpoint states
 * (FORMAT §13). An entry appended after the checkpoint (leafIndex null) is not proven, so it fails
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

/** A decoded entry or record: members read by name, each checked for its type. */
export type Members = Readonly<Record<string, unknown>>;

/** A member's value, own members only (a decoded object's prototype is not evidence). */
export function own(entry: Members, member: string): unknown {
  return Object.hasOwn(entry, member) ? entry[member] : undefined;
}

/** A member that must be a string. */
export function str(entry: Members, member: string, what: string): string {
  const v = own(entry, member);
  if (typeof v !== "string") fail(`${what}: member ${member} is not a string`);
  return v;
}

/** A member that must equal `expected` exactly (same type and value). */
export function expectMember(entry: Members, member: string, expected: string | number | null, what: string): void {
  const v = own(entry, member);
  if (v !== expected) fail(`${what}: ${member} is ${JSON.stringify(v) ?? "missing"}, expected ${JSON.stringify(expected)}`);
}

const HEX32 = /^[0-9a-f]{64}$/;

/** A member that must be 64 lowercase hex characters. */
export function hex32(entry: Members, member: string, what: string): string {
  const v = own(entry, member);
  if (typeof v !== "string" || !HEX32.test(v)) fail(`${what}: member ${member} is not 64 lowercase hex characters`);
  return v;
}

/** A member that must be a plain JSON object (not an array or null). */
export function obj(entry: Members, member: string, what: string): Record<string, unknown> {
  const v = own(entry, member);
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(`${what}: member ${member} is not an object`);
  return v as Record<string, unknown>;
}

/** A member that must be an integer from `min` to `max`. */
export function intIn(entry: Members, member: string, min: number, max: number, what: string): number {
  const v = own(entry, member);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) fail(`${what}: member ${member} is not an integer from ${min} to ${max}`);
  return v;
}

/** Two JSON values are the same value (compared by their JCS). */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

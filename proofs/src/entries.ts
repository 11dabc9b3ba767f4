/**
 * Reading the ledger entries a chain-of-custody document carries (proofs/FORMAT.md §3, §13): the
 * entry bytes, their leaf hash, their inclusion under the verified checkpoint, and typed access to
 * their members. Every value here comes from the document, so every read checks its type.
 */
import type { ProvenEntry } from "@custody/custody";
import { type EntryKind, hex32Member, intMember, type LedgerEntryOf, type Members, objectMember, own, parseEntryOf, stringMember } from "@custody/ledger";
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
 * Parses entry bytes strictly as one kind (FORMAT §3): canonical JCS, the kind in its version, and
 * exactly that kind's members, each of its type. A re-serialised, padded or extended entry fails here.
 */
export function decodeKind<K extends EntryKind>(bytes: Uint8Array, kind: K, what: string): LedgerEntryOf<K> {
  return read(() => parseEntryOf(bytes, kind), what);
}

/** `parse()`, with a failure reported as a CheckFailure prefixed by what was being read. */
function read<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
}

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

export { own, type Members };

/** A member that must be a string. */
export function str(members: Members, member: string, what: string): string {
  return read(() => stringMember(members, member), what);
}

/** A member that must equal `expected` exactly (same type and value). */
export function expectMember(members: Members, member: string, expected: string | number | null, what: string): void {
  const v = own(members, member);
  if (v !== expected) fail(`${what}: ${member} is ${JSON.stringify(v) ?? "missing"}, expected ${JSON.stringify(expected)}`);
}

/** A member that must be 64 lowercase hex characters. */
export function hex32(members: Members, member: string, what: string): string {
  return read(() => hex32Member(members, member), what);
}

/** A member that must be a plain JSON object (not an array or null). */
export function obj(members: Members, member: string, what: string): Members {
  return read(() => objectMember(members, member), what);
}

/** A member that must be an integer from `min` to `max`. */
export function intIn(members: Members, member: string, min: number, max: number, what: string): number {
  return read(() => intMember(members, member, min, max), what);
}

/** Two JSON values are the same value (compared by their JCS). */
export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

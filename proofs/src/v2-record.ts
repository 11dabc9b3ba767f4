/**
 * Format 2 keeps an attempt's claims inside records (proofs/FORMAT.md §7, §9): the custody record
 * holds the hops, root, sealedAt and previous; the outcome record the outcome. Checks 3–6 and 9 read
 * single members of a record BEFORE check 7 (`custody record`) and check 10 (`outcome`) insist on
 * its canonical form, so a record is viewed here as plain JSON, each member read on its own and
 * checked for its type when read. Never throws while viewing; a read of what is missing fails.
 */
import { decodeBase64 } from "@custody/encoding";
import type { Claims } from "./attempt.js";
import { fail, hex32, obj, own, reason, type Members } from "./entries.js";

export interface RecordView {
  readonly what: string;
  /** The record's bytes, when the document's base64 is canonical. */
  readonly bytes: Uint8Array | undefined;
  /** Its members, when the bytes are UTF-8 JSON of an object. */
  readonly members: Members | undefined;
  /** Why bytes or members are missing. */
  readonly problem: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function viewRecord(base64: string, what: string): RecordView {
  const bytes = decodeBase64(base64);
  if (bytes === undefined) return { what, bytes, members: undefined, problem: `${what} is not canonical base64` };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    return { what, bytes, members: undefined, problem: `${what} is not UTF-8 JSON: ${reason(err)}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { what, bytes, members: undefined, problem: `${what} is not a JSON object` };
  return { what, bytes, members: value as Members, problem: "" };
}

export function recordBytes(view: RecordView): Uint8Array {
  if (view.bytes === undefined) fail(view.problem);
  return view.bytes;
}

export function recordMembers(view: RecordView): Members {
  if (view.members === undefined) fail(view.problem);
  return view.members;
}

/** A member that must be null or 64 lowercase hex characters (a custody record's `previous`). */
export function hex32OrNull(view: RecordView, member: string): string | null {
  const members = recordMembers(view);
  return own(members, member) === null ? null : hex32(members, member, view.what);
}

/** The hops and root a custody record claims. */
export function claimsOf(view: RecordView): Claims {
  return {
    hop: (name) => hex32(obj(recordMembers(view), "hops", view.what), name, `${view.what} hops`),
    root: () => hex32(recordMembers(view), "root", view.what),
  };
}

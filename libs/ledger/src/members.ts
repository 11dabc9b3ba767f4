import { isHex32, isId, isIntIn, isTimeMs, KEY_ID_HEX } from "@custody/encoding";
import { EntryFormatError } from "./entry.js";

/**
 * Checked reads of a decoded JSON object's members, for the entry parsers here and for the verifier,
 * which reads documents and records the same way. Each throws EntryFormatError naming the member.
 */
export type Members = Readonly<Record<string, unknown>>;

/** A member's value, own members only (a decoded object's prototype is not evidence). */
export function own(members: Members, name: string): unknown {
  return Object.hasOwn(members, name) ? members[name] : undefined;
}

export function bad(message: string): never {
  throw new EntryFormatError(message);
}

export function stringMember(members: Members, name: string): string {
  const v = own(members, name);
  if (typeof v !== "string") bad(`member ${name} is not a string`);
  return v;
}

export function hex32Member(members: Members, name: string): string {
  const v = own(members, name);
  if (!isHex32(v)) bad(`member ${name} is not 64 lowercase hex characters`);
  return v;
}

export function intMember(members: Members, name: string, min: number, max: number): number {
  const v = own(members, name);
  if (!isIntIn(v, min, max)) bad(`member ${name} is not an integer from ${min} to ${max}`);
  return v;
}

export function objectMember(members: Members, name: string): Members {
  const v = own(members, name);
  if (v === null || typeof v !== "object" || Array.isArray(v)) bad(`member ${name} is not an object`);
  return v as Members;
}

export function idMember(members: Members, name: string): string {
  const v = own(members, name);
  if (!isId(v)) bad(`member ${name} is not an id`);
  return v;
}

export function timeMember(members: Members, name: string): string {
  const v = own(members, name);
  if (!isTimeMs(v)) bad(`member ${name} is not a time (RFC 3339 UTC with three fraction digits)`);
  return v;
}

export function keyIdMember(members: Members, name: string): string {
  const v = own(members, name);
  if (typeof v !== "string" || !KEY_ID_HEX.test(v)) bad(`member ${name} is not a key id (8 lowercase hex characters)`);
  return v;
}

/** A member that is null or passes `read`. */
export function nullable<T>(members: Members, name: string, read: (members: Members, name: string) => T): T | null {
  return own(members, name) === null ? null : read(members, name);
}

/**
 * Throws unless the object's members are exactly `required` plus any of `optional`: FORMAT §3 fixes
 * each kind's member list, so an extra member is as wrong as a missing one.
 */
export function exactMembers(members: Members, required: readonly string[], optional: readonly string[] = []): void {
  for (const name of required) if (!Object.hasOwn(members, name)) bad(`member ${name} is missing`);
  for (const name of Object.keys(members)) if (!required.includes(name) && !optional.includes(name)) bad(`member ${name} is not one of this kind's members`);
}

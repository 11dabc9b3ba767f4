/**
 * RFC 6901 JSON Pointers, restricted to what a personal-data field declaration may be.
 *
 * Beyond strict RFC 6901 syntax (leading "/", "~" only as "~0" or "~1"), this profile rejects:
 * - the empty pointer "": it means the whole document, and a field declaration that removes the
 *   entire payload is a configuration mistake, not a redaction;
 * - more than MAX_POINTER_DEPTH tokens or more than MAX_POINTER_LENGTH bytes of UTF-8, to bound work;
 * - lone UTF-16 surrogates: they have no UTF-8 form, and the path is hashed as UTF-8;
 * - U+0000: the commitment preimage uses 0x00 to end the path, so a NUL-free path keeps that
 *   preimage unambiguous to parse.
 *
 * Because parsing is strict and escaping deterministic ("~" -> "~0", "/" -> "~1", nothing else),
 * every token list has exactly one pointer string, so comparing paths as strings is sound.
 */
import { RedactionError } from "./errors.js";
import { assertJson, hasLoneSurrogate, isPlainObject } from "./json.js";
import type { JsonValue } from "./json.js";

export const MAX_POINTER_DEPTH = 32;
/** In UTF-8 bytes, the form in which the path enters the commitment. */
export const MAX_POINTER_LENGTH = 512;

function utf8Length(s: string): number {
  // Only called on strings without lone surrogates, so each surrogate is half of a 4-byte pair.
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return n;
}

function bad(message: string): never {
  throw new RedactionError("BAD_POINTER", message);
}

function show(p: string): string {
  return JSON.stringify(p.length > 80 ? `${p.slice(0, 80)}…` : p);
}

/** Parses a personal-data pointer into its unescaped reference tokens, or throws BAD_POINTER. */
export function parsePointer(p: string): string[] {
  if (typeof p !== "string") bad(`pointer must be a string, got ${p === null ? "null" : typeof p}`);
  if (p === "") bad('the empty pointer "" (the whole document) cannot be a personal-data field');
  if (p.charCodeAt(0) !== 0x2f) bad(`pointer ${show(p)} does not start with "/"`);
  // Cheap bound first: every UTF-16 code unit is at least one UTF-8 byte.
  if (p.length > MAX_POINTER_LENGTH) bad(`pointer is longer than ${MAX_POINTER_LENGTH} bytes`);
  if (hasLoneSurrogate(p)) bad(`pointer ${show(p)} contains a lone surrogate`);
  if (p.includes("\u0000")) bad(`pointer ${show(p)} contains U+0000`);
  if (utf8Length(p) > MAX_POINTER_LENGTH) bad(`pointer is longer than ${MAX_POINTER_LENGTH} bytes of UTF-8`);
  const raw = p.slice(1).split("/");
  if (raw.length > MAX_POINTER_DEPTH) bad(`pointer ${show(p)} has more than ${MAX_POINTER_DEPTH} tokens`);
  return raw.map((token) => {
    if (/~(?![01])/.test(token)) bad(`pointer ${show(p)} has "~" not followed by "0" or "1"`);
    // One pass, so "~01" becomes "~1" (RFC 6901 §4: "~1" first, then "~0", never the reverse).
    return token.replace(/~[01]/g, (e) => (e === "~0" ? "~" : "/"));
  });
}

/** The one pointer string for `tokens`; throws BAD_POINTER if the result would not parse. */
export function formatPointer(tokens: readonly string[]): string {
  if (!Array.isArray(tokens)) bad("tokens must be an array of strings");
  let p = "";
  for (const token of tokens) {
    if (typeof token !== "string") bad(`token must be a string, got ${token === null ? "null" : typeof token}`);
    p += "/" + token.replace(/~/g, "~0").replace(/\//g, "~1");
  }
  parsePointer(p);
  return p;
}

/**
 * The array index a token denotes, or undefined. RFC 6901 §4: "0" or digits without a leading
 * zero; "-" (the element after the last) and anything out of range denote no element.
 */
function arrayIndex(token: string, length: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < length ? i : undefined;
}

export type Lookup = { present: true; value: JsonValue } | { present: false };

/**
 * Resolves tokens against a validated document. A missing member, an index out of range, or a
 * scalar on the way means "not present", never an error: events of one type need not all carry
 * every optional field. Object members must be own properties, so "/constructor" on `{}` is absent.
 */
export function resolveTokens(doc: JsonValue, tokens: readonly string[]): Lookup {
  let cur: JsonValue = doc;
  for (const token of tokens) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(token, cur.length);
      if (i === undefined) return { present: false };
      cur = cur[i] as JsonValue;
    } else if (isPlainObject(cur)) {
      if (!Object.hasOwn(cur, token)) return { present: false };
      cur = cur[token] as JsonValue;
    } else {
      return { present: false };
    }
  }
  return { present: true, value: cur };
}

/**
 * The value `pointer` designates in `document` (validated first), or `{ present: false }`. The value
 * is the document's own sub-value, not a copy.
 */
export function lookupPointer(document: JsonValue, pointer: string): Lookup {
  const tokens = parsePointer(pointer);
  assertJson(document, "document");
  return resolveTokens(document, tokens);
}

/**
 * Removes the value at `tokens` from a validated, caller-owned document, in place. Returns whether
 * something was there. An object member is deleted; an array element is replaced by null rather
 * than spliced out, so the indexes of its siblings (and any other pointer such as "/holders/1/name")
 * still mean what they meant in the original.
 */
export function removeAt(doc: JsonValue, tokens: readonly string[]): boolean {
  const last = tokens[tokens.length - 1];
  if (last === undefined) return false; // the whole document is never a field (parsePointer refuses "")
  const parent = resolveTokens(doc, tokens.slice(0, -1));
  if (!parent.present) return false;
  const container = parent.value;
  if (Array.isArray(container)) {
    const i = arrayIndex(last, container.length);
    if (i === undefined) return false;
    container[i] = null;
    return true;
  }
  if (isPlainObject(container) && Object.hasOwn(container, last)) {
    delete container[last];
    return true;
  }
  return false;
}

/**
 * Reading headers handed to a verifier. Accepts the shape Node's `IncomingHttpHeaders` has (and any
 * plain object, e.g. `Object.fromEntries(fetchHeaders)`), matching names case-insensitively as
 * HTTP does (RFC 9110 §5.1).
 */
import { fail } from "./errors.js";

/** Header map as received: names in any case; `undefined` means absent. */
export type HeaderInput = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The value of header `name` (lowercase), or undefined if absent. Refuses (BAD_HEADER) a name given
 * twice in different cases or a repeated header (an array value): which copy counts would be a
 * guess, and a guess in a security check is a bypass waiting to happen.
 */
export function getHeader(headers: HeaderInput, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null) fail("BAD_HEADER", "headers must be an object of name -> value");
  let found: string | undefined;
  let seen = false;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    if (value === undefined) continue;
    if (seen) fail("BAD_HEADER", `header ${name} is given more than once`);
    if (typeof value !== "string") fail("BAD_HEADER", `header ${name} must be a single string value`);
    seen = true;
    found = value;
  }
  return found;
}

/**
 * The headers named in `wanted` (lowercase) by name, read in one pass, with getHeader's refusals
 * (a name given twice in different cases, a repeated header) for those names only: for callers
 * that read many names at once.
 */
export function headerMap(headers: HeaderInput, wanted: ReadonlySet<string>): Map<string, string> {
  if (typeof headers !== "object" || headers === null) fail("BAD_HEADER", "headers must be an object of name -> value");
  const out = new Map<string, string>();
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (!wanted.has(name)) continue;
    if (out.has(name)) fail("BAD_HEADER", `header ${name} is given more than once`);
    if (typeof value !== "string") fail("BAD_HEADER", `header ${name} must be a single string value`);
    out.set(name, value);
  }
  return out;
}

/** Like getHeader, but absent or empty is MISSING_HEADER. */
export function requireHeader(headers: HeaderInput, name: string): string {
  const value = getHeader(headers, name);
  if (value === undefined || value === "") fail("MISSING_HEADER", `missing header ${name}`);
  return value;
}

/**
 * The JSON value model and the few operations on it that every other module shares: validation,
 * RFC 8785 canonical serialization, and deep copy.
 *
 * Inputs arrive from JSON.parse in the platform and, in the browser verifier, from files a third
 * party hands over; both are treated as untrusted. Validating up front turns every odd value into a
 * NOT_JSON error instead of letting `canonicalize` throw a bare Error or silently drop it (it skips
 * `undefined` members, so `{a: undefined}` and `{}` would otherwise commit identically).
 */
import { canonicalize, type JsonObject, type JsonValue } from "@custody/encoding";
import { RedactionError } from "./errors.js";

export type { JsonArray, JsonObject, JsonPrimitive, JsonValue } from "@custody/encoding";

/**
 * Maximum container nesting (a scalar has depth 0, `[]` depth 1, `[[]]` depth 2). Bounds the
 * recursion of every walk here and in `canonicalize`, so a hostile document fails with NOT_JSON
 * rather than a stack overflow; it also makes a cyclic object graph fail the same way.
 */
export const MAX_JSON_DEPTH = 256;

// A high surrogate not followed by a low one, or a low one not preceded by a high one. Such strings
// have no UTF-8 encoding (TextEncoder would substitute U+FFFD, so two different strings would
// hash the same) and RFC 8785 forbids them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

export function isPlainObject(v: unknown): v is JsonObject {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

function check(v: unknown, where: string, depth: number): void {
  switch (typeof v) {
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(v)) throw new RedactionError("NOT_JSON", `${where}: non-finite number`);
      return;
    case "string":
      if (hasLoneSurrogate(v)) throw new RedactionError("NOT_JSON", `${where}: string with a lone surrogate`);
      return;
    case "object":
      break;
    default:
      throw new RedactionError("NOT_JSON", `${where}: ${typeof v} is not a JSON value`);
  }
  if (v === null) return;
  if (depth >= MAX_JSON_DEPTH) {
    throw new RedactionError("NOT_JSON", `${where}: nested deeper than ${MAX_JSON_DEPTH} (or cyclic)`);
  }
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) throw new RedactionError("NOT_JSON", `${where}: array subclass`);
    for (let i = 0; i < v.length; i++) {
      // A hole would serialize as "[,]", which is not JSON at all.
      if (!(i in v)) throw new RedactionError("NOT_JSON", `${where}: array hole at index ${i}`);
      check(v[i], where, depth + 1);
    }
    return;
  }
  if (!isPlainObject(v)) throw new RedactionError("NOT_JSON", `${where}: ${describe(v)} is not a plain object`);
  for (const key of Object.keys(v)) {
    if (hasLoneSurrogate(key)) throw new RedactionError("NOT_JSON", `${where}: object key with a lone surrogate`);
    check(v[key], where, depth + 1);
  }
}

/** Throws NOT_JSON unless `v` is plain JSON (see RedactionErrorCodes.NOT_JSON). `where` names the argument in the message. */
export function assertJson(v: unknown, where: string): asserts v is JsonValue {
  check(v, where, 0);
}

/** RFC 8785 (JCS) canonical JSON text of an already validated value. */
export function canonicalJsonOf(v: JsonValue): string {
  const text = canonicalize(v);
  // Unreachable for validated input; kept so a library change cannot turn into a silent "undefined".
  if (text === undefined) throw new RedactionError("NOT_JSON", "value has no canonical JSON form");
  return text;
}

/** RFC 8785 canonical JSON text of `v`, after validating it. */
export function canonicalJson(v: unknown, where = "value"): string {
  assertJson(v, where);
  return canonicalJsonOf(v);
}

/**
 * Sets an own data property. Plain assignment of "__proto__" would change the prototype instead of
 * creating a member, silently losing a key that JSON.parse does create as an own property.
 */
export function setMember(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** A structurally independent copy of a validated value (shared sub-objects become separate copies). */
export function deepCopy(v: JsonValue): JsonValue {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(deepCopy);
  const out: JsonObject = {};
  for (const key of Object.keys(v)) setMember(out, key, deepCopy(v[key] as JsonValue));
  return out;
}

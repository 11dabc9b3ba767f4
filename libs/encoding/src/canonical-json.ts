/**
 * RFC 8785 (JCS) canonical JSON, the one serializer behind every hashed or signed JSON text: ledger
 * entries, redaction hops and commitments, receipt statements, event payloads. One implementation,
 * so the platform and the verifier cannot disagree on a byte.
 */
import canonicalizeJcs from "canonicalize";

export type JsonPrimitive = null | boolean | number | string;
export type JsonArray = JsonValue[];
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = JsonPrimitive | JsonArray | JsonObject;

/**
 * The canonical text of `value`, or undefined when it has none at all (undefined, a function or a
 * symbol at the top level). Throws a plain Error for NaN, ±Infinity, a string with a lone surrogate
 * or a cycle. Like JSON.stringify it skips undefined members and honours toJSON; callers that take
 * untrusted values validate them first (libs/redact assertJson, libs/ledger decodeEntry).
 */
export function canonicalize(value: unknown): string | undefined {
  return canonicalizeJcs(value);
}

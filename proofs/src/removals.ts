/**
 * Applying a delivery's recorded removals to the producer's original `data` (proofs/FORMAT.md §5):
 * an object member is deleted, an array element is replaced by null. @custody/redact has this
 * (applyRemovals) but does not export it; this is the same rule, written here so the verifier does
 * not reach into the library's internals. The result is cross-checked with the library's own
 * verifyRedaction in checks.ts, so the two cannot drift apart unnoticed.
 */
import { parsePointer, type JsonValue } from "@custody/redact";

function isObject(v: JsonValue): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** RFC 6901 §4 array index: "0" or digits without a leading zero, and in range. */
function arrayIndex(token: string, length: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < length ? i : undefined;
}

function removeAt(doc: JsonValue, tokens: readonly string[]): void {
  let parent: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(parent)) {
      const i = arrayIndex(token, parent.length);
      if (i === undefined) return;
      parent = parent[i] as JsonValue;
    } else if (isObject(parent) && Object.hasOwn(parent, token)) {
      parent = parent[token] as JsonValue;
    } else {
      return;
    }
  }
  const last = tokens[tokens.length - 1];
  if (last === undefined) return;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length);
    if (i !== undefined) parent[i] = null;
  } else if (isObject(parent) && Object.hasOwn(parent, last)) {
    delete parent[last];
  }
}

/**
 * A copy of `original` with every path removed. The copy goes through JSON text so that an own
 * `__proto__` member (which JSON.parse creates) stays an ordinary member.
 */
export function applyRemovals(original: JsonValue, paths: readonly string[]): JsonValue {
  const copy = JSON.parse(JSON.stringify(original)) as JsonValue;
  for (const path of paths) removeAt(copy, parsePointer(path));
  return copy;
}

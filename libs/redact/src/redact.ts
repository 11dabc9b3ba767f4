/**
 * Producing a thin (or fat) payload and the record of what was removed from it.
 */
import { encodeBase64Url } from "@custody/encoding";
import { commitmentOf, comparePaths, SALT_SIZE } from "./commitment.js";
import type { RemovedField } from "./commitment.js";
import { RedactionError } from "./errors.js";
import { assertJson, deepCopy } from "./json.js";
import type { JsonValue } from "./json.js";
import { parsePointer, removeAt, resolveTokens } from "./pointer.js";

/** Returns `n` cryptographically random bytes. Injected so tests are deterministic and the browser build needs no node: import. */
export type RandomSource = (n: number) => Uint8Array;

export type DeliveryShape = "thin" | "fat";

export type RedactOptions = {
  /** Defaults to `globalThis.crypto.getRandomValues`. */
  random?: RandomSource;
  /**
   * "thin": every pointer given is removed. "fat": none is, which is right only when the endpoint
   * acknowledged every pointer given: a fat delivery still removes the fields its endpoint has not
   * acknowledged (FORMAT.md §5), so the pipeline passes exactly those with "thin"
   * (services/pipeline/src/dispatch/body.ts, `pathsToRemove`).
   */
  shape: DeliveryShape;
};

export type RedactionResult = {
  /** A new value; the input is never mutated. */
  payload: JsonValue;
  /** Sorted by path (UTF-16 code units); only fields that were present in the input. */
  removed: RemovedField[];
};

const defaultRandom: RandomSource = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Parses a pointer list, dropping repeats (removal is idempotent), sorted by path. */
export function parsePointerList(pointers: unknown): Array<{ path: string; tokens: string[] }> {
  if (!Array.isArray(pointers)) throw new RedactionError("BAD_ARGUMENT", "pointers must be an array of strings");
  const unique = [...new Set(pointers as unknown[])];
  return unique.map((p) => ({ path: p as string, tokens: parsePointer(p as string) })).sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * Applies removals to a fresh copy of `original`. Each removal only touches the subtree at its path,
 * and neither deleting a member nor nulling an element shifts anything, so the result does not
 * depend on the order; a path below an already removed one simply finds nothing left.
 */
export function applyRemovals(original: JsonValue, paths: ReadonlyArray<{ tokens: readonly string[] }>): JsonValue {
  const copy = deepCopy(original);
  for (const p of paths) removeAt(copy, p.tokens);
  return copy;
}

/**
 * The payload a recorded redaction delivered: `data` with exactly the listed paths removed (FORMAT.md
 * §5). A delivery's body is rebuilt with it for every attempt, from the event and its removed paths.
 */
export function removePaths(data: JsonValue, paths: readonly string[]): JsonValue {
  assertJson(data, "data");
  return applyRemovals(data, parsePointerList(paths));
}

/**
 * Redacts the event `data` for one delivery.
 *
 * thin: for every pointer (after dropping repeats) that resolves in `data`, records a RemovedField
 * (fresh 16-byte salt per field, commitment over the value in the ORIGINAL `data`) and removes it:
 * an object member is deleted; an array element is replaced by null, so sibling indexes keep their
 * meaning. Pointers that resolve to nothing (missing member, index out of range or "-", a scalar or
 * null on the way) are skipped silently. When both "/a" and "/a/b" are present, both are recorded,
 * each committed over its own original value; "/a/b" is gone with "/a" either way.
 *
 * fat: nothing is removed; `payload` is a deep copy and `removed` is []. This is not what a fat
 * delivery sends whenever its endpoint has left a field unacknowledged: FORMAT.md §5 removes those
 * fields, and the pipeline removes them by passing just those pointers with "thin".
 *
 * Pointers are validated in both shapes, so a bad declaration fails the same way whatever the
 * endpoint acknowledged. Throws BAD_ARGUMENT, BAD_POINTER, NOT_JSON or BAD_RANDOM.
 */
export function redact(data: JsonValue, pointers: readonly string[], options: RedactOptions): RedactionResult {
  const shape: unknown = options?.shape;
  if (shape !== "thin" && shape !== "fat") throw new RedactionError("BAD_ARGUMENT", 'options.shape must be "thin" or "fat"');
  const random = options.random ?? defaultRandom;
  if (typeof random !== "function") throw new RedactionError("BAD_ARGUMENT", "options.random must be a function");
  const parsed = parsePointerList(pointers);
  assertJson(data, "data");
  if (shape === "fat") return { payload: deepCopy(data), removed: [] };

  const present: typeof parsed = [];
  const removed: RemovedField[] = [];
  for (const p of parsed) {
    const found = resolveTokens(data, p.tokens);
    if (!found.present) continue;
    const salt = random(SALT_SIZE);
    if (!(salt instanceof Uint8Array) || salt.length !== SALT_SIZE) {
      throw new RedactionError("BAD_RANDOM", `random(${SALT_SIZE}) must return a Uint8Array of ${SALT_SIZE} bytes`);
    }
    present.push(p);
    removed.push({ path: p.path, salt: encodeBase64Url(salt), commitment: commitmentOf(p.path, salt, found.value) });
  }
  return { payload: applyRemovals(data, present), removed };
}

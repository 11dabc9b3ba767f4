import Ajv2020 from "ajv/dist/2020.js";
import { AppError } from "@custody/errors";

/** Ajv compiles recursively; a schema this deep is a mistake or an attack, never a real event shape. */
export const MAX_SCHEMA_DEPTH = 64;

/** Nesting depth of a JSON value, counted without recursion so a hostile value cannot exhaust the stack. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Compiles a JSON Schema (draft 2020-12) for `data` and returns its validator, or throws
 * INVALID_JSON_SCHEMA. `strict: false` because producers bring schemas written for other tools
 * (unknown keywords and formats are common and harmless); a fresh Ajv per call, so one tenant's
 * `$id` cannot collide with another's in a shared instance.
 */
export function compileDataSchema(schema: unknown, field = "body.dataSchema"): (data: unknown) => boolean {
  if (jsonDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) {
    throw new AppError("INVALID_JSON_SCHEMA", `dataSchema nests deeper than ${MAX_SCHEMA_DEPTH} levels`, { field });
  }
  const ajv = new Ajv2020.default({ strict: false, logger: false, allErrors: false });
  try {
    // Ajv's types want an object; booleans are valid 2020-12 schemas too and Ajv handles them.
    const validate = ajv.compile(schema as object);
    return (data) => validate(data) === true;
  } catch (err) {
    throw new AppError("INVALID_JSON_SCHEMA", `dataSchema is not a valid JSON Schema (draft 2020-12): ${(err as Error).message}`, { field });
  }
}

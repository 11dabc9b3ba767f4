import type { ValidateFunction } from "ajv";
import { AppError } from "@custody/errors";
import { newDataSchemaAjv } from "./engine.js";
import { analyseDataSchema, scanDataSchema, SchemaLimitError, type SchemaCost } from "./limits.js";

/** Ajv compiles recursively; a schema this deep is a mistake or an attack, never a real event shape. */
export const MAX_SCHEMA_DEPTH = 64;
/** Largest dataSchema, as JSON text: Ajv's compile time grows faster than linearly with size. */
export const MAX_SCHEMA_BYTES = 32 * 1024;

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

export interface CompiledDataSchema {
  validate: ValidateFunction;
  /** What validating one event may cost (limits.ts). */
  cost: SchemaCost;
}

/** `body.dataSchema` and a pointer into it to the dotted field an error names. */
function fieldAt(field: string, pointer: string): string {
  if (pointer === "") return field;
  return [
    field,
    ...pointer
      .slice(1)
      .split("/")
      .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~")),
  ].join(".");
}

/**
 * Compiles a JSON Schema (draft 2020-12) for `data` and returns its validator with its cost, or
 * throws 422 INVALID_JSON_SCHEMA naming the field at fault (`body.dataSchema.properties.x.pattern`).
 * Refused: deeper than MAX_SCHEMA_DEPTH, larger than MAX_SCHEMA_BYTES, patterns RE2 cannot run
 * (engine.ts), and anything whose validation would not be bounded (limits.ts).
 */
export function compileDataSchema(schema: unknown, field = "body.dataSchema"): CompiledDataSchema {
  if (jsonDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) {
    throw new AppError("INVALID_JSON_SCHEMA", `dataSchema nests deeper than ${MAX_SCHEMA_DEPTH} levels`, { field });
  }
  const bytes = Buffer.byteLength(JSON.stringify(schema) ?? "", "utf8");
  if (bytes > MAX_SCHEMA_BYTES) {
    throw new AppError("INVALID_JSON_SCHEMA", `dataSchema is ${bytes} bytes as JSON; the limit is ${MAX_SCHEMA_BYTES}`, { field, details: { maxBytes: MAX_SCHEMA_BYTES } });
  }
  const refuse = (err: SchemaLimitError) => new AppError("INVALID_JSON_SCHEMA", `dataSchema${err.pointer}: ${err.message}`, { field: fieldAt(field, err.pointer), details: { pointer: err.pointer }, cause: err });
  try {
    scanDataSchema(schema);
  } catch (err) {
    if (err instanceof SchemaLimitError) throw refuse(err);
    throw err;
  }
  let validate: ValidateFunction;
  try {
    // Ajv's types want an object; booleans are valid 2020-12 schemas too and Ajv handles them.
    validate = newDataSchemaAjv().compile(schema as object);
  } catch (err) {
    throw new AppError("INVALID_JSON_SCHEMA", `dataSchema is not a valid JSON Schema (draft 2020-12): ${(err as Error).message}`, { field });
  }
  try {
    return { validate, cost: analyseDataSchema(schema) };
  } catch (err) {
    if (err instanceof SchemaLimitError) throw refuse(err);
    throw err;
  }
}

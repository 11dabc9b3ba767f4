import type { ErrorObject } from "ajv";
import { AppError } from "@custody/errors";
import { currentBudget, setBudget, ValidationBudget, ValidationBudgetExceeded, withBudget } from "./engine.js";
import { compileDataSchema, type CompiledDataSchema } from "./json-schema.js";

/** RFC 6901 pointer to dotted field segments: `/a~1b/0` → `a/b.0`. */
function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** Where the first error points: the failing value, or for `required` the missing member. */
function errorLocation(error: ErrorObject): { pointer: string; segments: string[] } {
  const segments = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const member = error.keyword === "required" ? params.missingProperty : error.keyword === "additionalProperties" ? params.additionalProperty : undefined;
  if (typeof member === "string") segments.push(member);
  const pointer = segments.length === 0 ? "" : "/" + segments.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
  return { pointer, segments };
}

/** Values in a JSON document (every object, array and scalar), counting no further than `limit` + 1. */
export function countValues(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    count++;
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) for (const child of v) stack.push(child);
    else for (const k in v) stack.push((v as Record<string, unknown>)[k]);
  }
  return count;
}

/**
 * Worst-case time one request's validation may be estimated at (engine.ts): what one
 * request can hold the event loop for. Honest requests use a small fraction; about the most one
 * can: a body full of UUIDs (6,700) each matched against a UUID pattern, estimated at 200 ms.
 */
export const REQUEST_VALIDATION_MS = 250;
/** Most JSON values a request body can hold: each takes at least two bytes of the 256 KiB limit. */
export const MAX_REQUEST_VALUES = (256 * 1024) / 2 + 1;
/**
 * What one unit of a schema's structural cost (limits.ts: about one keyword check on
 * one value) may take: measured 3.5 ns warm, up to 28 ns while Ajv's code is still cold.
 */
const NS_PER_UNIT = 10;

export interface DataSchemaValidatorsOptions {
  /** Compiled schemas kept. */
  capacity?: number;
  /** Milliseconds of worst-case validation per request. */
  budgetMs?: number;
  /** Most JSON values one request can carry (from the body limit). */
  maxValues?: number;
}

/**
 * Compiled `data` schemas of event types, keyed by event-type id. An event-type row never changes
 * its schema (a change is a new version, a new id), so a compiled validator stays right for as long
 * as it is cached. Bounded, least recently used out first.
 *
 * Validation is bounded: every request (`forRequest`) has a budget of worst-case time, charged
 * before each piece of work starts — a schema's structural cost on the data (limits.ts)
 * before validating, each pattern match (RE2: linear in the string) as it comes — and work that
 * does not fit is refused: 422 DATA_SCHEMA_TOO_COSTLY, instead of seconds of validation while every
 * other tenant's requests wait. The charges are estimates, not the clock, so an event's answer does
 * not depend on how busy the machine is. Counting the values of `data` is skipped for schemas light
 * enough that no request body could carry data costing half the budget, so the common case costs a
 * comparison.
 */
export class DataSchemaValidators {
  private readonly compiled = new Map<string, CompiledDataSchema>();
  private readonly capacity: number;
  private readonly budgetMs: number;
  /** Per-value structural cost below which no request could spend half the budget on structure. */
  private readonly freeEach: number;

  constructor(options: DataSchemaValidatorsOptions | number = {}) {
    const o = typeof options === "number" ? { capacity: options } : options;
    this.capacity = o.capacity ?? 1_000;
    this.budgetMs = o.budgetMs ?? REQUEST_VALIDATION_MS;
    this.freeEach = Math.floor((this.budgetMs * 1e6) / 2 / NS_PER_UNIT / (o.maxValues ?? MAX_REQUEST_VALUES));
  }

  /** Runs `fn` (which checks the events of one request) under one budget for all of them. */
  forRequest<T>(fn: () => T): T {
    return withBudget(new ValidationBudget(this.budgetMs), fn);
  }

  /** Throws 422 DATA_SCHEMA_MISMATCH, `field` at the first failing value, unless `data` satisfies the schema. */
  check(eventType: { id: string; name: string; dataSchema: unknown }, data: unknown, prefix: string): void {
    const { validate, cost } = this.validatorFor(eventType, prefix);
    const outer = currentBudget();
    const budget = outer ?? new ValidationBudget(this.budgetMs);
    let valid: boolean;
    try {
      if (outer === undefined) setBudget(budget);
      const values = cost.each > this.freeEach ? countValues(data, Math.ceil(budget.left / NS_PER_UNIT / cost.each)) : 0;
      budget.spend((cost.once + cost.each * values) * NS_PER_UNIT);
      valid = validate(data) === true;
    } catch (err) {
      if (!(err instanceof ValidationBudgetExceeded)) throw err;
      throw new AppError(
        "DATA_SCHEMA_TOO_COSTLY",
        `checking ${prefix}.data against the schema of ${eventType.name} could take longer than one request may (${err.budgetMs} ms at worst); send less data per request, or simplify the schema's patterns`,
        { field: `${prefix}.data`, details: { budgetMs: err.budgetMs } },
      );
    } finally {
      if (outer === undefined) setBudget(undefined);
    }
    if (valid) return;
    const first = validate.errors?.[0];
    if (!first) throw new AppError("DATA_SCHEMA_MISMATCH", `${prefix}.data does not match the schema of ${eventType.name}`, { field: `${prefix}.data` });
    const { pointer, segments } = errorLocation(first);
    const field = [`${prefix}.data`, ...segments].join(".");
    throw new AppError("DATA_SCHEMA_MISMATCH", `data${first.instancePath} ${first.message ?? "is invalid"} (event type ${eventType.name})`, {
      field,
      details: { pointer, keyword: first.keyword, schemaPath: first.schemaPath, params: first.params },
    });
  }

  get size(): number {
    return this.compiled.size;
  }

  private validatorFor(eventType: { id: string; name: string; dataSchema: unknown }, prefix: string): CompiledDataSchema {
    const cached = this.compiled.get(eventType.id);
    if (cached) {
      this.compiled.delete(eventType.id);
      this.compiled.set(eventType.id, cached);
      return cached;
    }
    let compiled: CompiledDataSchema;
    // Compiling (once per schema and process) is not charged to the request's validation.
    const outer = currentBudget();
    setBudget(undefined);
    try {
      // The same checks the event-type routes accept schemas with: a schema stored before a limit
      // existed is refused here rather than run unbounded.
      compiled = compileDataSchema(eventType.dataSchema, "dataSchema");
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw new AppError("INVALID_JSON_SCHEMA", `the dataSchema of event type ${eventType.name} is refused (${err.message}); add a version with a valid schema`, {
        field: `${prefix}.type`,
        details: { schemaField: err.field },
        cause: err,
      });
    } finally {
      setBudget(outer);
    }
    this.compiled.set(eventType.id, compiled);
    if (this.compiled.size > this.capacity) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    return compiled;
  }
}

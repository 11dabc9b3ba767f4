import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import { AppError } from "@custody/errors";

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

/**
 * Compiled `data` schemas of event types, keyed by event-type id. An event-type row never changes
 * its schema (a change is a new version, a new id), so a compiled validator stays right for as long
 * as it is cached. Bounded, least recently used out first.
 */
export class DataSchemaValidators {
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly capacity = 1_000) {}

  /** Throws 422 DATA_SCHEMA_MISMATCH, `field` at the first failing value, unless `data` satisfies the schema. */
  check(eventType: { id: string; name: string; dataSchema: unknown }, data: unknown, prefix: string): void {
    const validate = this.validatorFor(eventType, prefix);
    if (validate(data) === true) return;
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

  private validatorFor(eventType: { id: string; name: string; dataSchema: unknown }, prefix: string): ValidateFunction {
    const cached = this.compiled.get(eventType.id);
    if (cached) {
      this.compiled.delete(eventType.id);
      this.compiled.set(eventType.id, cached);
      return cached;
    }
    let validate: ValidateFunction;
    try {
      // The same options the event-type routes accept schemas with (json-schema.ts), and an Ajv of
      // its own per schema so one tenant's `$id` cannot collide with another's.
      const ajv = new Ajv2020.default({ strict: false, logger: false, allErrors: false });
      validate = ajv.compile(eventType.dataSchema as object);
    } catch (err) {
      throw new AppError("INVALID_JSON_SCHEMA", `the dataSchema of event type ${eventType.name} does not compile; add a version with a valid schema`, {
        field: `${prefix}.type`,
        cause: err,
      });
    }
    this.compiled.set(eventType.id, validate);
    if (this.compiled.size > this.capacity) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    return validate;
  }
}

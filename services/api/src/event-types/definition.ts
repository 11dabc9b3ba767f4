import { AppError } from "@custody/errors";
import { parsePointer, RedactionError, requiredAcknowledgements, type EventTypeFields } from "@custody/redact";
import { compileDataSchema } from "../data-schema/json-schema.js";

/** Dotted lowercase segments, at least two: `identity.registration.final`. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const MAX_EVENT_TYPE_NAME = 128;
/** The platform's own events (`webhook.test`, …) live under this prefix; tenants cannot define or send them. */
export const RESERVED_PREFIX = "webhook.";
export const MAX_PERSONAL_DATA_FIELDS = 100;

export function checkNotReserved(name: string): void {
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new AppError("RESERVED_EVENT_TYPE", `event type names starting with "${RESERVED_PREFIX}" are reserved for the platform`, { field: "body.name" });
  }
}

/** `null` (no schema) passes; anything else must compile. */
export function checkDataSchema(schema: unknown): void {
  if (schema !== null) compileDataSchema(schema);
}

export function checkPersonalDataFields(fields: readonly string[]): void {
  const seen = new Set<string>();
  for (const [i, pointer] of fields.entries()) {
    const field = `body.personalDataFields.${i}`;
    try {
      parsePointer(pointer);
    } catch (err) {
      if (err instanceof RedactionError) throw new AppError("VALIDATION_FAILED", err.message, { field });
      throw err;
    }
    if (seen.has(pointer)) throw new AppError("VALIDATION_FAILED", `pointer ${JSON.stringify(pointer)} is listed twice`, { field });
    seen.add(pointer);
  }
}

/**
 * Refuses a definition whose acknowledgement strings could be confused with another type's: "a.b" +
 * "/c.d" and "a.b.c" + "/d" both read "a.b.c.d", so acknowledging one would consent to the other.
 * `catalog` is the tenant's active types; the candidate replaces its own name's entry.
 */
export function checkUnambiguous(catalog: readonly EventTypeFields[], candidate: EventTypeFields): void {
  const merged = [...catalog.filter((c) => c.name !== candidate.name), candidate];
  try {
    requiredAcknowledgements(merged, []);
  } catch (err) {
    if (err instanceof RedactionError && err.code === "AMBIGUOUS_ACKNOWLEDGEMENT") {
      throw new AppError("PERSONAL_DATA_FIELD_AMBIGUOUS", err.message, { field: "body.personalDataFields" });
    }
    throw err;
  }
}

import { AppError } from "@custody/errors";
import { compareAcknowledgement, RedactionError, requiredAcknowledgements, type EventTypeFields } from "@custody/redact";
import type { PayloadShape } from "@custody/db";

export interface AcknowledgementChange {
  currentShape: PayloadShape;
  newShape: PayloadShape;
  currentSubscriptions: readonly string[];
  newSubscriptions: readonly string[];
  storedAcknowledgement: readonly string[];
  /** `fatEventsAcknowledgment.fieldsAcknowledged` of the request, if it had one. */
  given: readonly string[] | undefined;
}

const FIELD = "body.fatEventsAcknowledgment.fieldsAcknowledged";

/** Whether deciding the acknowledgement needs the event-type catalog (a database read). */
export function needsCatalog(change: AcknowledgementChange): boolean {
  if (change.newShape !== "fat") return false;
  return change.currentShape !== "fat" || change.given !== undefined || !sameSet(change.currentSubscriptions, change.newSubscriptions);
}

/**
 * The acknowledgement an endpoint stores after a PATCH, or FAT_ACK_INCOMPLETE with what is missing
 * and what is extra. The rules:
 * - a thin endpoint stores none: consent for fat payloads is given afresh each time one is switched on
 *   (and a non-empty acknowledgement sent to an endpoint that stays thin is refused);
 * - switching to fat, or sending `fieldsAcknowledged` at all, needs it to equal the required set exactly,
 *   so a client cannot acknowledge fields it was never shown, nor skip ones it was;
 * - a fat endpoint whose subscriptions change without a new acknowledgement keeps what it had,
 *   trimmed to what the new subscriptions require, provided nothing new is required.
 * `catalog` is the tenant's active event types (latest version each), needed when needsCatalog.
 */
export function decideAcknowledgement(change: AcknowledgementChange, catalog: readonly EventTypeFields[]): string[] {
  if (change.newShape !== "fat") {
    // Consent sent to an endpoint that stays thin is most likely a forgotten `defaultPayloadShape: "fat"`; saying so beats a silent no-op.
    if (change.given !== undefined && change.given.length > 0) {
      throw new AppError("VALIDATION_FAILED", "fieldsAcknowledged applies only with defaultPayloadShape fat", { field: FIELD });
    }
    return [];
  }
  if (!needsCatalog(change)) return [...change.storedAcknowledgement];
  const required = requiredOf(catalog, change.newSubscriptions);
  if (change.currentShape !== "fat" || change.given !== undefined) {
    const { missing, extra } = compareAcknowledgement(required, [...(change.given ?? [])]);
    if (missing.length > 0 || extra.length > 0) {
      throw new AppError("FAT_ACK_INCOMPLETE", "fieldsAcknowledged must list exactly the personal-data fields the subscriptions deliver in fat payloads", {
        field: FIELD,
        details: { missing, extra },
      });
    }
    return required;
  }
  const { missing } = compareAcknowledgement(required, [...change.storedAcknowledgement]);
  if (missing.length > 0) {
    throw new AppError("FAT_ACK_INCOMPLETE", "the new subscriptions deliver personal-data fields not yet acknowledged; send fatEventsAcknowledgment.fieldsAcknowledged", {
      field: FIELD,
      details: { missing, extra: [] },
    });
  }
  return required;
}

/** The pairs a switch to fat with these subscriptions must acknowledge (GET /webhooks/{id}/fat-acknowledgement). */
export function requiredFatAcknowledgement(catalog: readonly EventTypeFields[], subscriptions: readonly string[]): string[] {
  return requiredOf(catalog, subscriptions);
}

function requiredOf(catalog: readonly EventTypeFields[], subscriptions: readonly string[]): string[] {
  try {
    return requiredAcknowledgements([...catalog], [...subscriptions]);
  } catch (err) {
    if (err instanceof RedactionError && err.code === "AMBIGUOUS_ACKNOWLEDGEMENT") throw new AppError("PERSONAL_DATA_FIELD_AMBIGUOUS", err.message, { field: FIELD });
    throw err;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

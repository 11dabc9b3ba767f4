/**
 * Which personal-data fields a "fat" endpoint must explicitly acknowledge before it may receive
 * unredacted payloads, and how an acknowledgement set compares with what is required.
 *
 * An acknowledgement string is `<eventTypeName>.<field>`, where `<field>` is the field's pointer
 * without its leading "/", escapes kept as they are: "identity.registration.final" + "/result/taxId"
 * gives "identity.registration.final.result/taxId", and "/a~1b" gives "….a~1b".
 */
import { RedactionError } from "./errors.js";
import { parsePointer } from "./pointer.js";

export type EventTypeFields = { name: string; personalDataFields: string[] };

/**
 * Whether an event type name matches a subscription pattern. `*` matches any run of characters,
 * including dots and the empty run; every other character matches itself (case-sensitive,
 * UTF-16 code units). So "*" matches everything, "*.final" matches "a.b.final" and ".final", and
 * "identity.*" matches "identity.x.y" but not "identity".
 */
export function matchesSubscription(eventType: string, pattern: string): boolean {
  if (typeof eventType !== "string" || typeof pattern !== "string") {
    throw new RedactionError("BAD_ARGUMENT", "matchesSubscription: eventType and pattern must be strings");
  }
  // Greedy match with backtracking to the last "*" only: O(name × pattern) at worst, never the
  // exponential blow-up a naive recursive matcher (or a regex built from the pattern) can hit.
  let n = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (n < eventType.length) {
    const pc = pattern.charCodeAt(p);
    if (pc === 0x2a) {
      star = p++;
      resume = n;
    } else if (p < pattern.length && pc === eventType.charCodeAt(n)) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern.charCodeAt(p) === 0x2a) p++;
  return p === pattern.length;
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new RedactionError("BAD_ARGUMENT", `${what} must be an array of strings`);
  }
  return v as string[];
}

function sortedUnique(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

/**
 * The sorted, de-duplicated acknowledgement strings required of an endpoint subscribed to
 * `subscriptions`: one per personal-data field of every event type matching any pattern.
 *
 * `eventTypes` should be the whole catalog, not just the matched types: a collision between any two
 * distinct (name, pointer) pairs is AMBIGUOUS_ACKNOWLEDGEMENT even if only one is subscribed now,
 * because an acknowledgement given for one would later count for the other. Also throws
 * BAD_ARGUMENT and BAD_POINTER.
 */
export function requiredAcknowledgements(eventTypes: EventTypeFields[], subscriptions: string[]): string[] {
  if (!Array.isArray(eventTypes)) throw new RedactionError("BAD_ARGUMENT", "eventTypes must be an array");
  const patterns = stringArray(subscriptions, "subscriptions");
  const owner = new Map<string, string>(); // acknowledgement -> the name and pointer it came from
  const required: string[] = [];
  for (const [i, et] of eventTypes.entries()) {
    if (et === null || typeof et !== "object" || typeof et.name !== "string") {
      throw new RedactionError("BAD_ARGUMENT", `eventTypes[${i}] must have a string name`);
    }
    const fields = stringArray(et.personalDataFields, `eventTypes[${i}].personalDataFields`);
    const matched = patterns.some((p) => matchesSubscription(et.name, p));
    for (const pointer of fields) {
      parsePointer(pointer);
      const ack = `${et.name}.${pointer.slice(1)}`;
      // JSON.stringify of the pair cannot collide for different pairs, unlike the dotted form.
      const source = JSON.stringify([et.name, pointer]);
      const prev = owner.get(ack);
      if (prev !== undefined && prev !== source) {
        throw new RedactionError("AMBIGUOUS_ACKNOWLEDGEMENT", `acknowledgement ${JSON.stringify(ack)} would stand for both ${prev} and ${source} (event type, field)`);
      }
      owner.set(ack, source);
      if (matched) required.push(ack);
    }
  }
  return sortedUnique(required);
}

/** Set difference both ways, each sorted and de-duplicated; exact string comparison. */
export function compareAcknowledgement(required: string[], given: string[]): { missing: string[]; extra: string[] } {
  const req = new Set(stringArray(required, "required"));
  const giv = new Set(stringArray(given, "given"));
  return {
    missing: sortedUnique([...req].filter((r) => !giv.has(r))),
    extra: sortedUnique([...giv].filter((g) => !req.has(g))),
  };
}

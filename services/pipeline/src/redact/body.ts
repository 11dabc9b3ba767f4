import { createHash } from "node:crypto";
import { canonicalJson, redact, redactionHopBytes, type JsonValue, type RemovedField } from "@custody/redact";

export interface EventView {
  id: string;
  type: string;
  occurredAt: Date;
  supersedes: string | null;
  metadata: JsonValue | null;
}

export interface PreparedBody {
  /** The exact bytes every attempt of this delivery sends. */
  body: Uint8Array;
  removed: RemovedField[];
  /** SHA-256 of the redacted hop's canonical bytes. */
  redactedHop: Uint8Array;
}

/** How a fat endpoint's acknowledgement names a personal field: `<event type>.<pointer without its leading slash>`. */
export function acknowledgementOf(eventType: string, pointer: string): string {
  return `${eventType}.${pointer.slice(1)}`;
}

/**
 * The body of a delivery: the event envelope with `data` redacted for the endpoint's shape, as RFC
 * 8785 canonical JSON (proofs/FORMAT.md §Body). A fat endpoint receives only the personal fields it
 * acknowledged: a field added to the event type later stays removed until acknowledged. `redacted`
 * lists the removed JSON Pointers so a receiver knows what it was not sent; the values'
 * commitments stay in the custody record.
 */
export function prepareBody(
  event: EventView,
  data: JsonValue,
  personalDataFields: readonly string[],
  shape: "thin" | "fat",
  acknowledged: ReadonlySet<string> = new Set(),
  random?: (n: number) => Uint8Array,
): PreparedBody {
  const remove = shape === "thin" ? [...personalDataFields] : personalDataFields.filter((p) => !acknowledged.has(acknowledgementOf(event.type, p)));
  const result = redact(data, remove, random ? { shape: "thin", random } : { shape: "thin" });
  const envelope: Record<string, JsonValue> = {
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt.toISOString(),
    data: result.payload,
    payloadShape: shape,
    redacted: result.removed.map((r) => r.path),
  };
  if (event.supersedes !== null) envelope.supersedes = event.supersedes;
  if (event.metadata !== null) envelope.metadata = event.metadata;
  const body = new TextEncoder().encode(canonicalJson(envelope));
  const redactedHop = createHash("sha256").update(redactionHopBytes(result.payload, result.removed)).digest();
  return { body, removed: result.removed, redactedHop: new Uint8Array(redactedHop) };
}

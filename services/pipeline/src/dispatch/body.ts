import { sha256 } from "@custody/crypto";
import { canonicalJson, redact, redactionHopBytes, removePaths, type JsonValue, type RandomSource, type RemovedField } from "@custody/redact";

/*
 * A delivery's body and its redaction (proofs/FORMAT.md §4, §5): pure. The event's payload is kept
 * as the canonical JSON of its `data`, so when a delivery removes nothing — most deliveries — the
 * body and the redacted hop are written around those bytes without parsing them.
 */

export interface EventForBody {
  id: string;
  type: string;
  occurredAt: Date;
  supersedes: string | null;
  metadata: JsonValue | null;
  /** RFC 8785 canonical JSON of `data`, as stored. */
  payload: Uint8Array;
}

export type Shape = "thin" | "fat";

export interface Redaction {
  shape: Shape;
  /** Sorted by path (UTF-16 code units). */
  removed: RemovedField[];
}

export interface PreparedBody {
  /** The exact bytes every attempt of the delivery sends. */
  body: Uint8Array;
  /** SHA-256 of the redacted hop bytes. */
  redactedHop: Uint8Array;
  redaction: Redaction;
}

/** How a fat endpoint's acknowledgement names a personal field: `<event type>.<pointer without its leading slash>`. */
export function acknowledgementOf(eventType: string, pointer: string): string {
  return `${eventType}.${pointer.slice(1)}`;
}

/** The personal fields a delivery removes: all for thin, the unacknowledged ones for fat (a field added later stays out until acknowledged). */
export function pathsToRemove(eventType: string, personalDataFields: readonly string[], shape: Shape, acknowledged: ReadonlySet<string>): string[] {
  return shape === "thin" ? [...personalDataFields] : personalDataFields.filter((p) => !acknowledged.has(acknowledgementOf(eventType, p)));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const str = JSON.stringify;

function bodyBytes(event: EventForBody, shape: Shape, dataJson: string, removedPaths: readonly string[]): Uint8Array {
  let text = `{"data":${dataJson},"id":${str(event.id)}`;
  if (event.metadata !== null) text += `,"metadata":${canonicalJson(event.metadata, "metadata")}`;
  text += `,"payloadShape":${str(shape)},"redacted":${str(removedPaths)}`;
  if (event.supersedes !== null) text += `,"supersedes":${str(event.supersedes)}`;
  text += `,"timestamp":${str(event.occurredAt.toISOString())},"type":${str(event.type)}}`;
  return encoder.encode(text);
}

function prepared(event: EventForBody, shape: Shape, data: JsonValue | undefined, removed: RemovedField[]): PreparedBody {
  if (data === undefined) {
    // Nothing removed: the stored canonical bytes are the delivered data.
    const dataJson = decoder.decode(event.payload);
    return {
      body: bodyBytes(event, shape, dataJson, []),
      redactedHop: sha256(encoder.encode(`{"payload":${dataJson},"removed":[],"v":1}`)),
      redaction: { shape, removed },
    };
  }
  return {
    body: bodyBytes(event, shape, canonicalJson(data, "data"), removed.map((r) => r.path)),
    redactedHop: sha256(redactionHopBytes(data, removed)),
    redaction: { shape, removed },
  };
}

/** Redacts the event for a new delivery: fresh salts for every removed field. */
export function redactForDelivery(event: EventForBody, paths: readonly string[], shape: Shape, random?: RandomSource): PreparedBody {
  if (paths.length === 0) return prepared(event, shape, undefined, []);
  const data = JSON.parse(decoder.decode(event.payload)) as JsonValue;
  const result = redact(data, paths, random ? { shape: "thin", random } : { shape: "thin" });
  if (result.removed.length === 0) return prepared(event, shape, undefined, []);
  return prepared(event, shape, result.payload, result.removed);
}

/** Rebuilds an existing delivery's body from its redaction record: the same bytes on every attempt. */
export function rebuildBody(event: EventForBody, redaction: Redaction): PreparedBody {
  if (redaction.removed.length === 0) return prepared(event, redaction.shape, undefined, []);
  const data = JSON.parse(decoder.decode(event.payload)) as JsonValue;
  return prepared(event, redaction.shape, removePaths(data, redaction.removed.map((r) => r.path)), redaction.removed);
}

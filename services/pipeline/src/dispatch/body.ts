import { sha256 } from "@custody/crypto";
import { allocBytes, utf8Bytes } from "@custody/encoding";
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

/** An event as dispatch holds it (by `eventId`), with its payload, as the body builders take it. */
export function eventForBody(e: { eventId: string; type: string; occurredAt: Date; supersedes: string | null; metadata: JsonValue | null }, payload: Uint8Array): EventForBody {
  return { id: e.eventId, type: e.type, occurredAt: e.occurredAt, supersedes: e.supersedes, metadata: e.metadata, payload };
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

const decoder = new TextDecoder();
const str = JSON.stringify;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = allocBytes(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The body's bytes around its data's canonical JSON bytes (which are not decoded). */
function bodyBytes(event: EventForBody, shape: Shape, data: Uint8Array, removedPaths: readonly string[]): Uint8Array {
  let after = `,"id":${str(event.id)}`;
  if (event.metadata !== null) after += `,"metadata":${canonicalJson(event.metadata, "metadata")}`;
  after += `,"payloadShape":${str(shape)},"redacted":${str(removedPaths)}`;
  if (event.supersedes !== null) after += `,"supersedes":${str(event.supersedes)}`;
  after += `,"timestamp":${str(event.occurredAt.toISOString())},"type":${str(event.type)}}`;
  return concat([DATA_OPEN, data, utf8Bytes(after)]);
}

const DATA_OPEN = utf8Bytes('{"data":');
const HOP_OPEN = utf8Bytes('{"payload":');
const HOP_CLOSE_NOTHING_REMOVED = utf8Bytes(',"removed":[],"v":1}');

function prepared(event: EventForBody, shape: Shape, data: JsonValue | undefined, removed: RemovedField[]): PreparedBody {
  if (data === undefined) {
    // Nothing removed: the stored canonical bytes are the delivered data, and the hop's too.
    return {
      body: bodyBytes(event, shape, event.payload, []),
      redactedHop: sha256(HOP_OPEN, event.payload, HOP_CLOSE_NOTHING_REMOVED),
      redaction: { shape, removed },
    };
  }
  return {
    body: bodyBytes(
      event,
      shape,
      utf8Bytes(canonicalJson(data, "data")),
      removed.map((r) => r.path),
    ),
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
  return prepared(
    event,
    redaction.shape,
    removePaths(
      data,
      redaction.removed.map((r) => r.path),
    ),
    redaction.removed,
  );
}

import { sha256 as digest } from "@custody/crypto";
import { AppError } from "@custody/errors";
import { canonicalJson, type JsonObject } from "@custody/redact";
import { MAX_METADATA_BYTES, newEventBody, RESERVED_TYPE_PREFIX, type NewEventBody } from "./schemas.js";
import { jsonDepth } from "../data-schema/json-schema.js";

/**
 * The pure core of ingest: everything about one event that can be decided without the database.
 * Throws AppError with `field` under `prefix` (`body` for a single event, `body.events.3` in a batch).
 */

export interface PrepareOptions {
  maxJsonDepth: number;
  /** When the event was received: the default `timestamp`. */
  now: Date;
  /** Mints an id for an event sent without one. */
  newId: () => string;
  /** Where the event sits in the request, for error fields. */
  prefix: string;
}

export interface PreparedEvent {
  id: string;
  /** True when the producer chose the id: only then is the call idempotent. */
  producerId: boolean;
  type: string;
  data: JsonObject;
  /** RFC 8785 canonical JSON of `data`: the stored payload and the ledger's committed bytes. */
  payload: Buffer;
  payloadSha256: Buffer;
  occurredAt: Date;
  supersedes: string | null;
  /** Canonical JSON text of `metadata`, or null. */
  metadata: string | null;
  /** The callback URL as sent; the SSRF check normalises it later. */
  callbackUrl: string | null;
  /** SHA-256 of the canonical request: how a retry of the same event is recognised. */
  requestHash: Buffer;
}

// The platform's one SHA-256 (node:crypto in the services), as the Buffer ingest stores and compares.
const sha256 = (bytes: Buffer | string): Buffer => Buffer.from(digest(typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes));

/** A batch item through the same schema as a single body; a mismatch is 422 for that item alone. */
export function parseEventItem(raw: unknown, prefix: string): NewEventBody {
  const parsed = newEventBody.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = [...(issue?.path.map(String) ?? []), ...(issue?.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : [])].join(".");
  const field = path === "" ? prefix : `${prefix}.${path}`;
  const message = issue?.code === "unrecognized_keys" ? "is not a field of an event" : (issue?.message ?? "invalid");
  throw new AppError("VALIDATION_FAILED", `${field}: ${message}`, {
    field,
    status: 422,
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}

/** True when a string or key anywhere in `value` holds U+0000, which Postgres jsonb cannot store. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (v.includes("\u0000")) return true;
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes("\u0000")) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** RFC 3339 text or unix milliseconds (both already range-checked by the schema) to a Date. */
export function parseTimestamp(value: string | number | undefined, now: Date): Date {
  if (value === undefined) return new Date(now.getTime());
  // Digits past the millisecond are dropped: the ledger entry and every API answer use milliseconds.
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`unparseable timestamp ${String(value)}`);
  return date;
}

function canonical(value: unknown, field: string): string {
  try {
    return canonicalJson(value, field);
  } catch (err) {
    // Lone surrogates (from `\ud800` escapes) have no UTF-8 form, so they cannot be hashed or stored faithfully.
    throw new AppError("VALIDATION_FAILED", `${field} is not representable as canonical JSON: ${(err as Error).message}`, { field, status: 422, cause: err });
  }
}

function checkDepth(value: unknown, limit: number, field: string): void {
  const depth = jsonDepth(value, limit);
  if (depth > limit) {
    throw new AppError("JSON_TOO_DEEP", `${field} nests deeper than ${limit} levels`, { field, details: { maxDepth: limit } });
  }
}

export function prepareEvent(input: NewEventBody, options: PrepareOptions): PreparedEvent {
  const { prefix } = options;
  if (input.type.startsWith(RESERVED_TYPE_PREFIX)) {
    throw new AppError("RESERVED_EVENT_TYPE", `event types under '${RESERVED_TYPE_PREFIX}' are reserved for the platform`, { field: `${prefix}.type` });
  }
  // Depth first: everything after walks the documents, and this bounds how deep.
  checkDepth(input.data, options.maxJsonDepth, `${prefix}.data`);
  if (input.metadata !== undefined) checkDepth(input.metadata, options.maxJsonDepth, `${prefix}.metadata`);

  const payloadText = canonical(input.data, `${prefix}.data`);
  const payload = Buffer.from(payloadText, "utf8");

  let metadata: string | null = null;
  if (input.metadata !== undefined) {
    metadata = canonical(input.metadata, `${prefix}.metadata`);
    const size = Buffer.byteLength(metadata, "utf8");
    if (size > MAX_METADATA_BYTES) {
      throw new AppError("VALIDATION_FAILED", `${prefix}.metadata is ${size} bytes as canonical JSON; the limit is ${MAX_METADATA_BYTES}`, {
        field: `${prefix}.metadata`,
        status: 422,
        details: { maxBytes: MAX_METADATA_BYTES },
      });
    }
    if (containsNul(input.metadata)) {
      throw new AppError("VALIDATION_FAILED", `${prefix}.metadata must not contain the character U+0000`, { field: `${prefix}.metadata`, status: 422 });
    }
  }

  // The canonical request, written from the canonical forms of data and metadata made above rather
  // than canonicalizing them twice: members sorted (RFC 8785), every other member a string or number.
  const requestText = `{${Object.keys(input)
    .filter((k) => input[k as keyof NewEventBody] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${k === "data" ? payloadText : k === "metadata" ? metadata : canonical(input[k as keyof NewEventBody], `${prefix}.${k}`)}`)
    .join(",")}}`;
  const requestHash = sha256(requestText);

  return {
    id: input.id ?? options.newId(),
    producerId: input.id !== undefined,
    type: input.type,
    data: input.data as JsonObject,
    payload,
    payloadSha256: sha256(payload),
    occurredAt: parseTimestamp(input.timestamp, options.now),
    supersedes: input.supersedes ?? null,
    metadata,
    callbackUrl: input.callbackUrl ?? null,
    requestHash,
  };
}

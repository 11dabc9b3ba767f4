/**
 * Validation of the values that go into signed strings and HTTP headers. Every rule here exists
 * because a value that broke it would either make the signed content ambiguous or be changed in
 * transit (by an HTTP stack or a proxy), so a correct signature would fail, or a wrong one pass.
 */
import { fail } from "./errors.js";

/** Message ids are capped like Standard Webhooks ids usually are; also bounds the signed prefix. */
export const MAX_MSG_ID_LENGTH = 255;
export const MAX_EVENT_TYPE_LENGTH = 255;

/**
 * Visible ASCII (0x21–0x7E) except ','. Whitespace and ',' are the separators of the
 * `webhook-signature` header family; non-ASCII would be UTF-8 in the signed content but latin1 (or
 * rejected) in an HTTP header, so sender and receiver would sign different bytes.
 */
const MSG_ID = /^[\x21-\x2b\x2d-\x7e]+$/;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** RFC 9562 §4: 8-4-4-4-12 hex digits, version 1–8, variant 10xx. Either case, as RFC 9562 §4 allows on input. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** RFC 9110 §5.6.2 token: the only characters an HTTP field name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * What we allow in a header value: visible ASCII and inner spaces/tabs. No CR/LF/NUL (header
 * injection), no obs-text (encoding-dependent), no leading/trailing whitespace (HTTP parsers strip
 * it, RFC 9110 §5.5, so the receiver would see a different value than we recorded).
 */
const FIELD_VALUE = /^(?:[\x21-\x7e](?:[\x20\x21-\x7e\t]*[\x21-\x7e])?)?$/;

export function assertMsgId(msgId: unknown): asserts msgId is string {
  if (typeof msgId !== "string" || msgId.length === 0 || msgId.length > MAX_MSG_ID_LENGTH || !MSG_ID.test(msgId)) {
    fail("BAD_MSG_ID", `msgId must be 1–${MAX_MSG_ID_LENGTH} visible ASCII characters without ',', got ${describe(msgId)}`);
  }
}

export function assertTimestamp(timestamp: unknown, what = "timestamp"): asserts timestamp is number {
  if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    fail("BAD_TIMESTAMP", `${what} must be a non-negative safe integer of unix seconds, got ${describe(timestamp)}`);
  }
}

/**
 * Parses a timestamp header. Only the canonical decimal form is accepted (no sign, no leading
 * zeros, no spaces), so the digits we sign are exactly the digits in the header.
 */
export function parseTimestampHeader(value: string, name: string): number {
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(value) || !Number.isSafeInteger(Number(value))) {
    fail("BAD_TIMESTAMP", `${name} must be canonical decimal unix seconds, got ${describe(value)}`);
  }
  return Number(value);
}

export function assertBody(body: unknown): asserts body is Uint8Array {
  if (!(body instanceof Uint8Array)) fail("BAD_BODY", `body must be a Uint8Array of the exact raw bytes, got ${describe(body)}`);
}

export function assertEventType(eventType: unknown): asserts eventType is string {
  if (typeof eventType !== "string" || eventType.length > MAX_EVENT_TYPE_LENGTH || !VISIBLE_ASCII.test(eventType)) {
    fail("BAD_EVENT_TYPE", `eventType must be 1–${MAX_EVENT_TYPE_LENGTH} visible ASCII characters, got ${describe(eventType)}`);
  }
}

export function assertIdempotencyKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || !UUID.test(key)) fail("BAD_IDEMPOTENCY_KEY", `idempotencyKey must be a UUID, got ${describe(key)}`);
}

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** A short, safe rendering of a rejected value for an error message (secrets never reach here). */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return String(value);
  return typeof value;
}

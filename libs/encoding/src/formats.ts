/**
 * The value formats of proofs/FORMAT.md §1 as patterns and predicates, so that the ledger's entry
 * parsers, the custody records, receipts and the verifier test a hash, an id or a time alike.
 */

/** A SHA-256 hash in hex: exactly 64 lowercase hex characters. */
export const HEX32 = /^[0-9a-f]{64}$/;

/** A platform key id (FORMAT §2): the 4-byte key hash in hex, 8 lowercase hex characters. */
export const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/** An id: the platform's (`ten_…`, `dlv_…`, `wh_…`, `evt_…`) or a producer's own event id. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A time: RFC 3339 in UTC with exactly three fraction digits and `Z`. */
const TIME_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const isHex32 = (v: unknown): v is string => typeof v === "string" && HEX32.test(v);
export const isId = (v: unknown): v is string => typeof v === "string" && ID.test(v);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digits = (s: string, from: number, to: number): number => Number(s.slice(from, to));

/**
 * The pattern, and a moment that exists: no 2026-02-30, no hour 24, no leap second (which
 * ECMAScript dates cannot hold). Arithmetic rather than a Date round trip, a tenth of its cost: the
 * audit checks a time in every event entry.
 */
export function isTimeMs(v: unknown): v is string {
  if (typeof v !== "string" || !TIME_MS.test(v)) return false;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 7);
  const day = digits(v, 8, 10);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days && digits(v, 11, 13) < 24 && digits(v, 14, 16) < 60 && digits(v, 17, 19) < 60;
}
export const isIntIn = (v: unknown, min: number, max: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;

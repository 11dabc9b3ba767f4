import { ENTRY_KINDS_BY_VERSION, MAX_ENTRY_BYTES } from "./entry.js";

/**
 * A one-pass recogniser for the entry bytes `decodeEntry` accepts, so that parseEntry (which the
 * audit runs on every entry of the ledger) need not re-encode what it parsed to prove it canonical.
 *
 * It recognises a subset of the canonical forms and is never looser than decodeEntry: `true` only for
 * bytes that decodeEntry certainly accepts; `false` means "not certain" (a string with an escape, a
 * non-ASCII key, a number that is not a plain integer of at most 15 digits, nesting deeper than
 * MAX_DEPTH, or anything that is not canonical at all), and then decodeEntry decides. Every entry the
 * platform writes is in the subset, so decodeEntry only ever runs on the rare entry outside it.
 *
 * Why `true` implies decodeEntry accepts: the grammar below is a subset of JSON with no whitespace;
 * strings are well-formed UTF-8 without control characters, quotes or backslashes, which
 * JSON.stringify writes back unchanged; integers of at most 15 digits (below 2^53, not -0) are
 * printed back as the same digits; object keys are printable ASCII in strictly increasing byte order,
 * which for ASCII is the UTF-16 order RFC 8785 (and `canonicalize`) sort by, and strict increase
 * rules out duplicates; `v` is the number 1 or 2 and `kind` a string naming a kind of that version
 * (encodeEntry's checks). So JSON.parse succeeds, and re-encoding gives the same bytes.
 * (libs/ledger/src/audit-canonical.test.ts checks the implication on generated and mutated inputs.)
 */
export function isCertainlyCanonicalEntry(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n === 0 || n > MAX_ENTRY_BYTES || bytes[0] !== LBRACE) return false;
  input = bytes;
  pos = 0;
  vAt = -1;
  kindStart = -1;
  kindEnd = -1;
  try {
    if (!object(0, true) || pos !== n) return false;
    if (vAt < 0 || kindStart < 0) return false;
    const kinds = vAt === 1 ? V1_KINDS : vAt === 2 ? V2_KINDS : undefined;
    if (kinds === undefined) return false;
    for (const kind of kinds) if (equalsAscii(bytes, kindStart, kindEnd, kind)) return true;
    return false;
  } finally {
    input = EMPTY;
  }
}

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_V = 0x76;

/** Deeper nesting is left to decodeEntry (whose own recursion limits then decide). */
const MAX_DEPTH = 32;
/** 15 digits: every such integer is below 2^53, so it parses exactly and prints as the same digits. */
const MAX_DIGITS = 15;

const EMPTY = new Uint8Array(0);
const V1_KINDS: readonly string[] = ENTRY_KINDS_BY_VERSION[1];
const V2_KINDS: readonly string[] = ENTRY_KINDS_BY_VERSION[2];

// The recogniser's state, module-level so that the hot path allocates nothing (it never re-enters).
let input: Uint8Array = EMPTY;
let pos = 0;
/** The top-level `v` (1 or 2), or -1 when absent or anything else. */
let vAt = -1;
/** The top-level `kind` string's contents [kindStart, kindEnd), or -1 when absent or not a string. */
let kindStart = -1;
let kindEnd = -1;

function equalsAscii(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

function value(depth: number): boolean {
  const b = input[pos];
  if (b === QUOTE) return string(false);
  if (b === LBRACE) return object(depth + 1, false);
  if (b === LBRACKET) return array(depth + 1);
  if (b === MINUS || (b !== undefined && b >= ZERO && b <= NINE)) return integer();
  if (b === 0x74) return literal("true");
  if (b === 0x66) return literal("false");
  if (b === 0x6e) return literal("null");
  return false;
}

function literal(text: string): boolean {
  if (!equalsAscii(input, pos, pos + text.length, text)) return false;
  pos += text.length;
  return true;
}

/** -?(0|[1-9][0-9]{0,14}), not -0, and not followed by a fraction or an exponent. */
function integer(): boolean {
  const start = pos;
  if (input[pos] === MINUS) pos++;
  const first = pos;
  const d = input[pos];
  if (d === undefined || d < ZERO || d > NINE) return false;
  if (d === ZERO) {
    pos++;
    // "-0" prints as "0"; "0…" with more digits is not JSON.
    if (first !== start) return false;
  } else {
    while (pos < input.length) {
      const c = input[pos]!;
      if (c < ZERO || c > NINE) break;
      pos++;
    }
    if (pos - first > MAX_DIGITS) return false;
  }
  const next = input[pos];
  // A fraction or exponent: left to decodeEntry (canonical only in the shortest round-trip form).
  return next !== 0x2e && next !== 0x65 && next !== 0x45 && !(next !== undefined && next >= ZERO && next <= NINE);
}

/**
 * A string with no escapes: bytes 0x20–0x7E except `"` and `\`, or (unless `asciiOnly`) well-formed
 * UTF-8 sequences (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
 */
function string(asciiOnly: boolean): boolean {
  const n = input.length;
  pos++;
  while (pos < n) {
    const b = input[pos]!;
    if (b === QUOTE) {
      pos++;
      return true;
    }
    if (b < 0x80) {
      // Control characters are not JSON; an escape is left to decodeEntry. DEL (0x7F) is written as is.
      if (b < 0x20 || b === BACKSLASH) return false;
      pos++;
      continue;
    }
    if (asciiOnly) return false;
    let lo = 0x80;
    let hi = 0xbf;
    let more: number;
    if (b >= 0xc2 && b <= 0xdf) more = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      more = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      more = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return false;
    if (pos + more >= n) return false;
    const second = input[pos + 1]!;
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= more; k++) {
      const c = input[pos + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    pos += more + 1;
  }
  return false;
}

function array(depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  pos++;
  if (input[pos] === RBRACKET) {
    pos++;
    return true;
  }
  for (;;) {
    if (!value(depth)) return false;
    const b = input[pos];
    pos++;
    if (b === RBRACKET) return true;
    if (b !== COMMA) return false;
  }
}

/** Keys: printable ASCII without escapes, strictly increasing (bytewise = UTF-16 order for ASCII). */
function object(depth: number, top: boolean): boolean {
  if (depth > MAX_DEPTH) return false;
  pos++;
  if (input[pos] === RBRACE) {
    pos++;
    return true;
  }
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    if (input[pos] !== QUOTE) return false;
    const keyStart = pos + 1;
    if (!string(true)) return false;
    const keyEnd = pos - 1;
    if (prevStart >= 0 && !ascending(prevStart, prevEnd, keyStart, keyEnd)) return false;
    prevStart = keyStart;
    prevEnd = keyEnd;
    if (input[pos] !== COLON) return false;
    pos++;
    const valueStart = pos;
    if (!value(depth)) return false;
    if (top) topLevelField(keyStart, keyEnd, valueStart, pos);
    const b = input[pos];
    pos++;
    if (b === RBRACE) return true;
    if (b !== COMMA) return false;
  }
}

function ascending(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const aLen = aEnd - aStart;
  const bLen = bEnd - bStart;
  const common = Math.min(aLen, bLen);
  for (let i = 0; i < common; i++) {
    const x = input[aStart + i]!;
    const y = input[bStart + i]!;
    if (x !== y) return x < y;
  }
  return aLen < bLen;
}

/** Notes the top-level `v` and `kind`, the fields encodeEntry checks. */
function topLevelField(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
  if (keyEnd - keyStart === 1 && input[keyStart] === LOWER_V) {
    const d = input[valueStart];
    vAt = valueEnd - valueStart === 1 && (d === 0x31 || d === 0x32) ? d - ZERO : -1;
  } else if (equalsAscii(input, keyStart, keyEnd, "kind")) {
    if (input[valueStart] === QUOTE) {
      kindStart = valueStart + 1;
      kindEnd = valueEnd - 1;
    } else {
      kindStart = -1;
    }
  }
}

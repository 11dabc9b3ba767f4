/**
 * UTF-8 and character-class helpers shared by the note, checkpoint and tlog-proof parsers.
 * Uses the WHATWG TextEncoder/TextDecoder globals (browsers, Node >= 11), never node: modules.
 */

// fatal: invalid UTF-8 is an error, not U+FFFD (signed-note §Format: notes MUST be valid UTF-8).
// ignoreBOM: keep a leading U+FEFF as a character instead of silently stripping it, so the string
// we hand back is exactly the bytes we were given (the signed message must not change under us).
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 bytes, or returns undefined if they are not valid UTF-8 (overlongs, surrogates, truncation). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Index of the first UTF-16 code unit that makes `s` unfit for a note, or -1. Unfit means an ASCII
 * control character other than newline (signed-note §Format) or a lone surrogate (a JS string
 * that has no UTF-8 encoding; TextEncoder would silently turn it into U+FFFD and sign that).
 */
export function findForbiddenChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x0a) return i;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1); // NaN past the end, which fails the range test
      if (!(next >= 0xdc00 && next <= 0xdfff)) return i;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/**
 * Unicode White_Space, the class Go's unicode.IsSpace tests and the signed-note spec means by
 * "Unicode spaces". (JS `\s` differs: it adds U+FEFF and omits U+0085.)
 */
const WHITE_SPACE = /\p{White_Space}/u;

/**
 * signed-note §Format: key names MUST be non-empty and MUST NOT contain Unicode spaces or '+'. We
 * also refuse control characters and lone surrogates, which could never appear in a valid note.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !name.includes("+") && !WHITE_SPACE.test(name) && findForbiddenChar(name) < 0;
}

/**
 * Strict ASCII decimal for tree sizes and indices (tlog-checkpoint §Note text, tlog-proof §Format):
 * digits only, no sign, no leading zeros unless the value is 0, and at most Number.MAX_SAFE_INTEGER
 * so the value is exact as a JS number. Returns undefined otherwise.
 */
export function parseDecimal(s: string): number | undefined {
  // 16 digits bounds the work and covers MAX_SAFE_INTEGER (9007199254740991).
  if (s.length === 0 || s.length > 16 || !/^(?:0|[1-9][0-9]*)$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function isSafeNonNegativeInteger(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

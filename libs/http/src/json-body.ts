import { AppError } from "@custody/errors";

/**
 * Checks on a JSON request body that need its text, run by the JSON body parser after the text
 * parsed: what JSON can carry but the platform cannot keep faithfully is refused here, naming the
 * field, before any route sees it.
 *
 * - **U+0000.** Postgres `text` and `jsonb` cannot hold it. JSON carries it only as the escape
 *   `\u0000` (a raw control character is not JSON), so the parsed value is walked only when the text
 *   contains that escape. 400 VALIDATION_FAILED.
 * - **Numbers that would change.** JavaScript reads every JSON number as an IEEE 754 double, and the
 *   ledger and deliveries carry it in its shortest ECMAScript form (RFC 8785). A number is accepted
 *   only when that form has exactly the value of the producer's text (`1.0` becomes `1` and `1E2`
 *   becomes `100`, the same values), and an integer written without fraction or exponent only within
 *   ±(2^53 − 1), the range every JSON parser reads exactly. So 9007199254740993 (read as …992),
 *   1e-400 (read as 0), 1e400 (read as Infinity) and 0.30000000000000001 (read as 0.3) are refused
 *   with 422 NUMBER_NOT_EXACT. A number of at most 15 significant digits without exponent is always
 *   exact, so the tokens are scanned only when the text holds a run of 16 digits and dots or what
 *   looks like an exponent — rare outside long digit strings.
 */
export function checkJsonText(text: string, value: unknown): void {
  if (text.includes("\\u0000")) {
    const field = nulField(value, "body");
    if (field !== undefined) throw new AppError("VALIDATION_FAILED", `${field} must not contain the character U+0000`, { field });
  }
  if (LONG_RUN.test(text) || EXPONENT.test(text)) {
    const bad = firstInexactNumber(text);
    if (bad !== undefined) {
      const field = fieldAt(text, bad.offset);
      throw new AppError("NUMBER_NOT_EXACT", `${field}: ${clip(bad.literal)} ${REASONS[bad.reason]}`, {
        field,
        details: { reason: bad.reason, literal: clip(bad.literal) },
      });
    }
  }
}

/**
 * Text that may hold a number needing the exact check: a run of 16 digits and dots (a number of 16
 * significant digits or more has one), or a digit, `e` or `E`, digits and what may follow a number
 * (an exponent; hex ids inside strings are followed by more characters or a quote). Written out and
 * kept apart because V8 runs them far faster than `[\d.]{16}` or an alternation (measured: under
 * 0.1 µs for a 150-byte event, about 0.4 µs for 1 KB of hex ids, against 0.5 and 2.8 µs to parse).
 */
const LONG_RUN = new RegExp("[\\d.]".repeat(16));
const EXPONENT = /\d[eE][+-]?\d+(?:[,}\]\s]|$)/;

export type InexactReason = "UNSAFE_INTEGER" | "OVERFLOW" | "UNDERFLOW" | "PRECISION";

const REASONS: Record<InexactReason, string> = {
  UNSAFE_INTEGER: "is an integer beyond ±9007199254740991, which JSON parsers do not all read exactly; send it as a string",
  OVERFLOW: "is beyond the largest number a double holds; send it as a string",
  UNDERFLOW: "is too close to zero for a double and would be read as 0; send it as a string",
  PRECISION: "has more precision than a double keeps and would be read as another number; send it as a string",
};

function clip(literal: string): string {
  return literal.length > 64 ? `${literal.slice(0, 61)}...` : literal;
}

/** Why a JSON number token would not be kept exactly, or undefined when it would. */
export function inexactReason(token: string): InexactReason | undefined {
  const x = Number(token);
  let integerLiteral = true;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) {
      integerLiteral = false;
      break;
    }
  }
  if (integerLiteral) return Number.isSafeInteger(x) ? undefined : "UNSAFE_INTEGER";
  if (!Number.isFinite(x)) return "OVERFLOW";
  const shortest = String(x);
  // Producers that write numbers as JavaScript does (most) send the shortest form itself.
  if (shortest === token || decimalValue(token) === decimalValue(shortest)) return undefined;
  return x === 0 ? "UNDERFLOW" : "PRECISION";
}

/**
 * A decimal number's value as `[-]digits e exponent` with no leading or trailing zeros in the
 * digits (`"0"` for zero, either sign), so two texts have the same value exactly when these match.
 */
export function decimalValue(text: string): string {
  let start = 0;
  const negative = text.charCodeAt(0) === 0x2d;
  if (negative) start = 1;
  let end = text.length;
  let exponent = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      end = i;
      exponent = Number(text.slice(i + 1));
      break;
    }
  }
  let mantissa = text.slice(start, end);
  const dot = mantissa.indexOf(".");
  if (dot >= 0) {
    exponent -= mantissa.length - dot - 1;
    mantissa = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  }
  let first = 0;
  while (first < mantissa.length && mantissa.charCodeAt(first) === 0x30) first++;
  if (first === mantissa.length) return "0";
  let last = mantissa.length;
  while (mantissa.charCodeAt(last - 1) === 0x30) last--;
  exponent += mantissa.length - last;
  return `${negative ? "-" : ""}${mantissa.slice(first, last)}e${exponent}`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** The end (index after the closing quote) of the JSON string starting at `open`. */
function stringEnd(text: string, open: number): number {
  let i = open + 1;
  for (;;) {
    const close = text.indexOf('"', i);
    if (close < 0) return text.length;
    // A quote preceded by an odd number of backslashes is escaped.
    let backslashes = 0;
    for (let j = close - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    i = close + 1;
  }
}

function isNumberChar(c: number): boolean {
  // digits, '.', 'e', 'E', '+', '-'
  return (c >= ZERO && c <= NINE) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

/** The first number token of valid JSON text that would not be kept exactly. */
export function firstInexactNumber(text: string): { offset: number; literal: string; reason: InexactReason } | undefined {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      const start = i;
      let digits = 0;
      let plain = true;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!isNumberChar(d)) break;
        if (d >= ZERO && d <= NINE) digits++;
        else if (d !== MINUS && d !== 0x2e) plain = false;
        i++;
      }
      // At most 15 significant digits and no exponent: always exact.
      if (digits > 15 || !plain) {
        const literal = text.slice(start, i);
        const reason = inexactReason(literal);
        if (reason !== undefined) return { offset: start, literal, reason };
      }
    } else {
      i++;
    }
  }
  return undefined;
}

/**
 * The request field (`body.a.0.b`) of the value starting at `offset` in valid JSON text. Only for
 * error answers: it walks the text from the start.
 */
export function fieldAt(text: string, offset: number): string {
  // One frame per open container: its key or index so far, and whether the next string is a key.
  const path: (string | number)[] = [];
  const kinds: ("object" | "array")[] = [];
  let expectKey = false;
  let i = 0;
  while (i < offset && i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectKey) {
        path[path.length - 1] = JSON.parse(text.slice(i, end)) as string;
        expectKey = false;
      }
      i = end;
      continue;
    }
    switch (c) {
      case 0x7b: // {
        kinds.push("object");
        path.push("");
        expectKey = true;
        break;
      case 0x5b: // [
        kinds.push("array");
        path.push(0);
        break;
      case 0x7d: // }
      case 0x5d: // ]
        kinds.pop();
        path.pop();
        break;
      case 0x2c: // ,
        if (kinds[kinds.length - 1] === "array") path[path.length - 1] = (path[path.length - 1] as number) + 1;
        else expectKey = true;
        break;
    }
    i++;
  }
  return ["body", ...path.map(String)].join(".");
}

/** The field of the first string or member name holding U+0000 in a parsed JSON value (depth-first, in order). */
export function nulField(value: unknown, at: string): string | undefined {
  // Iterative: a body may nest deeper than the call stack goes before the depth limit refuses it.
  const stack: [unknown, string][] = [[value, at]];
  while (stack.length > 0) {
    const [v, where] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\u0000")) return where;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${where}.${i}`]);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (const [key] of entries) if (key.includes("\u0000")) return `${where}.${key.replaceAll("\u0000", "\\u0000")}`;
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], `${where}.${entries[i]![0]}`]);
    }
  }
  return undefined;
}

import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, FuncKeywordDefinition, Options } from "ajv";
import { RE2JS } from "re2js";

/**
 * How a tenant's `dataSchema` runs: an Ajv (draft 2020-12) whose regular expressions are RE2
 * (re2js, a pure-JS port of RE2: matching is linear in the input, so no `pattern` can backtrack),
 * whose `enum` and `uniqueItems` use hashing instead of pairwise comparison, and whose pattern
 * matches run only while their worst case fits the validation's budget, so that one request cannot
 * hold the event loop.
 */

/** Longest `pattern` or `patternProperties` key, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 512;
/** Largest compiled RE2 program (instructions); `a{1000}` is about 1,000. */
export const MAX_PATTERN_PROGRAM = 2_000;

/** Why a pattern is refused; the message says what to change. */
export class PatternError extends Error {}

/** Memory a pattern's lazily built DFA may hold (re2js defaults to 8 MiB); past it, RE2 falls back to its NFA. */
export const PATTERN_DFA_BYTES = 128 * 1024;

/**
 * What one match may cost at worst, charged before it starts: per RE2 instruction per character
 * (the NFA, where a pattern's DFA gives up — measured 14–40 ns on this project's loaded 2-core
 * machine for 26- to 1,000-instruction patterns on random input), and per call.
 */
export const WORST_NS_PER_STEP = 20;
export const WORST_NS_PER_CALL = 1_000;

/** Thrown by a validation that would exceed its budget; never caught by Ajv (it is not a validation failure). */
export class ValidationBudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`validation would take more than its budget of ${budgetMs} ms`);
  }
}

/**
 * The work a validation may do, in nanoseconds of worst-case estimate: each piece of work whose
 * worst case is known (a pattern match, a schema's structural cost on some data) is charged before
 * it starts and refused if it does not fit. Estimates, not the clock: the same request always gets
 * the same answer, however loaded the machine. Validation is synchronous, so the budget is whatever
 * `withBudget` installed for the call.
 */
export class ValidationBudget {
  private remaining: number;
  constructor(readonly ms: number) {
    this.remaining = ms * 1e6;
  }
  /** Charges `ns`, or throws ValidationBudgetExceeded (charging nothing) if that is more than is left. */
  spend(ns: number): void {
    if (ns > this.remaining) throw new ValidationBudgetExceeded(this.ms);
    this.remaining -= ns;
  }
  /** Nanoseconds left. */
  get left(): number {
    return this.remaining;
  }
}

let active: ValidationBudget | undefined;

/** The budget of the validation running now, if any. */
export function currentBudget(): ValidationBudget | undefined {
  return active;
}

/** Installs the budget pattern matches are charged to (undefined: none). */
export function setBudget(budget: ValidationBudget | undefined): void {
  active = budget;
}

/** Runs `fn` with `budget` charged for every pattern match it makes (nested calls keep the outer budget). */
export function withBudget<T>(budget: ValidationBudget, fn: () => T): T {
  if (active !== undefined) return fn();
  active = budget;
  try {
    return fn();
  } finally {
    active = undefined;
  }
}

// ECMA-262 `\s`: WhiteSpace and LineTerminator. RE2's `\s` is ASCII only, so it is spelt out.
const WHITESPACE: [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const hexCp = (cp: number) => `\\x{${cp.toString(16)}}`;
const classRanges = (ranges: [number, number][]) => ranges.map(([a, b]) => (a === b ? hexCp(a) : `${hexCp(a)}-${hexCp(b)}`)).join("");
const complement = (ranges: [number, number][]): [number, number][] => {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
};
const WS = classRanges(WHITESPACE);
const NOT_WS = classRanges(complement(WHITESPACE));
// ECMA-262 `.` (without the s flag): anything but a line terminator. RE2's `.` excludes only \n.
const DOT = `[^${classRanges([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
])}]`;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Rewrites an ECMA-262 pattern (already known to parse with the `u` flag) into RE2 syntax with the
 * same meaning: `\uXXXX` and `\u{…}` become `\x{…}`, `\cX` a code point, `\s`, `\S` and `.` their
 * ECMA-262 sets. Everything else is spelt the same in both, or refused by RE2's parser (back-
 * references, lookaround): those need backtracking, which is what RE2 exists to rule out.
 */
export function toRe2Syntax(source: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; ) {
    const c = source[i]!;
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      if (n === "u") {
        let cp: number;
        let length: number;
        if (source[i + 2] === "{") {
          const end = source.indexOf("}", i + 3);
          cp = parseInt(source.slice(i + 3, end), 16);
          length = end + 1 - i;
        } else {
          cp = parseInt(source.slice(i + 2, i + 6), 16);
          length = 6;
          const low = source.slice(i + 8, i + 12);
          // In `u` mode an escaped surrogate pair is one code point.
          if (cp >= 0xd800 && cp <= 0xdbff && source.startsWith("\\u", i + 6) && HEX4.test(low)) {
            const lo = parseInt(low, 16);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              length = 12;
            }
          }
        }
        out += hexCp(cp);
        i += length;
      } else if (n === "c" && /^[A-Za-z]$/.test(source[i + 2] ?? "")) {
        out += hexCp(source.charCodeAt(i + 2) % 32);
        i += 3;
      } else if (n === "s") {
        out += inClass ? WS : `[${WS}]`;
        i += 2;
      } else if (n === "S") {
        out += inClass ? NOT_WS : `[^${WS}]`;
        i += 2;
      } else {
        out += c + n;
        i += 2;
      }
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      // A `[` inside a class is a literal in ECMA-262; in RE2 `[:` could open a POSIX class.
      out += c === "[" ? "\\[" : c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      i++;
      if (source[i] === "^") {
        out += "^";
        i++;
      }
      // `[]` matches nothing and `[^]` anything in ECMA-262; RE2 reads `]` there as a literal.
      if (source[i] === "]") throw new PatternError("an empty class `[]` or `[^]` is not supported; write what it means (e.g. `[\\s\\S]`)");
      continue;
    }
    if (c === ".") {
      out += DOT;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** A compiled pattern as Ajv uses it: `test` searches anywhere in the string, like RegExp#test. */
export class Re2Pattern {
  private readonly re: RE2JS;
  /** Worst nanoseconds per character matched. */
  private readonly steps: number;

  constructor(readonly source: string) {
    if (source.length > MAX_PATTERN_LENGTH) throw new PatternError(`is ${source.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`);
    try {
      // The dialect JSON Schema specifies (ECMA-262, as Ajv reads it: with the `u` flag) …
      new RegExp(source, "u");
    } catch (err) {
      throw new PatternError(`is not an ECMA-262 regular expression: ${(err as Error).message}`);
    }
    try {
      // … that RE2 can also run: no backreferences, no lookahead or lookbehind.
      this.re = RE2JS.compile(toRe2Syntax(source));
    } catch (err) {
      if (err instanceof PatternError) throw err;
      throw new PatternError(`cannot run in linear time (RE2 syntax: no backreferences, lookahead or lookbehind): ${(err as Error).message}`);
    }
    const program = this.re.programSize();
    if (program > MAX_PATTERN_PROGRAM) throw new PatternError(`compiles to ${program} RE2 instructions; the limit is ${MAX_PATTERN_PROGRAM} (use smaller repetition counts)`);
    this.steps = program * WORST_NS_PER_STEP;
    // Bounds what the pattern keeps between matches; a cached schema keeps its patterns.
    const dfa = this.re.re2Input.dfa;
    dfa.maxMem = dfa.stateBudget = dfa.memBudget = PATTERN_DFA_BYTES;
  }

  test(s: string): boolean {
    active?.spend(this.steps * s.length + WORST_NS_PER_CALL);
    return this.re.test(s);
  }

  toString(): string {
    return this.source;
  }
}

/** Compiled patterns by source, shared by every schema that uses one (they keep no per-match state). */
const patterns = new Map<string, Re2Pattern>();
const PATTERN_CACHE = 1_024;

/** The compiled pattern for `source`, or a PatternError saying why it is refused. */
export function compilePattern(source: string): Re2Pattern {
  let pattern = patterns.get(source);
  if (pattern === undefined) {
    pattern = new Re2Pattern(source);
    patterns.set(source, pattern);
    if (patterns.size > PATTERN_CACHE) patterns.delete(patterns.keys().next().value!);
  }
  return pattern;
}

const re2Engine: NonNullable<NonNullable<Options["code"]>["regExp"]> = Object.assign((source: string) => compilePattern(source), { code: "re2js" });

/** Canonical text of a JSON value: equal under JSON Schema's equality exactly when the texts are equal. */
export function jsonKey(value: unknown): string {
  if (value === null || typeof value !== "object") return typeof value === "string" ? JSON.stringify(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(jsonKey).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${jsonKey(record[k])}`)
    .join(",")}}`;
}

/** What a compiled keyword returns (Ajv does not export its name for it). */
type DataValidateFunction = ((data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

/** `enum` by hash lookup: Ajv's compares the value with every member in turn. */
const enumKeyword: FuncKeywordDefinition = {
  keyword: "enum",
  schemaType: "array",
  errors: true,
  compile(allowed: unknown[]) {
    if (allowed.length === 0) throw new Error("enum must have non-empty array");
    const keys = new Set(allowed.map(jsonKey));
    const composite = allowed.some((v) => v !== null && typeof v === "object");
    const validate: DataValidateFunction = (data: unknown) => {
      const candidate = data === null || typeof data !== "object" || composite;
      if (candidate && keys.has(jsonKey(data))) return true;
      validate.errors = [{ keyword: "enum", message: "must be equal to one of the allowed values", params: { allowedValues: allowed } }];
      return false;
    };
    return validate;
  },
};

/** `uniqueItems` by hashing each item once: Ajv's compares every pair of composite items. */
const uniqueItemsKeyword: FuncKeywordDefinition = {
  keyword: "uniqueItems",
  type: "array",
  schemaType: "boolean",
  errors: true,
  compile(unique: boolean) {
    const validate: DataValidateFunction = (data: unknown) => {
      if (!unique) return true;
      const seen = new Map<string, number>();
      const items = data as unknown[];
      for (let j = 0; j < items.length; j++) {
        const key = jsonKey(items[j]);
        const i = seen.get(key);
        if (i !== undefined) {
          validate.errors = [{ keyword: "uniqueItems", message: `must NOT have duplicate items (items ## ${i} and ${j} are identical)`, params: { i, j } }];
          return false;
        }
        seen.set(key, j);
      }
      return true;
    };
    return validate;
  },
};

/**
 * A fresh Ajv for one tenant schema (so one tenant's `$id` cannot collide with another's).
 * `strict: false`: producers bring schemas written for other tools, and unknown keywords and formats
 * are common and harmless. `code.optimize: false`: Ajv's optimiser passes cost more at compile time
 * than they save on these validators.
 */
export function newDataSchemaAjv(): Ajv2020.default {
  const ajv = new Ajv2020.default({ strict: false, logger: false, allErrors: false, code: { regExp: re2Engine, optimize: false } });
  ajv.removeKeyword("enum").removeKeyword("uniqueItems");
  ajv.addKeyword(enumKeyword).addKeyword(uniqueItemsKeyword);
  return ajv;
}

// Test-only helpers: asserting a RedactionError code, and deterministic random sources.
import { expect } from "vitest";
import { RedactionError } from "./errors.js";
import type { RedactionErrorCode } from "./errors.js";
import type { RandomSource } from "./redact.js";

export function expectRedactionError(fn: () => unknown, code: RedactionErrorCode, message?: string | RegExp): RedactionError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected RedactionError ${code}, but got ${String(thrown)}`).toBeInstanceOf(RedactionError);
  const err = thrown as RedactionError;
  expect(err.code, err.message).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

/** Call k (0-based) returns bytes k*n, k*n+1, … (mod 256): distinct salts, same every run. */
export function countingRandom(): RandomSource {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

/** The 16 bytes 00 01 … 0f, and their salt string. */
export const SALT_0_15 = Uint8Array.from({ length: 16 }, (_, i) => i);
export const SALT_0_15_TEXT = "AAECAwQFBgcICQoLDA0ODw";

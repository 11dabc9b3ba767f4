import { expect } from "vitest";
import { TargetRefusedError } from "./errors.js";
import type { TargetRefusedCode } from "./errors.js";

/** Runs `fn` (sync or async) and asserts it refused with `code`; returns the error for further checks. */
export async function expectRefused(fn: () => unknown, code: TargetRefusedCode): Promise<TargetRefusedError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TargetRefusedError);
  const refused = thrown as TargetRefusedError;
  expect(refused.code).toBe(code);
  expect(refused.message).toBe(`${code}: ${refused.reason}`);
  return refused;
}

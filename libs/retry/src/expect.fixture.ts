// Test-only helper: asserts a call throws RetryPolicyError with a given code (and field).
import { expect } from "vitest";
import { RetryPolicyError, type RetryPolicyErrorCode } from "./errors.js";

export function expectRetryError(fn: () => unknown, code: RetryPolicyErrorCode, field?: string): RetryPolicyError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected RetryPolicyError ${code}, but nothing was thrown`).toBeInstanceOf(RetryPolicyError);
  const err = thrown as RetryPolicyError;
  expect(err.code, err.message).toBe(code);
  if (field !== undefined) expect(err.field).toBe(field);
  return err;
}

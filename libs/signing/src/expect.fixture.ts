// Test-only helpers shared by the signing tests.
import { expect } from "vitest";
import { SigningError, type SigningErrorCode } from "./errors.js";

/** Asserts `fn` throws SigningError with `code` (and, if given, a message matching `message`). */
export function expectSigningError(fn: () => unknown, code: SigningErrorCode, message?: string | RegExp): SigningError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected SigningError ${code}, but nothing was thrown`).toBeInstanceOf(SigningError);
  const err = thrown as SigningError;
  expect(err.code, err.message).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A deterministic "random" source: byte i of every call is (seed + i) mod 256. */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  return (n) => Uint8Array.from({ length: n }, (_, i) => (seed + i) & 0xff);
}

/** The Standard Webhooks spec / reference-library test vector (libraries/javascript/src/index.test.ts upstream). */
export const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  msgId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
} as const;

/** Two fixed secrets for rotation tests: 32 bytes of 0x42 and 32 bytes of 0x07. */
export const SECRET_A = "whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";
export const SECRET_B = "whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
export const UUID = "6f1c2a4e-8b3d-4f7a-9c2e-1d5b7a9e0c3f";

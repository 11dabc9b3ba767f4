/**
 * Check 5, `signed` (proofs/FORMAT.md §6, §14; Appendix A): the attempt's headers give signed hop
 * bytes whose SHA-256 is its `signed` hop, and the headers whose values the document fixes have
 * those values. The formats differ in which headers the hop covers and whether the fixed ones must
 * be present; the rules are given by the caller.
 */
import { sha256 } from "@custody/crypto";
import { toHex } from "@custody/encoding";
import type { AttemptRef } from "./attempt.js";
import { fail, reason } from "./entries.js";

export interface SignedRules {
  /** The format's signed hop bytes of the headers; throws when they cannot be formed. */
  readonly hopBytes: (headers: Readonly<Record<string, string>>) => Uint8Array;
  /** Header name -> the value the document (or the record) fixes for it. */
  readonly expected: Readonly<Record<string, string>>;
  /** Format 2: every expected header must be present. Format 1: compared when present. */
  readonly required: boolean;
}

// RFC 9110 token characters, lowercase only: FORMAT §6 names every header in lowercase, and
// @custody/signing matches names case-insensitively (with Unicode case folding), so a name like
// "Webhook-Id" or one with a KELVIN SIGN would be read differently by another verifier.
const LOWERCASE_HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

export function signedOf(ref: AttemptRef, rules: SignedRules): string {
  const { headers } = ref;
  for (const name of Object.keys(headers)) {
    if (!LOWERCASE_HEADER_NAME.test(name)) fail(`header name ${JSON.stringify(name)} is not a lowercase HTTP token (FORMAT §6)`);
  }
  let bytes: Uint8Array;
  try {
    bytes = rules.hopBytes(headers);
  } catch (err) {
    fail(`headers: ${reason(err)}`);
  }
  const digest = toHex(sha256(bytes));
  const signed = ref.claims.hop("signed");
  if (digest !== signed) fail(`SHA-256 of the signed header lines is ${digest}, not the signed hop ${signed}`);
  for (const [name, value] of Object.entries(rules.expected)) {
    if (!Object.hasOwn(headers, name)) {
      if (rules.required) fail(`the ${name} header is missing`);
      continue;
    }
    if (headers[name] !== value) fail(`the ${name} header is ${JSON.stringify(headers[name])}, expected ${JSON.stringify(value)}`);
  }
  return "the signature header lines hash to the signed hop";
}

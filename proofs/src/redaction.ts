/**
 * Checking a producer's original event against a document (proofs/FORMAT.md §14, last paragraph),
 * the same for both formats: `original` (the SHA-256 of the JCS of `data` is the event entry's
 * payloadSha256), and per delivery `redaction` (every removed field's commitment opens against the
 * original, and removing exactly those fields gives the payload whose redacted hop bytes hash to
 * the `redacted` hop of each of its attempts).
 */
import { sha256 } from "@custody/crypto";
import { toHex } from "@custody/encoding";
import { canonicalJson, redactionHopBytes, verifyRedaction as verifyRedactionClaim, verifyRemovedField, type JsonValue } from "@custody/redact";
import type { AttemptRef, DeliveryCore } from "./attempt.js";
import type { Context } from "./context.js";
import { fail, reason } from "./entries.js";
import { applyRemovals } from "./removals.js";

const utf8 = new TextEncoder();

/**
 * The original's `data`: `{"data": …}` and a bare `data` object that itself has a member named
 * "data" look alike, so the committed hash decides which reading is meant (a second preimage of
 * SHA-256 is out of reach). Throws unless one reading is the committed payload.
 */
export function originalData(ctx: Context, o: unknown, found: (data: JsonValue) => void): string {
  if (ctx.payloadSha256 === undefined) fail("the event entry could not be read, so there is no payloadSha256 to compare with");
  const candidates: unknown[] = o !== null && typeof o === "object" && !Array.isArray(o) && Object.hasOwn(o, "data") ? [(o as { data: unknown }).data, o] : [o];
  const problems: string[] = [];
  for (const candidate of candidates) {
    let digest: string;
    try {
      digest = toHex(sha256(utf8.encode(canonicalJson(candidate, "original"))));
    } catch (err) {
      problems.push(reason(err));
      continue;
    }
    if (digest === ctx.payloadSha256) {
      found(candidate as JsonValue);
      return `SHA-256 of the JCS of the original data is the event entry's payloadSha256 ${digest}`;
    }
    problems.push(`SHA-256 of the JCS of the ${candidate === o ? "whole file" : "data member"} is ${digest}`);
  }
  fail(`${problems.join("; ")}; the event entry's payloadSha256 is ${ctx.payloadSha256}`);
}

export function redactionOf(original: JsonValue, d: DeliveryCore, attempts: readonly AttemptRef[]): string {
  const removed = d.redaction.removed;
  for (const field of removed) {
    try {
      verifyRemovedField(original, field);
    } catch (err) {
      fail(`${d.id}: removed field ${JSON.stringify(field.path)}: ${reason(err)}`);
    }
  }
  let hop: string;
  try {
    const delivered = applyRemovals(
      original,
      removed.map((f) => f.path),
    );
    // The library's own check of the same claim: its removal code and ours must agree.
    verifyRedactionClaim({ original, delivered, removed: [...removed] });
    hop = toHex(sha256(redactionHopBytes(delivered, [...removed])));
  } catch (err) {
    fail(`${d.id}: ${reason(err)}`);
  }
  for (const ref of attempts) {
    let redacted: string;
    try {
      redacted = ref.claims.hop("redacted");
    } catch (err) {
      fail(`${ref.label}: ${reason(err)}`);
    }
    if (redacted !== hop) fail(`${ref.label}: redacted hop ${redacted} is not ${hop}, the SHA-256 of the redacted hop bytes from the original`);
  }
  const paths = removed.length === 0 ? "nothing removed" : `removed ${removed.map((f) => f.path).join(", ")}, each commitment opens`;
  const compared = attempts.length === 0 ? "no attempt sealed yet to compare with" : `redacted hop of ${attempts.length} attempt(s) matches`;
  return `${d.id} (${d.redaction.shape}): ${paths}; ${compared}`;
}

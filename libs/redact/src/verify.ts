/**
 * Checking a redaction record against the original event, as the producer (who holds the original)
 * or an auditor it hands the original to would. Every failure is a RedactionError whose code says
 * which check failed; success returns nothing.
 */
import { checkRemovedField, checkRemovedList, commitmentOf } from "./commitment.js";
import type { CheckedField, RemovedField } from "./commitment.js";
import { RedactionError } from "./errors.js";
import { assertJson, canonicalJsonOf } from "./json.js";
import type { JsonValue } from "./json.js";
import { resolveTokens } from "./pointer.js";
import { applyRemovals } from "./redact.js";

function verifyChecked(original: JsonValue, f: CheckedField, where: string): void {
  const found = resolveTokens(original, f.tokens);
  if (!found.present) {
    throw new RedactionError("PATH_ABSENT", `${where}: the original has no value at ${JSON.stringify(f.path)}`);
  }
  if (commitmentOf(f.path, f.salt, found.value) !== f.commitment) {
    throw new RedactionError("COMMITMENT_MISMATCH", `${where}: the commitment for ${JSON.stringify(f.path)} does not match the original value`);
  }
}

/**
 * Throws unless `original` has a value at `field.path` whose commitment with `field.salt` equals
 * `field.commitment`. Codes: BAD_ARGUMENT, BAD_POINTER, BAD_SALT, BAD_COMMITMENT, NOT_JSON,
 * PATH_ABSENT, COMMITMENT_MISMATCH.
 */
export function verifyRemovedField(original: JsonValue, field: RemovedField): void {
  const f = checkRemovedField(field, "verifyRemovedField");
  assertJson(original, "original");
  verifyChecked(original, f, "verifyRemovedField");
}

export type RedactionClaim = {
  /** The event `data` as the producer submitted it. */
  original: JsonValue;
  /** The payload the platform says it delivered. */
  delivered: JsonValue;
  /** The removed-field list from the "redacted" custody hop. */
  removed: RemovedField[];
};

/**
 * Throws unless the claim is an honest redaction of `original`, checked in this order:
 * 1. shape and format of every RemovedField (BAD_ARGUMENT, BAD_POINTER, BAD_SALT, BAD_COMMITMENT)
 *    and of both documents (NOT_JSON);
 * 2. no path appears twice (DUPLICATE_PATH);
 * 3. every field verifies against `original` (PATH_ABSENT, COMMITMENT_MISMATCH);
 * 4. removing exactly those paths from `original` with redact's rules gives a value whose RFC 8785
 *    canonical JSON equals that of `delivered` (PAYLOAD_MISMATCH).
 * The order of `removed` does not matter. This proves consistency, not completeness: whether
 * `removed` covers every declared personal-data field is a policy question for the caller.
 */
export function verifyRedaction(claim: RedactionClaim): void {
  if (claim === null || typeof claim !== "object") throw new RedactionError("BAD_ARGUMENT", "verifyRedaction: expected { original, delivered, removed }");
  const { original, delivered, removed } = claim;
  const fields = checkRemovedList(removed, "verifyRedaction");
  assertJson(original, "original");
  assertJson(delivered, "delivered");
  fields.forEach((f, i) => {
    verifyChecked(original, f, `verifyRedaction: removed[${i}]`);
  });
  if (canonicalJsonOf(applyRemovals(original, fields)) !== canonicalJsonOf(delivered)) {
    throw new RedactionError("PAYLOAD_MISMATCH", "verifyRedaction: removing the recorded paths from the original does not give the delivered payload");
  }
}

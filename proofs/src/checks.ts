/**
 * The verifier's public API, pure so that the CLI and the offline browser page run exactly the same
 * code (proofs/FORMAT.md §14). Every input is attacker-controlled: the document is parsed with the
 * zod schema of its format before anything reads it, every library call that can throw is inside
 * a check, and a check fails rather than throws.
 *
 * The document's `format` picks its checks (v1.ts: Appendix A; v2.ts: §14); the checks both
 * formats share run here. Interpretations where FORMAT.md is silent or ambiguous (each one
 * stricter, never looser, than a literal reading; the reasons are next to the code):
 *  - `prepared` selects every attempt whose prepared hop is SHA-256(payload). All attempts of a
 *    delivery send the same body (§4), and two thin deliveries of one event send identical bodies,
 *    so "exactly one attempt" cannot hold for honest documents.
 *  - The custody checks (`ingested` … `outcome`) run over EVERY attempt in the document, not only
 *    the matching ones: the document is one piece of evidence, and a forged part anywhere in it
 *    rejects it. Format 2's `chain` runs over every delivery.
 *  - `hmac` and `receipt` identify the receiver, so they pass when at least one matching attempt
 *    (delivery) verifies with the secret (receipt key) given.
 *  - Notes must be signed by a given key whose name is the log origin (§2, §8), not by any key.
 *  - Format 2: checks 3–6 and 9 read members of a custody record before check 7 insists on its
 *    canonical form (§14's order), so records are read member by member (v2-record.ts) and a
 *    record that is not JSON fails the first check that reads it. Check 7 compares x-custody-seal
 *    with the seal note parsed but not yet verified (check 8 verifies it), so a note whose size or
 *    signature line no longer matches the header fails check 7. The attempts must be listed
 *    1, 2, … in document order (§13: "attempt 1 first"). A seal note has exactly three lines.
 */
import type { VerifierKey } from "@custody/note";
import type { JsonValue } from "@custody/redact";
import { sha256 } from "@custody/crypto";
import { toHex } from "@custody/encoding";
import { preparedHopOf } from "./attempt.js";
import { keyList, newContext } from "./context.js";
import { parseDocument, type ParsedDocument } from "./document.js";
import type { FormatChecks } from "./format-checks.js";
import { hmacOf } from "./hmac.js";
import { checkpointCheck, eventCheck } from "./ledger-checks.js";
import { receiptCheck } from "./receipt.js";
import { originalData, redactionOf } from "./redaction.js";
import { labels, run, someItem, type Check } from "./report.js";
import { v1Checks } from "./v1.js";
import { v2Checks } from "./v2.js";

export { allOk, type Check, type CheckName } from "./report.js";
export { verifyCheckpoint, verifyConsistencyArgs, verifyInclusionArgs, type Count } from "./tools.js";

function formatChecks(parsed: ParsedDocument): FormatChecks {
  return parsed.format === 2 ? v2Checks(parsed.doc) : v1Checks(parsed.doc);
}

export interface ProofInput {
  /** The chain-of-custody document (parsed JSON, not yet trusted), format 1 or 2. */
  document: unknown;
  /** The exact body bytes the receiver got. */
  payload: Uint8Array;
  /** The platform's verifier key, or several (e.g. keys before and after a rotation). */
  key: VerifierKey | readonly VerifierKey[];
  /** The endpoint's `whsec_…` secret: adds the `hmac` check. */
  secret?: string;
  /** The endpoint's 32-byte Ed25519 receipt public key: adds the `receipt` check. */
  receiptKey?: Uint8Array;
}

/**
 * Verifies a delivered payload against a chain-of-custody document, returning one check per line:
 * format 2 (FORMAT §14) checkpoint, event, prepared, ingested, signed, root, custody record, seal,
 * chain, outcome; format 1 (Appendix A) checkpoint, event, prepared, ingested, signed, root, seal,
 * custody entry, outcome; then hmac (with `secret`) and receipt (with `receiptKey`). Only a document
 * that does not parse (a single `document` check) or a payload that matches no attempt stops the
 * list early, since nothing after them can run.
 */
export function verifyProof(input: ProofInput): Check[] {
  const parsed = parseDocument(input.document);
  if ("failure" in parsed) return [parsed.failure];
  const format = formatChecks(parsed);
  const ctx = newContext(parsed.doc, keyList(input.key));
  const checks: Check[] = [];
  checks.push(run("checkpoint", () => checkpointCheck(ctx)));
  checks.push(run("event", () => eventCheck(ctx, true)));

  const refs = format.attempts;
  const payload = input.payload;
  if (!(payload instanceof Uint8Array)) {
    checks.push({ name: "prepared", ok: false, detail: "the payload must be bytes" });
    return checks;
  }
  const digest = toHex(sha256(payload));
  const matched = refs.filter((r) => preparedHopOf(r) === digest);
  if (matched.length === 0) {
    checks.push({ name: "prepared", ok: false, detail: `SHA-256 of the payload is ${digest}, the prepared hop of no attempt in the document (${refs.length} attempts)` });
    return checks;
  }
  checks.push({ name: "prepared", ok: true, detail: `SHA-256 of the payload ${digest} is the prepared hop of ${labels(matched.map((r) => r.label))}` });

  checks.push(...format.custody(ctx));

  if (input.secret !== undefined) {
    const secret = input.secret;
    checks.push(
      someItem(
        "hmac",
        matched,
        (r) => r.label,
        (ref) => hmacOf(payload, secret, ref),
      ),
    );
  }
  if (input.receiptKey !== undefined) {
    checks.push(receiptCheck(ctx, [...new Set(matched.map((r) => r.delivery))], input.receiptKey, digest));
  }
  return checks;
}

export interface RedactionInput {
  document: unknown;
  /** The producer's original event: `{"data": …}` or the bare `data` value (parsed JSON). */
  original: unknown;
  /**
   * Optional platform verifier key(s). FORMAT §14 runs the redaction check without one, which
   * proves the document consistent with the original but not that the platform signed it; with a
   * key, the checkpoint, the event's inclusion and every attempt's root, seal and custody entry
   * (format 1) or custody record (format 2) are checked too, so the redacted hops compared below
   * are platform-signed.
   */
  key?: VerifierKey | readonly VerifierKey[];
}

/**
 * Checks a producer's original event against the document (FORMAT §14, last paragraph): `original`,
 * then one `redaction` line per delivery. With `key`, checkpoint, event inclusion and the checks
 * that authenticate each attempt's redacted hop come first.
 */
export function verifyRedaction(input: RedactionInput): Check[] {
  const parsed = parseDocument(input.document);
  if ("failure" in parsed) return [parsed.failure];
  const format = formatChecks(parsed);
  const keys = input.key === undefined ? undefined : keyList(input.key);
  const ctx = newContext(parsed.doc, keys ?? []);
  const checks: Check[] = [];
  if (keys !== undefined) checks.push(run("checkpoint", () => checkpointCheck(ctx)));
  checks.push(run("event", () => eventCheck(ctx, keys !== undefined)));

  let data: JsonValue | undefined;
  checks.push(run("original", () => originalData(ctx, input.original, (found) => (data = found))));
  if (data === undefined) return checks;
  const original: JsonValue = data;

  if (keys !== undefined) checks.push(...format.authentication(ctx));
  if (format.deliveries.length === 0) checks.push({ name: "redaction", ok: true, detail: "the document has no deliveries" });
  for (const { delivery, attempts } of format.deliveries) checks.push(run("redaction", () => redactionOf(original, delivery, attempts)));
  return checks;
}

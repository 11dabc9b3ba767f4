/**
 * The verifier's output: one check per line, and the ways a check's body becomes a line. A check
 * body returns a detail or throws (a CheckFailure, a library's typed error, or anything a hostile
 * input provokes); the runners here turn every throw into a failed line, so no check ever throws.
 */
import { reason } from "./entries.js";

export type CheckName =
  | "document"
  | "checkpoint"
  | "event"
  | "original"
  | "prepared"
  | "ingested"
  | "signed"
  | "root"
  | "custody record"
  | "seal"
  | "custody entry"
  | "chain"
  | "outcome"
  | "hmac"
  | "receipt"
  | "redaction"
  | "inclusion"
  | "consistency";

/** One line of the verifier's output: `✓ name — detail` or `✗ name — why`. */
export interface Check {
  readonly name: CheckName;
  readonly ok: boolean;
  readonly detail: string;
}

/** True when there is at least one check and every check passed. */
export function allOk(checks: readonly Check[]): boolean {
  return checks.length > 0 && checks.every((c) => c.ok);
}

/** One check from one body. */
export function run(name: CheckName, body: () => string): Check {
  try {
    return { name, ok: true, detail: body() };
  } catch (err) {
    return { name, ok: false, detail: reason(err) };
  }
}

/** What a per-item check is about: attempts (`dlv_a#1`) or deliveries (`dlv_a`). */
export interface Items<T> {
  readonly label: (item: T) => string;
  /** singular noun for the summary, e.g. "attempt" */
  readonly noun: string;
}

/** Runs `body` for each item; the check passes only if it passes for every one. */
export function everyItem<T>(name: CheckName, items: readonly T[], of: Items<T>, body: (item: T) => string): Check {
  const passed: Array<{ label: string; detail: string }> = [];
  const failed: string[] = [];
  for (const item of items) {
    try {
      passed.push({ label: of.label(item), detail: body(item) });
    } catch (err) {
      failed.push(`${of.label(item)}: ${reason(err)}`);
    }
  }
  if (failed.length > 0) return { name, ok: false, detail: failed[0] + (failed.length > 1 ? ` (and ${failed.length - 1} more failing ${of.noun}(s))` : "") };
  const first = passed[0];
  if (first === undefined) return { name, ok: true, detail: `no ${plural(of.noun)} in the document` };
  if (passed.every((p) => p.detail === first.detail)) {
    return {
      name,
      ok: true,
      detail: `${labels(
        passed.map((p) => p.label),
        of.noun,
      )}: ${first.detail}`,
    };
  }
  return { name, ok: true, detail: summarize(passed.map((p) => `${p.label}: ${p.detail}`)) };
}

/** "2 attempts (dlv_a#1, dlv_a#2)", at most five names. */
export function labels(names: readonly string[], noun = "attempt"): string {
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? `, +${names.length - 5}` : "");
  return `${names.length} ${names.length === 1 ? noun : plural(noun)} (${shown})`;
}

function plural(noun: string): string {
  return noun === "delivery" ? "deliveries" : `${noun}s`;
}

/** Passes if `body` passes for at least one item; used for checks that identify the receiver. */
export function someItem<T>(name: CheckName, items: readonly T[], label: (item: T) => string, body: (item: T) => string): Check {
  const passed: string[] = [];
  const failed: string[] = [];
  for (const item of items) {
    try {
      passed.push(`${label(item)}: ${body(item)}`);
    } catch (err) {
      failed.push(`${label(item)}: ${reason(err)}`);
    }
  }
  if (passed.length === 0) return { name, ok: false, detail: failed.join("; ") || "nothing to check" };
  return { name, ok: true, detail: summarize(passed) };
}

function summarize(parts: readonly string[]): string {
  const shown = parts.slice(0, 3).join("; ");
  return parts.length > 3 ? `${shown}; and ${parts.length - 3} more` : shown;
}

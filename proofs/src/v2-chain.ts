/**
 * Check 9, `chain` (proofs/FORMAT.md §7, §14), per delivery: the attempts are listed 1, 2, … without
 * a gap; attempt 1's `previous` is null; every later attempt's `previous` is the leaf hash of the
 * previous attempt's outcome record, which must be present with outcome `retry` or `dead`; only the
 * last attempt may lack an outcome, and nothing follows `delivered`. So an attempt omitted, moved or
 * inserted anywhere but at the end breaks the chain. The records are read as the other checks read
 * them (v2-record.ts); their canonical form is checks 7 and 10.
 */
import { leafHash } from "@custody/merkle";
import { toHex } from "@custody/encoding";
import { fail, own } from "./entries.js";
import { hex32OrNull, recordBytes, recordMembers, viewRecord } from "./v2-record.js";
import type { RefV2 } from "./v2-ref.js";

/** The leaf hash and outcome of an attempt's outcome record (undefined while in flight). */
function outcomeOf(ref: RefV2): { leaf: string; outcome: unknown } | undefined {
  if (ref.a.outcome === null) return undefined;
  const view = viewRecord(ref.a.outcome.record, `${ref.label}'s outcome record`);
  const leaf = toHex(leafHash(recordBytes(view)));
  return { leaf, outcome: own(recordMembers(view), "outcome") };
}

function link(prev: RefV2, ref: RefV2): void {
  const previous = hex32OrNull(ref.record, "previous");
  const before = outcomeOf(prev);
  if (before === undefined) fail(`attempt ${prev.attempt} has no outcome, yet attempt ${ref.attempt} follows it`);
  if (before.outcome === "delivered") fail(`attempt ${ref.attempt} follows attempt ${prev.attempt}, which was delivered`);
  if (before.outcome !== "retry" && before.outcome !== "dead") fail(`attempt ${prev.attempt}'s outcome is ${JSON.stringify(before.outcome)}, not retry or dead, yet attempt ${ref.attempt} follows it`);
  if (previous !== before.leaf) fail(`attempt ${ref.attempt}'s previous is ${previous}, not ${before.leaf}, the leaf hash of attempt ${prev.attempt}'s outcome record`);
}

export function chainV2(refs: readonly RefV2[]): string {
  if (refs.length === 0) return "no attempt sealed yet";
  refs.forEach((ref, i) => {
    if (ref.attempt !== i + 1) fail(`the attempts are listed as ${refs.map((r) => r.attempt).join(", ")}, not 1 to ${refs.length} in order`);
  });
  const first = hex32OrNull(refs[0]!.record, "previous");
  if (first !== null) fail(`attempt 1's previous is ${first}, not null`);
  for (let i = 1; i < refs.length; i++) link(refs[i - 1]!, refs[i]!);
  // The last outcome is not a link of the chain (check 10 reads it), so only named here.
  const steps = refs.map((ref) => {
    if (ref.a.outcome === null) return "in flight";
    const outcome = own(viewRecord(ref.a.outcome.record, "outcome record").members ?? {}, "outcome");
    return typeof outcome === "string" ? outcome : "(unreadable outcome)";
  });
  // Only `delivered` ends a chain; after anything else a later attempt may exist that no document
  // before it shows (FORMAT.md §14, what a document proves complete), so the line says which.
  const end = steps[steps.length - 1] === "delivered" ? "complete" : "may continue";
  return `${refs.length} attempt${refs.length === 1 ? "" : "s"} chained: ${steps.join(" → ")} (${end})`;
}

/**
 * Check 10, `outcome` (proofs/FORMAT.md §9, §14), for every outcome present: the outcome record is
 * canonical and names this delivery, this attempt, the event's tenant and the custody record's root;
 * its leaf is included at `index` under the `outcomes` entry's batch root; that entry is canonical
 * and included under the checkpoint. A `delivered` outcome's leaf hash is the delivered hop.
 */
import { parseOutcomeRecord, type OutcomeRecord } from "@custody/custody";
import { leafHash } from "@custody/merkle";
import { fromHex, toHex } from "@custody/encoding";
import { includedInBatch } from "./batch.js";
import { expectTenant, type Context } from "./context.js";
import { decodeKind, expectMember, fail, includedUnder, readProven, reason } from "./entries.js";
import { recordBytes, viewRecord } from "./v2-record.js";
import type { RefV2 } from "./v2-ref.js";

export function outcomeV2(ctx: Context, ref: RefV2): string {
  const { d, a } = ref;
  if (a.outcome === null) return "no outcome recorded yet (in flight)";
  const what = "outcome record";
  const bytes = recordBytes(viewRecord(a.outcome.record, what));
  let record: OutcomeRecord;
  try {
    record = parseOutcomeRecord(bytes);
  } catch (err) {
    fail(reason(err));
  }
  const members = record as unknown as Record<string, unknown>;
  expectTenant(ctx, members, what);
  expectMember(members, "delivery", d.id, what);
  expectMember(members, "attempt", a.attempt, what);
  expectMember(members, "root", ref.claims.root(), what);

  const entryWhat = "outcomes entry";
  const read = readProven(a.outcome.entry, entryWhat);
  const entry = decodeKind(read.bytes, "outcomes", entryWhat);
  const { batchRoot, size } = entry;
  const leaf = leafHash(bytes);
  includedInBatch(leaf, a.outcome.index, size, a.outcome.path, fromHex(batchRoot), `the outcome record's leaf is not included at index ${a.outcome.index} under the outcomes entry's batch root`);
  const where = includedUnder(a.outcome.entry, read.leaf, ctx.checkpoint, entryWhat);
  const http = record.status === null ? "" : ` (HTTP ${record.status})`;
  const error = record.error === null ? "" : ` (${record.error})`;
  const head = `${record.outcome}${http}${error}, index ${a.outcome.index} of an outcomes batch of ${size}, outcomes entry ${where}`;
  return record.outcome === "delivered" ? `${head}; delivered hop ${toHex(leaf)}` : head;
}

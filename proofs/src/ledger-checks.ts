/**
 * The checks both formats start with (proofs/FORMAT.md §14 checks 1 and 2): the signed checkpoint
 * every inclusion proof is under, and the event entry (with its recall, if any). Both record what
 * they establish in the context for the checks that follow.
 */
import { toHex } from "@custody/encoding";
import type { Context } from "./context.js";
import { decodeKind, expectMember, includedUnder, readProven } from "./entries.js";
import { openNote } from "./notes.js";

export function checkpointCheck(ctx: Context): string {
  const { doc } = ctx;
  const opened = openNote(doc.checkpoint, ctx.keys, doc.origin, doc.origin, "checkpoint");
  ctx.checkpoint = opened.cp;
  return `${doc.origin}, tree size ${opened.cp.size}, root ${toHex(opened.cp.rootHash)}, signed by key ${opened.keyIds.join(", ")}`;
}

/** A recall of the event (FORMAT §3): same tenant and event, included under the checkpoint. */
function recallOf(ctx: Context, authenticate: boolean): string {
  const { doc } = ctx;
  if (doc.recall === null) return "";
  const what = "recall entry";
  const read = readProven(doc.recall, what);
  const entry = decodeKind(read.bytes, "recall", what);
  expectMember(entry, "event", doc.event.id, what);
  expectMember(entry, "tenant", ctx.eventTenant!, what);
  const where = authenticate ? includedUnder(doc.recall, read.leaf, ctx.checkpoint, what) : "not authenticated";
  return `; RECALLED (${JSON.stringify(entry.reason)}), recall entry ${where}`;
}

/** The event entry: canonical, kind `event`, the document's event id and type, under the checkpoint. */
export function eventCheck(ctx: Context, authenticate: boolean): string {
  const { doc } = ctx;
  const what = "event entry";
  const read = readProven(doc.event.ledger, what);
  // Kept even if the checks below fail: `ingested` compares against the leaf of these bytes.
  ctx.eventLeaf = read.leaf;
  const entry = decodeKind(read.bytes, "event", what);
  expectMember(entry, "event", doc.event.id, what);
  expectMember(entry, "type", doc.event.type, what);
  ctx.eventTenant = entry.tenant;
  ctx.payloadSha256 = entry.payloadSha256;
  const where = authenticate ? includedUnder(doc.event.ledger, read.leaf, ctx.checkpoint, what) : "not authenticated (no verifier key given)";
  return `${doc.event.id} (${doc.event.type}), ${where}${recallOf(ctx, authenticate)}`;
}

/**
 * Format 1 documents (`custody-chain/v1`, proofs/FORMAT.md Appendix A): the hops and root are
 * members of each attempt, the seal leaf is `"custody-root/v1" || 0x00 || root`, and every attempt
 * has its own `custody` and `attempt` ledger entries. Checks after `prepared`: ingested, signed,
 * root, seal, custody entry, outcome. There is no chain: a format 1 document cannot show that no
 * attempt was omitted.
 */
import { sealLeafEntry, SEALED_HOPS, type AttemptProof, type ChainOfCustody, type DeliveryProof } from "@custody/custody";
import { leafHash } from "@custody/merkle";
import { fromHex, toHex } from "@custody/encoding";
import { signedHeadersHop } from "@custody/signing";
import { ATTEMPTS, ingestedOf, rootOf, type AttemptRef } from "./attempt.js";
import { includedInBatch, sealHeader } from "./batch.js";
import { expectTenant, sealNote, type Context } from "./context.js";
import { decodeKind, expectMember, fail, includedUnder, readProven, sameJson } from "./entries.js";
import type { FormatChecks } from "./format-checks.js";
import type { OpenedNote } from "./notes.js";
import { everyItem, type Check } from "./report.js";
import { signedOf } from "./signed.js";

interface Ref extends AttemptRef {
  readonly d: DeliveryProof;
  readonly a: AttemptProof;
}

function refOf(d: DeliveryProof, a: AttemptProof): Ref {
  return { d, a, delivery: d, attempt: a.attempt, label: `${d.id}#${a.attempt}`, headers: a.headers, claims: { hop: (name) => a.hops[name], root: () => a.root } };
}

/**
 * Format 1 signs six headers, each when present; the other headers sent with every attempt cannot
 * be authenticated, but a document whose recorded values contradict what the platform signed
 * elsewhere (the event type in the event entry) or states itself (the delivery's idempotency key)
 * is inconsistent, so they must agree when present.
 */
function signedV1(ctx: Context, ref: Ref): string {
  const expected = { "content-type": "application/json", "x-custody-event": ctx.doc.event.type, "idempotency-key": ref.d.idempotencyKey, "x-custody-delivery-id": ref.d.id };
  return signedOf(ref, { hopBytes: signedHeadersHop, expected, required: false });
}

/** The root, and the custody headers, which restate hops and root: they must agree when present. */
function rootV1(ref: Ref): string {
  const detail = rootOf(ref);
  const { a } = ref;
  if (Object.hasOwn(a.headers, "x-custody-hops") && a.headers["x-custody-hops"] !== SEALED_HOPS.map((n) => `${n}=${a.hops[n]}`).join(";")) {
    fail("the x-custody-hops header does not state the attempt's hops");
  }
  if (Object.hasOwn(a.headers, "x-custody-root") && a.headers["x-custody-root"] !== a.root) fail("the x-custody-root header is not the attempt's root");
  return detail;
}

function sealV1(ctx: Context, { a }: Ref): string {
  const opened = sealNote(ctx, a.seal.note);
  const leaf = leafHash(sealLeafEntry(fromHex(a.root)));
  includedInBatch(leaf, a.seal.index, opened.cp.size, a.seal.path, opened.cp.rootHash, `the root's seal leaf is not included at index ${a.seal.index} under the seal note's root`);
  if (Object.hasOwn(a.headers, "x-custody-seal")) {
    const forms = opened.signatures.map((sig) => sealHeader(ctx.doc.origin, opened.cp.size, a.seal.index, a.seal.path, sig));
    if (!forms.includes(a.headers["x-custody-seal"]!)) fail("the x-custody-seal header does not state this seal");
  }
  return `index ${a.seal.index} of a batch of ${opened.cp.size}, signed by key ${opened.keyIds.join(", ")}`;
}

function custodyEntryV1(ctx: Context, { d, a }: Ref): string {
  const what = "custody entry";
  const read = readProven(a.custody, what);
  const entry = decodeKind(read.bytes, "custody", what);
  expectTenant(ctx, entry, what);
  expectMember(entry, "delivery", d.id, what);
  expectMember(entry, "event", ctx.doc.event.id, what);
  expectMember(entry, "attempt", a.attempt, what);
  if (!sameJson(entry.target, d.target)) fail(`${what}: target is not the delivery's target`);
  if (!sameJson(entry.hops, a.hops)) fail(`${what}: hops are not the attempt's hops`);
  expectMember(entry, "root", a.root, what);
  // The entry also records the seal; it must be the seal the attempt carries. Compared only when
  // the seal note verified: otherwise the seal check has already failed.
  const seal = entry.seal;
  if (seal.index !== a.seal.index) fail(`${what}: seal index is ${JSON.stringify(seal.index)}, not ${a.seal.index}`);
  let opened: OpenedNote | undefined;
  try {
    opened = sealNote(ctx, a.seal.note);
  } catch {
    opened = undefined;
  }
  if (opened !== undefined) {
    const expected = { batchRoot: toHex(opened.cp.rootHash), index: a.seal.index, keyId: seal.keyId, size: opened.cp.size };
    if (!opened.keyIds.includes(seal.keyId) || !sameJson(seal, expected)) fail(`${what}: seal does not name the attempt's seal batch and key`);
  }
  return includedUnder(a.custody, read.leaf, ctx.checkpoint, what);
}

function outcomeV1(ctx: Context, { d, a }: Ref): string {
  if (a.outcome === null) return "no outcome recorded yet";
  const what = "outcome entry";
  const read = readProven(a.outcome, what);
  const entry = decodeKind(read.bytes, "attempt", what);
  expectTenant(ctx, entry, what);
  expectMember(entry, "delivery", d.id, what);
  expectMember(entry, "attempt", a.attempt, what);
  expectMember(entry, "root", a.root, what);
  const { outcome, status } = entry;
  const where = includedUnder(a.outcome, read.leaf, ctx.checkpoint, what);
  const http = status === null ? "" : ` (HTTP ${status})`;
  return outcome === "delivered" ? `delivered${http}, ${where}; delivered hop ${toHex(read.leaf)}` : `${outcome}${http}, ${where}`;
}

export function v1Checks(doc: ChainOfCustody): FormatChecks {
  const deliveries = doc.deliveries.map((d) => ({ delivery: d, attempts: d.attempts.map((a) => refOf(d, a)) }));
  const refs = deliveries.flatMap((d) => d.attempts);
  const every = (name: Check["name"], body: (ref: Ref) => string) => everyItem(name, refs, ATTEMPTS, body);
  return {
    attempts: refs,
    deliveries,
    custody: (ctx) => [
      every("ingested", (ref) => ingestedOf(ctx, ref)),
      every("signed", (ref) => signedV1(ctx, ref)),
      every("root", rootV1),
      every("seal", (ref) => sealV1(ctx, ref)),
      every("custody entry", (ref) => custodyEntryV1(ctx, ref)),
      every("outcome", (ref) => outcomeV1(ctx, ref)),
    ],
    authentication: (ctx) => [every("root", rootV1), every("seal", (ref) => sealV1(ctx, ref)), every("custody entry", (ref) => custodyEntryV1(ctx, ref))],
  };
}

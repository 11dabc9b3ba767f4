/**
 * Format 2 checks of an attempt against its headers and its delivery (proofs/FORMAT.md §14):
 * check 5 `signed` (all nine signed headers, and the ones the document and record fix) and check 7
 * `custody record` (canonical, naming this attempt, and stated verbatim by the custody headers).
 */
import { parseCustodyRecord, type CustodyRecord } from "@custody/custody";
import { parseCheckpoint, parseNote } from "@custody/note";
import { signedHeadersHopV2 } from "@custody/signing";
import { sealHeader } from "./batch.js";
import { expectTenant, type Context } from "./context.js";
import { expectMember, fail, intIn, reason, sameJson } from "./entries.js";
import { signatureBlob } from "./notes.js";
import { signedOf } from "./signed.js";
import { recordBytes, recordMembers } from "./v2-record.js";
import type { RefV2 } from "./v2-ref.js";

/** Unix seconds: FORMAT §1, and the record parser's bound. */
const MAX_SEALED_AT = 99_999_999_999;

export function signedV2(ctx: Context, ref: RefV2): string {
  const sealedAt = String(intIn(recordMembers(ref.record), "sealedAt", 0, MAX_SEALED_AT, "custody record"));
  const expected = {
    "content-type": "application/json",
    "x-custody-event": ctx.doc.event.type,
    "webhook-id": ctx.doc.event.id,
    "idempotency-key": ref.d.idempotencyKey,
    "x-custody-delivery-id": ref.d.id,
    "webhook-timestamp": sealedAt,
    "x-custody-timestamp": sealedAt,
  };
  return signedOf(ref, { hopBytes: signedHeadersHopV2, expected, required: true });
}

/**
 * The §10 forms of x-custody-seal for the attempt's seal, one per signature line of the key named
 * by the origin. The note is only parsed here, not verified: check 8 verifies it.
 */
function sealHeaderForms(ctx: Context, { a }: RefV2): string[] {
  let size: number;
  let signatures: string[];
  try {
    const note = parseNote(a.seal.note);
    size = parseCheckpoint(note.text).size;
    signatures = note.signatures.filter((s) => s.name === ctx.doc.origin).map(signatureBlob);
  } catch (err) {
    fail(`the x-custody-seal header cannot state the seal: the seal note does not parse: ${reason(err)}`);
  }
  return signatures.map((sig) => sealHeader(ctx.doc.origin, size, a.seal.index, a.seal.path, sig));
}

export function custodyRecordV2(ctx: Context, ref: RefV2): string {
  const { d, a } = ref;
  const what = "custody record";
  let record: CustodyRecord;
  try {
    record = parseCustodyRecord(recordBytes(ref.record));
  } catch (err) {
    fail(reason(err));
  }
  const members = record as unknown as Record<string, unknown>;
  expectTenant(ctx, members, what);
  expectMember(members, "delivery", d.id, what);
  expectMember(members, "event", ctx.doc.event.id, what);
  expectMember(members, "attempt", a.attempt, what);
  if (!sameJson(record.target, d.target)) fail(`${what}: target is ${JSON.stringify(record.target)}, not the delivery's target ${JSON.stringify(d.target)}`);
  const recordHeader = a.headers["x-custody-record"];
  if (recordHeader === undefined) fail("the x-custody-record header is missing");
  if (recordHeader !== a.record) fail("the x-custody-record header is not the base64 of the custody record");
  const sealHeaderValue = a.headers["x-custody-seal"];
  if (sealHeaderValue === undefined) fail("the x-custody-seal header is missing");
  if (!sealHeaderForms(ctx, ref).includes(sealHeaderValue)) fail("the x-custody-seal header does not state the attempt's seal (FORMAT §10)");
  const to = "callback" in record.target ? "the callback URL" : record.target.endpoint;
  return `attempt ${record.attempt} of ${record.delivery} to ${to}, sealed at ${record.sealedAt}; x-custody-record and x-custody-seal state it`;
}

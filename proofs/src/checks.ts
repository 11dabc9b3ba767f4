/**
 * The verifier's checks, pure so that the CLI and the offline browser page run exactly the same code
 * (proofs/FORMAT.md §12). Every input is attacker-controlled: the document is parsed with the zod
 * schema of @custody/custody before anything reads it, every library call that can throw is inside
 * a check, and a check fails rather than throws.
 *
 * Interpretations where FORMAT.md is silent or ambiguous (each one stricter, never looser, than a
 * literal reading; the reasons are next to the code):
 *  - `prepared` selects every attempt whose prepared hop is SHA-256(payload). All attempts of a
 *    delivery send the same body (§4), and two thin deliveries of one event send identical bodies,
 *    so "exactly one attempt" cannot hold for honest documents.
 *  - `ingested` … `outcome` run over EVERY attempt in the document, not only the matching ones: the
 *    document is one piece of evidence, and a forged part anywhere in it rejects it.
 *  - `hmac` and `receipt` identify the receiver, so they pass when at least one matching attempt
 *    (delivery) verifies with the secret (receipt key) given.
 *  - Notes must be signed by a given key whose name is the log origin (§2, §8), not by any key.
 */
import { ChainOfCustody, custodyRoot, hopsFromHex, sealLeafEntry, SEALED_HOPS, type AttemptProof, type DeliveryProof } from "@custody/custody";
import { fromHex, leafHash, toHex, verifyConsistency, verifyInclusion } from "@custody/merkle";
import { encodeBase64, parseCheckpoint, parseNote, verifyNote, type Checkpoint, type NoteInput, type VerifierKey } from "@custody/note";
import { canonicalJson, redactionHopBytes, verifyRedaction as verifyRedactionClaim, verifyRemovedField, type JsonValue } from "@custody/redact";
import { secretKeyId, signedHeadersHop, verifyCustodySignature, verifyStandardSignature } from "@custody/signing";
import { sha256 } from "@custody/crypto";
import canonicalize from "canonicalize";
import { decodeKind, expectMember, fail, hex32, includedUnder, obj, readProven, reason, str } from "./entries.js";
import { assertReceiptKey, checkReceiptEntry } from "./receipt.js";
import { applyRemovals } from "./removals.js";

export type CheckName =
  | "document"
  | "checkpoint"
  | "event"
  | "original"
  | "prepared"
  | "ingested"
  | "signed"
  | "root"
  | "seal"
  | "custody entry"
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

function run(name: CheckName, body: () => string): Check {
  try {
    return { name, ok: true, detail: body() };
  } catch (err) {
    return { name, ok: false, detail: reason(err) };
  }
}

function keyList(key: VerifierKey | readonly VerifierKey[]): readonly VerifierKey[] {
  return (Array.isArray(key) ? key : [key]) as readonly VerifierKey[];
}

// ---------------------------------------------------------------------------------------------
// The document

type Doc = ChainOfCustody;

interface AttemptRef {
  readonly d: DeliveryProof;
  readonly a: AttemptProof;
  /** `<delivery id>#<attempt>`, how failures name an attempt */
  readonly label: string;
}

/** Parses the document with the platform's schema, plus the uniqueness the schema cannot express. */
function parseDocument(document: unknown): { doc: Doc } | { failure: Check } {
  const failure = (why: string) => ({ failure: { name: "document", ok: false, detail: `not a valid custody-chain/v1 document: ${why}` } as const });
  let parsed: ReturnType<typeof ChainOfCustody.safeParse>;
  try {
    parsed = ChainOfCustody.safeParse(document);
  } catch (err) {
    return failure(reason(err));
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return failure(issue === undefined ? "schema mismatch" : `${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`);
  }
  const doc = parsed.data;
  // A repeated delivery id or attempt number would make "this attempt" ambiguous in every message
  // and lets one copy hide behind another.
  const deliveries = new Set<string>();
  for (const d of doc.deliveries) {
    if (deliveries.has(d.id)) return failure(`delivery ${d.id} appears twice`);
    deliveries.add(d.id);
    const attempts = new Set<number>();
    for (const a of d.attempts) {
      if (attempts.has(a.attempt)) return failure(`delivery ${d.id} lists attempt ${a.attempt} twice`);
      attempts.add(a.attempt);
    }
  }
  return { doc };
}

function attemptsOf(doc: Doc): AttemptRef[] {
  return doc.deliveries.flatMap((d) => d.attempts.map((a) => ({ d, a, label: `${d.id}#${a.attempt}` })));
}

// ---------------------------------------------------------------------------------------------
// Signed notes

interface OpenedNote {
  readonly cp: Checkpoint;
  /** hex key ids of the given keys that signed it */
  readonly keyIds: readonly string[];
  /** base64(key id || signature) of those signature lines, as x-custody-seal's `sig` carries them */
  readonly signatures: readonly string[];
}

/**
 * Verifies a note in checkpoint form with the given keys named `signer` (FORMAT §2: the platform key
 * is named by the log origin; a key of another name does not count), then parses it and checks its
 * origin line.
 */
function openNote(note: NoteInput, keys: readonly VerifierKey[], signer: string, origin: string, what: string): OpenedNote {
  const named = keys.filter((k) => k.name === signer);
  if (named.length === 0) {
    const names = [...new Set(keys.map((k) => k.name))].join(", ") || "none";
    fail(`${what}: no verifier key named ${signer} was given (given: ${names})`);
  }
  let text: string;
  try {
    text = verifyNote(note, named).text;
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(text);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
  if (cp.origin !== origin) fail(`${what}: origin is ${JSON.stringify(cp.origin)}, expected ${JSON.stringify(origin)}`);
  // verifyNote rejects the note if any line of a given key fails, so every such line verified.
  const lines = parseNote(note).signatures.filter((s) => s.name === signer && named.some((k) => toHex(k.keyId) === toHex(s.keyId)));
  const keyIds = [...new Set(lines.map((s) => toHex(s.keyId)))];
  const signatures = lines.map((s) => {
    const blob = new Uint8Array(s.keyId.length + s.signature.length);
    blob.set(s.keyId, 0);
    blob.set(s.signature, s.keyId.length);
    return encodeBase64(blob);
  });
  return { cp, keyIds, signatures };
}

// ---------------------------------------------------------------------------------------------
// Per-document state shared by the checks

interface Context {
  readonly doc: Doc;
  readonly keys: readonly VerifierKey[];
  checkpoint?: Checkpoint;
  eventLeaf?: Uint8Array;
  eventTenant?: string;
  payloadSha256?: string;
  /** seal notes verified so far, by note text (a batch's attempts share one note) */
  readonly seals: Map<string, OpenedNote | Error>;
}

function newContext(doc: Doc, keys: readonly VerifierKey[]): Context {
  return { doc, keys, seals: new Map() };
}

function checkpointCheck(ctx: Context): string {
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
  const reasonText = str(entry, "reason", what);
  str(entry, "recalledAt", what);
  const where = authenticate ? includedUnder(doc.recall, read.leaf, ctx.checkpoint, what) : "not authenticated";
  return `; RECALLED (${JSON.stringify(reasonText)}), recall entry ${where}`;
}

function eventCheck(ctx: Context, authenticate: boolean): string {
  const { doc } = ctx;
  const what = "event entry";
  const read = readProven(doc.event.ledger, what);
  // Kept even if the checks below fail: `ingested` compares against the leaf of these bytes.
  ctx.eventLeaf = read.leaf;
  const entry = decodeKind(read.bytes, "event", what);
  expectMember(entry, "event", doc.event.id, what);
  expectMember(entry, "type", doc.event.type, what);
  ctx.eventTenant = str(entry, "tenant", what);
  ctx.payloadSha256 = hex32(entry, "payloadSha256", what);
  str(entry, "occurredAt", what);
  const where = authenticate ? includedUnder(doc.event.ledger, read.leaf, ctx.checkpoint, what) : "not authenticated (no verifier key given)";
  return `${doc.event.id} (${doc.event.type}), ${where}${recallOf(ctx, authenticate)}`;
}

// ---------------------------------------------------------------------------------------------
// Checks over attempts

/** Runs `body` for each attempt; the check passes only if it passes for every one. */
function everyAttempt(name: CheckName, refs: readonly AttemptRef[], body: (ref: AttemptRef) => string): Check {
  const passed: Array<{ label: string; detail: string }> = [];
  const failed: string[] = [];
  for (const ref of refs) {
    try {
      passed.push({ label: ref.label, detail: body(ref) });
    } catch (err) {
      failed.push(`${ref.label}: ${reason(err)}`);
    }
  }
  if (failed.length > 0) return { name, ok: false, detail: failed[0] + (failed.length > 1 ? ` (and ${failed.length - 1} more failing attempt(s))` : "") };
  const first = passed[0];
  if (first !== undefined && passed.every((p) => p.detail === first.detail)) {
    return { name, ok: true, detail: `${labels(passed.map((p) => p.label))}: ${first.detail}` };
  }
  return { name, ok: true, detail: summarize(passed.map((p) => `${p.label}: ${p.detail}`)) };
}

/** "2 attempts (dlv_a#1, dlv_a#2)", at most five names. */
function labels(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? `, +${names.length - 5}` : "");
  return `${names.length} attempt${names.length === 1 ? "" : "s"} (${shown})`;
}

/** Passes if `body` passes for at least one item; used for checks that identify the receiver. */
function someItem<T>(name: CheckName, items: readonly T[], label: (item: T) => string, body: (item: T) => string): Check {
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

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.hasOwn(headers, name);
}

// RFC 9110 token characters, lowercase only: FORMAT §6 names every header in lowercase, and
// @custody/signing matches names case-insensitively (with Unicode case folding), so a name like
// "Webhook-Id" or one with a KELVIN SIGN would be read differently by another verifier.
const LOWERCASE_HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function ingestedOf(ctx: Context, { a }: AttemptRef): string {
  if (ctx.eventLeaf === undefined) fail("the event entry could not be read, so its leaf hash is unknown");
  const leaf = toHex(ctx.eventLeaf);
  if (a.hops.ingested !== leaf) fail(`ingested hop ${a.hops.ingested} is not the event entry's leaf hash ${leaf}`);
  return `the ingested hop is the event entry's leaf hash ${leaf}`;
}

/**
 * Headers sent with every attempt that the signed hop does not cover (FORMAT §6). They cannot be
 * authenticated, but a document whose recorded values contradict what the platform signed elsewhere
 * (the event type in the event entry) or states itself (the delivery's idempotency key) is
 * inconsistent, so they must agree when present.
 */
function unsignedHeaders(ctx: Context, d: DeliveryProof, a: AttemptProof): void {
  const expected: Record<string, string> = { "content-type": "application/json", "x-custody-event": ctx.doc.event.type, "idempotency-key": d.idempotencyKey };
  for (const [name, value] of Object.entries(expected)) {
    if (hasHeader(a.headers, name) && a.headers[name] !== value) fail(`the ${name} header is ${JSON.stringify(a.headers[name])}, expected ${JSON.stringify(value)}`);
  }
}

function signedOf(ctx: Context, { d, a }: AttemptRef): string {
  for (const name of Object.keys(a.headers)) {
    if (!LOWERCASE_HEADER_NAME.test(name)) fail(`header name ${JSON.stringify(name)} is not a lowercase HTTP token (FORMAT §6)`);
  }
  let bytes: Uint8Array;
  try {
    bytes = signedHeadersHop(a.headers);
  } catch (err) {
    fail(`headers: ${reason(err)}`);
  }
  const digest = toHex(sha256(bytes));
  if (digest !== a.hops.signed) fail(`SHA-256 of the signed header lines is ${digest}, not the signed hop ${a.hops.signed}`);
  unsignedHeaders(ctx, d, a);
  return "the signature header lines hash to the signed hop";
}

function rootOf({ a }: AttemptRef): string {
  const computed = toHex(custodyRoot(hopsFromHex(a.hops)));
  if (computed !== a.root) fail(`the MTH of the four hop leaves is ${computed}, not the root ${a.root}`);
  // The custody headers restate hops and root (FORMAT §9); a document whose headers disagree with
  // its own hops does not describe one delivery.
  if (hasHeader(a.headers, "x-custody-hops") && a.headers["x-custody-hops"] !== SEALED_HOPS.map((n) => `${n}=${a.hops[n]}`).join(";")) {
    fail("the x-custody-hops header does not state the attempt's hops");
  }
  if (hasHeader(a.headers, "x-custody-root") && a.headers["x-custody-root"] !== a.root) fail("the x-custody-root header is not the attempt's root");
  return "the MTH of the four hop leaves is the attempt's root";
}

function sealNote(ctx: Context, note: string): OpenedNote {
  let opened = ctx.seals.get(note);
  if (opened === undefined) {
    try {
      opened = openNote(note, ctx.keys, ctx.doc.origin, `${ctx.doc.origin}/seal`, "seal note");
    } catch (err) {
      opened = err instanceof Error ? err : new Error(String(err));
    }
    ctx.seals.set(note, opened);
  }
  if (opened instanceof Error) throw opened;
  return opened;
}

function sealOf(ctx: Context, { a }: AttemptRef): string {
  const opened = sealNote(ctx, a.seal.note);
  const leaf = leafHash(sealLeafEntry(fromHex(a.root)));
  try {
    verifyInclusion(leaf, a.seal.index, opened.cp.size, a.seal.path.map(fromHex), opened.cp.rootHash);
  } catch (err) {
    fail(`the root's seal leaf is not included at index ${a.seal.index} under the seal note's root: ${reason(err)}`);
  }
  if (hasHeader(a.headers, "x-custody-seal")) {
    const prefix = `signer=${ctx.doc.origin};size=${opened.cp.size};index=${a.seal.index};path=${a.seal.path.join(",")};sig=`;
    if (!opened.signatures.some((sig) => a.headers["x-custody-seal"] === prefix + sig)) fail("the x-custody-seal header does not state this seal");
  }
  return `index ${a.seal.index} of a batch of ${opened.cp.size}, signed by key ${opened.keyIds.join(", ")}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

function custodyOf(ctx: Context, { d, a }: AttemptRef): string {
  const what = "custody entry";
  const read = readProven(a.custody, what);
  const entry = decodeKind(read.bytes, "custody", what);
  if (ctx.eventTenant !== undefined) expectMember(entry, "tenant", ctx.eventTenant, what);
  else str(entry, "tenant", what);
  expectMember(entry, "delivery", d.id, what);
  expectMember(entry, "event", ctx.doc.event.id, what);
  expectMember(entry, "attempt", a.attempt, what);
  if (!sameJson(entry.target, d.target)) fail(`${what}: target is not the delivery's target`);
  if (!sameJson(entry.hops, a.hops)) fail(`${what}: hops are not the attempt's hops`);
  expectMember(entry, "root", a.root, what);
  // The entry also records the seal (§3); it must be the seal the attempt carries. Compared only
  // when the seal note verified: otherwise the seal check has already failed.
  const seal = obj(entry, "seal", what);
  if (seal.index !== a.seal.index) fail(`${what}: seal index is ${JSON.stringify(seal.index)}, not ${a.seal.index}`);
  let opened: OpenedNote | undefined;
  try {
    opened = sealNote(ctx, a.seal.note);
  } catch {
    opened = undefined;
  }
  if (opened !== undefined) {
    const keyId = seal.keyId;
    const expected = { batchRoot: toHex(opened.cp.rootHash), index: a.seal.index, keyId, size: opened.cp.size };
    if (typeof keyId !== "string" || !opened.keyIds.includes(keyId) || !sameJson(seal, expected)) fail(`${what}: seal does not name the attempt's seal batch and key`);
  }
  return includedUnder(a.custody, read.leaf, ctx.checkpoint, what);
}

const OUTCOMES = ["delivered", "retry", "dead"];

function outcomeOf(ctx: Context, { d, a }: AttemptRef): string {
  if (a.outcome === null) return "no outcome recorded yet";
  const what = "outcome entry";
  const read = readProven(a.outcome, what);
  const entry = decodeKind(read.bytes, "attempt", what);
  if (ctx.eventTenant !== undefined) expectMember(entry, "tenant", ctx.eventTenant, what);
  else str(entry, "tenant", what);
  expectMember(entry, "delivery", d.id, what);
  expectMember(entry, "attempt", a.attempt, what);
  expectMember(entry, "root", a.root, what);
  const outcome = entry.outcome;
  if (typeof outcome !== "string" || !OUTCOMES.includes(outcome)) fail(`${what}: outcome is ${JSON.stringify(outcome)}`);
  const status = entry.status;
  if (status !== null && typeof status !== "number") fail(`${what}: status is neither a number nor null`);
  const where = includedUnder(a.outcome, read.leaf, ctx.checkpoint, what);
  const http = status === null ? "" : ` (HTTP ${status})`;
  return outcome === "delivered" ? `delivered${http}, ${where}; delivered hop ${toHex(read.leaf)}` : `${outcome}${http}, ${where}`;
}

function hmacOf(payload: Uint8Array, secret: string, { a }: AttemptRef): string {
  try {
    // An audit asks whether the platform signed these bytes, not whether the delivery is fresh:
    // the timestamp tolerance is switched off.
    verifyStandardSignature({ headers: a.headers, body: payload, secrets: [secret], nowSeconds: 0, toleranceSeconds: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    fail(`webhook-signature: ${reason(err)}`);
  }
  // x-custody-signature is made with the current secret only (FORMAT §6): during a rotation
  // overlap an auditor may hold the previous one, which webhook-signature alone covers.
  const keyId = a.headers["x-custody-signature-key-id"];
  const mine = secretKeyId(secret);
  if (keyId !== mine) return `webhook-signature verifies; x-custody-signature was made with ${keyId ?? "no key id"}, not this secret (${mine}), so it is not checked`;
  try {
    verifyCustodySignature(secret, payload, a.headers["x-custody-signature"]);
  } catch (err) {
    fail(`x-custody-signature: ${reason(err)}`);
  }
  return "webhook-signature and x-custody-signature verify";
}

// ---------------------------------------------------------------------------------------------
// Public API

export interface ProofInput {
  /** The chain-of-custody document (parsed JSON, not yet trusted). */
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
 * Verifies a delivered payload against a chain-of-custody document (FORMAT §12), returning one
 * check per line in the order checkpoint, event, prepared, ingested, signed, root, seal, custody
 * entry, outcome, hmac (with `secret`), receipt (with `receiptKey`). Only a document that does not
 * parse (a single `document` check) or a payload that matches no attempt stops the list early,
 * since nothing after them can run.
 */
export function verifyProof(input: ProofInput): Check[] {
  const parsed = parseDocument(input.document);
  if ("failure" in parsed) return [parsed.failure];
  const { doc } = parsed;
  const ctx = newContext(doc, keyList(input.key));
  const checks: Check[] = [];
  checks.push(run("checkpoint", () => checkpointCheck(ctx)));
  checks.push(run("event", () => eventCheck(ctx, true)));

  const refs = attemptsOf(doc);
  const payload = input.payload;
  if (!(payload instanceof Uint8Array)) {
    checks.push({ name: "prepared", ok: false, detail: "the payload must be bytes" });
    return checks;
  }
  const digest = toHex(sha256(payload));
  const matched = refs.filter((r) => r.a.hops.prepared === digest);
  if (matched.length === 0) {
    checks.push({ name: "prepared", ok: false, detail: `SHA-256 of the payload is ${digest}, the prepared hop of no attempt in the document (${refs.length} attempts)` });
    return checks;
  }
  checks.push({ name: "prepared", ok: true, detail: `SHA-256 of the payload ${digest} is the prepared hop of ${labels(matched.map((r) => r.label))}` });

  // The remaining custody checks cover every attempt in the document (see the header comment).
  checks.push(everyAttempt("ingested", refs, (ref) => ingestedOf(ctx, ref)));
  checks.push(everyAttempt("signed", refs, (ref) => signedOf(ctx, ref)));
  checks.push(everyAttempt("root", refs, rootOf));
  checks.push(everyAttempt("seal", refs, (ref) => sealOf(ctx, ref)));
  checks.push(everyAttempt("custody entry", refs, (ref) => custodyOf(ctx, ref)));
  checks.push(everyAttempt("outcome", refs, (ref) => outcomeOf(ctx, ref)));

  if (input.secret !== undefined) {
    const secret = input.secret;
    checks.push(someItem("hmac", matched, (r) => r.label, (ref) => hmacOf(payload, secret, ref)));
  }
  if (input.receiptKey !== undefined) {
    const key = input.receiptKey;
    const deliveries = [...new Set(matched.map((r) => r.d))];
    let keyProblem: string | undefined;
    try {
      assertReceiptKey(key);
    } catch (err) {
      keyProblem = reason(err);
    }
    if (keyProblem !== undefined) checks.push({ name: "receipt", ok: false, detail: keyProblem });
    else {
      checks.push(
        someItem("receipt", deliveries, (d) => d.id, (d) => {
          if (d.receipt === null) fail("the delivery has no receipt entry");
          const read = readProven(d.receipt, "receipt entry");
          const entry = decodeKind(read.bytes, "receipt", "receipt entry");
          const receivedAt = checkReceiptEntry(entry, key, { tenant: ctx.eventTenant, delivery: d.id, event: doc.event.id, bodySha256: digest });
          const where = includedUnder(d.receipt, read.leaf, ctx.checkpoint, "receipt entry");
          return `received ${receivedAt}, signed by the receipt key, ${where}`;
        }),
      );
    }
  }
  return checks;
}

export interface RedactionInput {
  document: unknown;
  /** The producer's original event: `{"data": …}` or the bare `data` value (parsed JSON). */
  original: unknown;
  /**
   * Optional platform verifier key(s). FORMAT §12 runs the redaction check without one, which
   * proves the document consistent with the original but not that the platform signed it; with a
   * key, the checkpoint, the event's inclusion and every attempt's seal and custody entry are
   * checked too, so the redacted hops compared below are platform-signed.
   */
  key?: VerifierKey | readonly VerifierKey[];
}

/**
 * Checks a producer's original event against the document (FORMAT §12, last paragraph):
 * `original` (SHA-256 of the JCS of `data` is the event entry's payloadSha256), then one
 * `redaction` line per delivery (every removed field's commitment opens against the original, and
 * removing exactly those fields gives the payload whose redacted hop bytes hash to each attempt's
 * redacted hop). With `key`, checkpoint, event inclusion, root, seal and custody entry come first.
 */
export function verifyRedaction(input: RedactionInput): Check[] {
  const parsed = parseDocument(input.document);
  if ("failure" in parsed) return [parsed.failure];
  const { doc } = parsed;
  const keys = input.key === undefined ? undefined : keyList(input.key);
  const ctx = newContext(doc, keys ?? []);
  const checks: Check[] = [];
  if (keys !== undefined) checks.push(run("checkpoint", () => checkpointCheck(ctx)));
  checks.push(run("event", () => eventCheck(ctx, keys !== undefined)));

  let data: JsonValue | undefined;
  const original = run("original", () => {
    if (ctx.payloadSha256 === undefined) fail("the event entry could not be read, so there is no payloadSha256 to compare with");
    // `{"data": …}` and a bare `data` object that itself has a member named "data" look alike; the
    // committed hash decides which reading is meant (a second preimage of SHA-256 is out of reach).
    const o = input.original;
    const candidates: unknown[] = o !== null && typeof o === "object" && !Array.isArray(o) && Object.hasOwn(o, "data") ? [(o as { data: unknown }).data, o] : [o];
    const problems: string[] = [];
    for (const candidate of candidates) {
      let digest: string;
      try {
        digest = toHex(sha256(new TextEncoder().encode(canonicalJson(candidate, "original"))));
      } catch (err) {
        problems.push(reason(err));
        continue;
      }
      if (digest === ctx.payloadSha256) {
        data = candidate as JsonValue;
        return `SHA-256 of the JCS of the original data is the event entry's payloadSha256 ${digest}`;
      }
      problems.push(`SHA-256 of the JCS of the ${candidate === o ? "whole file" : "data member"} is ${digest}`);
    }
    fail(`${problems.join("; ")}; the event entry's payloadSha256 is ${ctx.payloadSha256}`);
  });
  checks.push(original);
  if (data === undefined) return checks;
  const originalData: JsonValue = data;

  const refs = attemptsOf(doc);
  if (keys !== undefined) {
    checks.push(everyAttempt("root", refs, rootOf));
    checks.push(everyAttempt("seal", refs, (ref) => sealOf(ctx, ref)));
    checks.push(everyAttempt("custody entry", refs, (ref) => custodyOf(ctx, ref)));
  }
  if (doc.deliveries.length === 0) checks.push({ name: "redaction", ok: true, detail: "the document has no deliveries" });
  for (const d of doc.deliveries) {
    checks.push(
      run("redaction", () => {
        const removed = d.redaction.removed;
        for (const field of removed) {
          try {
            verifyRemovedField(originalData, field);
          } catch (err) {
            fail(`${d.id}: removed field ${JSON.stringify(field.path)}: ${reason(err)}`);
          }
        }
        let delivered: JsonValue;
        let hop: string;
        try {
          delivered = applyRemovals(originalData, removed.map((f) => f.path));
          // The library's own check of the same claim: its removal code and ours must agree.
          verifyRedactionClaim({ original: originalData, delivered, removed });
          hop = toHex(sha256(redactionHopBytes(delivered, removed)));
        } catch (err) {
          fail(`${d.id}: ${reason(err)}`);
        }
        for (const a of d.attempts) {
          if (a.hops.redacted !== hop) fail(`${d.id}#${a.attempt}: redacted hop ${a.hops.redacted} is not ${hop}, the SHA-256 of the redacted hop bytes from the original`);
        }
        const paths = removed.length === 0 ? "nothing removed" : `removed ${removed.map((f) => f.path).join(", ")}, each commitment opens`;
        const attempts = d.attempts.length === 0 ? "no attempt sealed yet to compare with" : `redacted hop of ${d.attempts.length} attempt(s) matches`;
        return `${d.id} (${d.redaction.shape}): ${paths}; ${attempts}`;
      }),
    );
  }
  return checks;
}

/**
 * Verifies a signed checkpoint (C2SP tlog-checkpoint) with the given key(s). As for Custody's
 * ledger (FORMAT §2), the key that signs must be named by the checkpoint's origin, so a seal note
 * (`<origin>/seal`) never passes for a checkpoint.
 */
export function verifyCheckpoint(note: NoteInput, key: VerifierKey | readonly VerifierKey[]): Check[] {
  return [
    run("checkpoint", () => {
      let text: string;
      let verified: readonly string[];
      try {
        ({ text, verified } = verifyNote(note, keyList(key)));
      } catch (err) {
        fail(reason(err));
      }
      const cp = parseCheckpoint(text);
      if (!verified.includes(cp.origin)) {
        fail(`signed by ${verified.join(", ")}, but the origin is ${JSON.stringify(cp.origin)}: a checkpoint must be signed by the key named after its origin`);
      }
      const extensions = cp.extensions.length === 0 ? "" : `, ${cp.extensions.length} extension line(s)`;
      return `${cp.origin}, tree size ${cp.size}, root ${toHex(cp.rootHash)}${extensions}`;
    }),
  ];
}

/** A tree size or leaf index: a JS safe integer, or a decimal string (which may exceed 2^53 - 1). */
export type Count = number | bigint | string;

function count(value: Count, what: string): number {
  let n: bigint;
  if (typeof value === "string") {
    if (!/^[0-9]{1,30}$/.test(value)) fail(`${what} must be a non-negative decimal integer`);
    n = BigInt(value);
  } else if (typeof value === "bigint") {
    n = value;
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (!Number.isSafeInteger(value)) fail(`${what} ${value} exceeds 2^53 - 1, larger than any tree this verifier accepts`);
    n = BigInt(value);
  } else {
    fail(`${what} must be a non-negative integer`);
  }
  if (n < 0n) fail(`${what} must be non-negative`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${n} exceeds 2^53 - 1, larger than any tree this verifier accepts`);
  return Number(n);
}

function hash(value: string, what: string): Uint8Array {
  try {
    return fromHex(value);
  } catch (err) {
    fail(`${what}: ${reason(err)}`);
  }
}

/** RFC 9162 §2.1.3.2: `leafHash` is leaf `index` of the tree of `size` leaves with `root`. Hashes in hex. */
export function verifyInclusionArgs(args: { leafHash: string; index: Count; size: Count; root: string; proof: readonly string[] }): Check[] {
  return [
    run("inclusion", () => {
      const index = count(args.index, "index");
      const size = count(args.size, "size");
      const proof = args.proof.map((p, i) => hash(p, `proof[${i}]`));
      verifyInclusion(hash(args.leafHash, "leaf hash"), index, size, proof, hash(args.root, "root"));
      return `leaf hash ${args.leafHash} is leaf ${index} of the tree of size ${size} with root ${args.root}`;
    }),
  ];
}

/** RFC 9162 §2.1.4.2: the tree (size2, root2) extends the tree (size1, root1). Hashes in hex. */
export function verifyConsistencyArgs(args: { size1: Count; size2: Count; root1: string; root2: string; proof: readonly string[] }): Check[] {
  return [
    run("consistency", () => {
      const size1 = count(args.size1, "size1");
      const size2 = count(args.size2, "size2");
      const proof = args.proof.map((p, i) => hash(p, `proof[${i}]`));
      verifyConsistency(size1, size2, proof, hash(args.root1, "root1"), hash(args.root2, "root2"));
      return `the tree of size ${size2} with root ${args.root2} extends the tree of size ${size1} with root ${args.root1}`;
    }),
  ];
}

/**
 * Builds REAL format 2 chain-of-custody documents (proofs/FORMAT.md §13) for the verifier's tests,
 * with the pure libraries the pipeline uses: redact → body → sealAttempts (headers, hops, custody
 * records, one seal note per batch) → outcome records in outcome batches → seal/outcomes/receipt/
 * recall ledger entries → ledger tree, checkpoint and inclusion proofs. A test that passes here
 * says the verifier accepts what the platform produces.
 *
 * The default document: one event (recalled at the end) and five deliveries.
 *  - dlv_thin (wh_thin, thin): attempt 1 (retry, HTTP 500) during a secret rotation overlap,
 *    attempt 2 (retry, timeout, no status), attempt 3 (delivered, HTTP 200, whose response body is
 *    the endpoint's counter-signed receipt); a receipt entry.
 *  - dlv_fat (wh_fat, fat): one attempt, delivered (HTTP 204); /tags/1 was not acknowledged.
 *  - dlv_cb (callback, thin): one attempt, delivered; its body is byte-identical to dlv_thin's.
 *  - dlv_cancelled (wh_late, thin): cancelled by the recall before it was sealed; no attempts.
 *  - dlv_replay (wh_fat, fat): a replay (rpl_fixture1) of dlv_fat: attempt 1 (retry, HTTP 503),
 *    attempt 2 sealed and in flight (no outcome yet); its body is byte-identical to dlv_fat's.
 * Seal batches A (5 records, 3 ours), B (3, 2 ours), C (1: an empty path), D (3, 1 ours); outcome
 * batches X (5, 3 ours), Y (2), Z (2, 1 ours); other tenants' records fill the batches.
 *
 * Options let a test play a forger who holds the platform key (re-signing whatever it changed), so
 * that a single check can be shown to be the one, and the only one, that catches a change.
 */
import { batchOf, encodeOutcomeRecord, formatCustodyHeadersV2, sealAttempts, sealLeaves, sealSignatureOf, type AttemptOutcome, type AttemptToSeal, type DeliveryTarget } from "@custody/custody";
import { ed25519Sign, publicKeyFromSeed, randomSeed, sha256 } from "@custody/crypto";
import { encodeEntry, eventEntry, outcomesEntry, recallEntry, receiptEntry, sealEntry, type EntryDocument } from "@custody/ledger";
import { inclusionProof, leafHash, rootFromLeafHashes } from "@custody/merkle";
import { toHex, encodeBase64 } from "@custody/encoding";
import { formatCheckpoint, formatVerifierKey, signNote, verifierKeyOf, type Signer, type VerifierKey } from "@custody/note";
import { canonicalJson, redact, redactionHopBytes, type JsonValue } from "@custody/redact";
import { generateSecret, secretKeyId } from "@custody/signing";
import { DATA, EVENT_ID, EVENT_TYPE, ORIGIN, PERSONAL_FIELDS, signer, TENANT } from "./document.fixture.js";

export { DATA, EVENT_ID, EVENT_TYPE, ORIGIN, TENANT, signer };

const enc = new TextEncoder();
const OCCURRED_AT = new Date("2026-03-01T12:00:00.123Z");
const SEAL_A = 1_772_366_500;
const BATCH_TIMES = { A: SEAL_A, B: SEAL_A + 60, C: SEAL_A + 300, D: SEAL_A + 900 } as const;
export type SealBatchName = keyof typeof BATCH_TIMES;
export type OutcomeBatchName = "X" | "Y" | "Z";

export interface OutcomeSpec {
  outcome: AttemptOutcome;
  status: number | null;
  error: string | null;
  /** the captured response body; null when no response arrived */
  response: string | null;
}

const RETRY_500: OutcomeSpec = { outcome: "retry", status: 500, error: null, response: "internal error" };
const RETRY_TIMEOUT: OutcomeSpec = { outcome: "retry", status: null, error: "timeout", response: null };
const RETRY_503: OutcomeSpec = { outcome: "retry", status: 503, error: null, response: "" };
const DELIVERED = (status: number, response: string): OutcomeSpec => ({ outcome: "delivered", status, error: null, response });

export interface FixtureV2Options {
  /** Signs the ledger checkpoint (default: `signer`). */
  checkpointSigner?: Signer;
  /** Signs a seal batch's note (default: `signer`). */
  sealSigner?: (batch: SealBatchName) => Signer;
  /** Entries at ledger index >= this are appended after the checkpoint (leafIndex null). */
  checkpointSize?: number;
  /** The event's data (default DATA). */
  data?: JsonValue;
  /** Outcomes of dlv_thin's three attempts (default retry 500, retry timeout, delivered 200). */
  thinOutcomes?: readonly [AttemptOutcome, AttemptOutcome, AttemptOutcome];
  /** Changes the `previous` an attempt is sealed with (by label, e.g. "dlv_thin#2"). */
  previous?: (label: string, previous: string | null) => string | null;
  /** Changes what an attempt is sealed from (hops, event type, idempotency key, …) before sealing. */
  attempt?: (label: string, attempt: AttemptToSeal) => AttemptToSeal;
  /** Rewrites a custody record's bytes before its batch is sealed; the headers follow. */
  record?: (label: string, bytes: Uint8Array) => Uint8Array;
  /** Rewrites an outcome record's bytes before its batch is recorded. */
  outcomeRecord?: (label: string, bytes: Uint8Array) => Uint8Array;
  /** Rewrites a batch's ledger entry before it is appended. */
  batchEntry?: (batch: SealBatchName | OutcomeBatchName, entry: EntryDocument) => EntryDocument;
}

export interface DeliveredV2 {
  deliveryId: string;
  body: Uint8Array;
  secret: string;
}

export interface FixtureV2 {
  keys: VerifierKey[];
  /** C2SP text of `signer`'s verifier key */
  vkey: string;
  /** The chain-of-custody document as JSON (what the proof service would serve). */
  document: Record<string, unknown>;
  /** The event's data as the producer holds it. */
  data: JsonValue;
  thin: DeliveredV2 & { previousSecret: string; receiptKey: Uint8Array };
  fat: DeliveredV2;
  callback: DeliveredV2;
  replay: DeliveredV2;
  /** Every ledger entry, in order, and the checkpoint size. */
  ledger: { entries: Uint8Array[]; checkpointSize: number };
}

interface Delivery {
  id: string;
  target: DeliveryTarget;
  idempotencyKey: string;
  shape: "thin" | "fat";
  body: Uint8Array;
  removed: Array<{ path: string; salt: string; commitment: string }>;
  redacted: Uint8Array;
  status: string;
  replayOf: string | null;
  replay: string | null;
}

interface Attempt {
  delivery: Delivery;
  attempt: number;
  secrets: string[];
  outcome: OutcomeSpec | null;
  /** filled in as the attempt is sealed and recorded */
  sealed?: { record: Uint8Array; headers: Record<string, string>; root: string; note: string; index: number; path: string[]; entry: number };
  recorded?: { record: Uint8Array; index: number; path: string[]; entry: number };
}

const label = (a: Attempt) => `${a.delivery.id}#${a.attempt}`;

function deliveryOf(data: JsonValue, spec: Omit<Delivery, "body" | "removed" | "redacted">, remove: readonly string[]): Delivery {
  // The fat shape removes what the endpoint did not acknowledge; redact() removes the given list.
  const { payload, removed } = redact(data, remove, { shape: "thin" });
  const envelope: Record<string, JsonValue> = {
    id: EVENT_ID,
    type: EVENT_TYPE,
    timestamp: OCCURRED_AT.toISOString(),
    data: payload,
    payloadShape: spec.shape,
    redacted: removed.map((r) => r.path),
    metadata: { source: "fixture" },
  };
  return { ...spec, body: enc.encode(canonicalJson(envelope)), removed, redacted: sha256(redactionHopBytes(payload, removed)) };
}

let others = 0;
const otherSecret = generateSecret();

/** Another tenant's attempt, to fill a seal batch around ours. */
function otherAttempt(): AttemptToSeal {
  const n = others++;
  return {
    tenant: "ten_other",
    delivery: `dlv_other_${n}`,
    event: `evt_other_${n}`,
    eventType: "case.completed",
    attempt: 1,
    target: { endpoint: "wh_other" },
    previous: null,
    idempotencyKey: "9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
    body: enc.encode(`{"n":${n}}`),
    ingested: sha256(enc.encode(`other ingested ${n}`)),
    redacted: sha256(enc.encode(`other redacted ${n}`)),
    secrets: [{ secret: otherSecret, keyId: secretKeyId(otherSecret) }],
  };
}

/** Another tenant's outcome record, to fill an outcome batch around ours. */
function otherOutcome(): Uint8Array {
  const n = others++;
  return encodeOutcomeRecord({
    tenant: "ten_other",
    delivery: `dlv_other_${n}`,
    attempt: 1,
    root: toHex(sha256(enc.encode(`other root ${n}`))),
    outcome: "delivered",
    status: 200,
    error: null,
    startedAt: OCCURRED_AT.toISOString(),
    durationMs: 7,
    responseSha256: toHex(sha256(new Uint8Array())),
  });
}

export function buildFixtureV2(options: FixtureV2Options = {}): FixtureV2 {
  const data = options.data ?? DATA;
  const sealSigner = options.sealSigner ?? (() => signer);
  const entries: Uint8Array[] = [];
  const append = (doc: EntryDocument) => entries.push(encodeEntry(doc)) - 1;
  const filler = () =>
    append(eventEntry({ tenantId: "ten_other", eventId: `evt_filler_${entries.length}`, type: "case.completed", payloadSha256: sha256(enc.encode(String(entries.length))), occurredAt: OCCURRED_AT, supersedes: null }));
  const batchEntry = (batch: SealBatchName | OutcomeBatchName, entry: EntryDocument) => append(options.batchEntry ? options.batchEntry(batch, entry) : entry);

  filler();
  filler();
  filler();
  const eventIndex = append(eventEntry({ tenantId: TENANT, eventId: EVENT_ID, type: EVENT_TYPE, payloadSha256: sha256(enc.encode(canonicalJson(data))), occurredAt: OCCURRED_AT, supersedes: null }));
  const ingested = leafHash(entries[eventIndex]!);

  const secrets = { thin: generateSecret(), previous: generateSecret(), fat: generateSecret(), cb: generateSecret() };
  const thin = deliveryOf(
    data,
    { id: "dlv_thin", target: { endpoint: "wh_thin" }, idempotencyKey: "0b9f3f7e-8c1d-4a57-9b7e-3f1e2d4c5b6a", shape: "thin", status: "delivered", replayOf: null, replay: null },
    PERSONAL_FIELDS,
  );
  const fat = deliveryOf(data, { id: "dlv_fat", target: { endpoint: "wh_fat" }, idempotencyKey: "5d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d", shape: "fat", status: "delivered", replayOf: null, replay: null }, ["/tags/1"]);
  const cb = deliveryOf(data, { id: "dlv_cb", target: { callback: true }, idempotencyKey: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", shape: "thin", status: "delivered", replayOf: null, replay: null }, PERSONAL_FIELDS);
  const cancelled = deliveryOf(
    data,
    { id: "dlv_cancelled", target: { endpoint: "wh_late" }, idempotencyKey: "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", shape: "thin", status: "cancelled", replayOf: null, replay: null },
    PERSONAL_FIELDS,
  );
  const replay = deliveryOf(
    data,
    { id: "dlv_replay", target: { endpoint: "wh_fat" }, idempotencyKey: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", shape: "fat", status: "delivering", replayOf: "dlv_fat", replay: "rpl_fixture1" },
    ["/tags/1"],
  );

  // dlv_thin's endpoint counter-signs a receipt in its 2xx response (FORMAT §11).
  const receiptSeed = randomSeed();
  const receiptKey = publicKeyFromSeed(receiptSeed);
  const statement = enc.encode(canonicalJson({ v: 1, kind: "custody-receipt", delivery: "dlv_thin", event: EVENT_ID, bodySha256: toHex(sha256(thin.body)), receivedAt: "2026-03-01T12:05:00.500+01:00" }));
  const receiptSignature = ed25519Sign(statement, receiptSeed);
  const receiptResponse = JSON.stringify({ receipt: { statement: encodeBase64(statement), signature: encodeBase64(receiptSignature) } });

  const [o1, o2, o3] = options.thinOutcomes ?? ["retry", "retry", "delivered"];
  const thinSpec = (o: AttemptOutcome, fallback: OutcomeSpec): OutcomeSpec => (o === fallback.outcome ? fallback : o === "delivered" ? DELIVERED(200, "ok") : { outcome: o, status: 410, error: null, response: "gone" });
  const attempts: Attempt[] = [
    { delivery: thin, attempt: 1, secrets: [secrets.thin, secrets.previous], outcome: thinSpec(o1, RETRY_500) },
    { delivery: fat, attempt: 1, secrets: [secrets.fat], outcome: DELIVERED(204, "") },
    { delivery: cb, attempt: 1, secrets: [secrets.cb], outcome: DELIVERED(200, "thanks") },
    { delivery: replay, attempt: 1, secrets: [secrets.fat], outcome: RETRY_503 },
    { delivery: thin, attempt: 2, secrets: [secrets.thin], outcome: thinSpec(o2, RETRY_TIMEOUT) },
    { delivery: thin, attempt: 3, secrets: [secrets.thin], outcome: thinSpec(o3, DELIVERED(200, receiptResponse)) },
    { delivery: replay, attempt: 2, secrets: [secrets.fat], outcome: null },
  ];
  const find = (l: string) => attempts.find((a) => label(a) === l)!;

  /** The leaf hash of the attempt before `a`'s outcome record: `a`'s previous (FORMAT §7). */
  const previousOf = (a: Attempt): string | null => {
    const computed = a.attempt === 1 ? null : toHex(leafHash(find(`${a.delivery.id}#${a.attempt - 1}`).recorded!.record));
    return options.previous ? options.previous(label(a), computed) : computed;
  };

  /** Seals `ours` among other tenants' attempts, like the pipeline's seal stage; appends the seal entry. */
  const seal = (batch: SealBatchName, ours: Attempt[], before: number, after: number) => {
    const toSeal: AttemptToSeal[] = [
      ...Array.from({ length: before }, otherAttempt),
      ...ours.map((a) =>
        (options.attempt ?? ((_: string, x: AttemptToSeal) => x))(label(a), {
          tenant: TENANT,
          delivery: a.delivery.id,
          event: EVENT_ID,
          eventType: EVENT_TYPE,
          attempt: a.attempt,
          target: a.delivery.target,
          previous: previousOf(a),
          idempotencyKey: a.delivery.idempotencyKey,
          body: a.delivery.body,
          ingested,
          redacted: a.delivery.redacted,
          secrets: a.secrets.map((secret) => ({ secret, keyId: secretKeyId(secret) })),
        }),
      ),
      ...Array.from({ length: after }, otherAttempt),
    ];
    const by = sealSigner(batch);
    const result = sealAttempts(toSeal, by, BATCH_TIMES[batch]);
    let { note, sealed } = result;
    let root = result.root;
    let records = sealed.map((s) => s.record);
    if (options.record) {
      // The forger re-seals what it rewrote: new batch, new note, headers stating them.
      records = sealed.map((s, i) => (i >= before && i < before + ours.length ? options.record!(label(ours[i - before]!), s.record) : s.record));
      const resealed = sealLeaves(records, by);
      const signature = sealSignatureOf(resealed.note, by.name);
      ({ note, root } = resealed);
      sealed = sealed.map((s, i) => ({
        ...s,
        record: records[i]!,
        headers: { ...s.headers, ...formatCustodyHeadersV2(records[i]!, { signer: by.name, size: resealed.size, index: i, path: resealed.members[i]!.path, signature }) },
      }));
    }
    const tree = batchOf(records);
    const entry = batchEntry(batch, sealEntry({ batchRoot: toHex(root), size: records.length, keyId: toHex(by.keyId) }));
    ours.forEach((a, k) => {
      const s = sealed[before + k]!;
      a.sealed = { record: s.record, headers: s.headers, root: toHex(s.root), note, index: before + k, path: tree.pathOf(before + k).map(toHex), entry };
    });
  };

  /** Records outcomes of `ours` among other tenants' (at the given positions); appends the outcomes entry. */
  const record = (batch: OutcomeBatchName, ours: Array<[Attempt, number]>, size: number, startedAt: number) => {
    const records = Array.from({ length: size }, otherOutcome);
    for (const [a, position] of ours) {
      const o = a.outcome!;
      const bytes = encodeOutcomeRecord({
        tenant: TENANT,
        delivery: a.delivery.id,
        attempt: a.attempt,
        root: a.sealed!.root,
        outcome: o.outcome,
        status: o.status,
        error: o.error,
        startedAt: new Date(startedAt * 1000 + 250).toISOString(),
        durationMs: o.error === "timeout" ? 30_000 : 42,
        responseSha256: o.response === null ? null : toHex(sha256(enc.encode(o.response))),
      });
      records[position] = options.outcomeRecord ? options.outcomeRecord(label(a), bytes) : bytes;
    }
    const tree = batchOf(records);
    const entry = batchEntry(batch, outcomesEntry({ batchRoot: toHex(tree.root), size }));
    for (const [a, position] of ours) a.recorded = { record: records[position]!, index: position, path: tree.pathOf(position).map(toHex), entry };
  };

  seal("A", [find("dlv_thin#1"), find("dlv_fat#1"), find("dlv_cb#1")], 1, 1);
  filler();
  record(
    "X",
    [
      [find("dlv_thin#1"), 1],
      [find("dlv_fat#1"), 2],
      [find("dlv_cb#1"), 4],
    ],
    5,
    BATCH_TIMES.A,
  );
  seal("B", [find("dlv_replay#1"), find("dlv_thin#2")], 0, 1);
  record(
    "Y",
    [
      [find("dlv_thin#2"), 0],
      [find("dlv_replay#1"), 1],
    ],
    2,
    BATCH_TIMES.B,
  );
  seal("C", [find("dlv_thin#3")], 0, 0);
  record("Z", [[find("dlv_thin#3"), 1]], 2, BATCH_TIMES.C);
  const receiptIndex = append(receiptEntry({ tenantId: TENANT, deliveryId: "dlv_thin", eventId: EVENT_ID, statement: encodeBase64(statement), signature: encodeBase64(receiptSignature), publicKey: toHex(receiptKey) }));
  seal("D", [find("dlv_replay#2")], 2, 0);
  filler();
  const recallIndex = append(recallEntry({ tenantId: TENANT, eventId: EVENT_ID, reason: "sent to the wrong customer", recalledAt: new Date("2026-03-01T13:00:00.000Z") }));
  filler();

  const checkpointSize = options.checkpointSize ?? entries.length;
  const leaves = entries.slice(0, checkpointSize).map(leafHash);
  const checkpoint = signNote(formatCheckpoint({ origin: ORIGIN, size: checkpointSize, rootHash: rootFromLeafHashes(leaves) }), [options.checkpointSigner ?? signer]);
  const proven = (index: number) => ({
    entry: encodeBase64(entries[index]!),
    leafIndex: index < checkpointSize ? index : null,
    inclusion: index < checkpointSize ? inclusionProof(leaves, index).map(toHex) : [],
  });
  const attemptJson = (a: Attempt) => ({
    attempt: a.attempt,
    record: encodeBase64(a.sealed!.record),
    seal: { note: a.sealed!.note, index: a.sealed!.index, path: a.sealed!.path, entry: proven(a.sealed!.entry) },
    headers: a.sealed!.headers,
    outcome: a.recorded === undefined ? null : { record: encodeBase64(a.recorded.record), index: a.recorded.index, path: a.recorded.path, entry: proven(a.recorded.entry) },
  });
  const deliveryJson = (d: Delivery, receipt: number | null) => ({
    id: d.id,
    target: d.target,
    status: d.status,
    idempotencyKey: d.idempotencyKey,
    replayOf: d.replayOf,
    replay: d.replay,
    redaction: { shape: d.shape, removed: d.removed },
    attempts: attempts
      .filter((a) => a.delivery === d)
      .sort((x, y) => x.attempt - y.attempt)
      .map(attemptJson),
    receipt: receipt === null ? null : proven(receipt),
  });

  const document = JSON.parse(
    JSON.stringify({
      format: "custody-chain/v2",
      origin: ORIGIN,
      checkpoint,
      event: { id: EVENT_ID, type: EVENT_TYPE, ledger: proven(eventIndex) },
      recall: proven(recallIndex),
      deliveries: [deliveryJson(thin, receiptIndex), deliveryJson(fat, null), deliveryJson(cb, null), deliveryJson(cancelled, null), deliveryJson(replay, null)],
    }),
  ) as Record<string, unknown>;

  return {
    keys: [verifierKeyOf(signer)],
    vkey: formatVerifierKey(verifierKeyOf(signer)),
    document,
    data,
    thin: { deliveryId: "dlv_thin", body: thin.body, secret: secrets.thin, previousSecret: secrets.previous, receiptKey },
    fat: { deliveryId: "dlv_fat", body: fat.body, secret: secrets.fat },
    callback: { deliveryId: "dlv_cb", body: cb.body, secret: secrets.cb },
    replay: { deliveryId: "dlv_replay", body: replay.body, secret: secrets.fat },
    ledger: { entries, checkpointSize },
  };
}

/** Where an attempt is in a document built here: ["deliveries", i, "attempts", j]. */
export function attemptPath(document: Record<string, unknown>, labelOf: string): Array<string | number> {
  const [id, n] = labelOf.split("#") as [string, string];
  const deliveries = document.deliveries as Array<{ id: string; attempts: Array<{ attempt: number }> }>;
  const i = deliveries.findIndex((d) => d.id === id);
  const j = deliveries[i]?.attempts.findIndex((a) => a.attempt === Number(n)) ?? -1;
  if (i < 0 || j < 0) throw new Error(`no attempt ${labelOf}`);
  return ["deliveries", i, "attempts", j];
}

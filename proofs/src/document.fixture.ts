/**
 * Builds REAL chain-of-custody documents for the verifier's tests, with the same pure libraries the
 * pipeline uses (redact → body → headers → hops → seal → ledger entries → checkpoint), so a test
 * that passes here says the verifier accepts what the platform produces, not what the verifier's
 * author imagined.
 *
 * The default document has one event and two deliveries:
 *  - dlv_thin (endpoint wh_thin, thin): attempt 1 (retry, HTTP 500) sealed in batch A at index 3 of
 *    5 while the endpoint's secret rotation overlaps (two v1 signatures), attempt 2 (delivered)
 *    sealed alone in batch B (empty seal path); a counter-signed receipt.
 *  - dlv_fat (endpoint wh_fat, fat): one attempt in batch A, delivered; /tags/1 was not acknowledged
 *    so it is still removed.
 * Options add a thin callback delivery whose body is byte-identical to dlv_thin's, sign with
 * different keys (rotation), or leave the last entries out of the checkpoint.
 */
import * as ed from "@noble/ed25519";
import { sha256 } from "@noble/hashes/sha2.js";
import { custodyRoot, formatCustodyHeaders, hopsToHex, sealBatch, sealSignatureOf, type SealedHops } from "@custody/custody";
import { attemptEntry, custodyEntry, encodeEntry, eventEntry, type EntryDocument } from "@custody/ledger";
import { inclusionProof, leafHash, rootFromLeafHashes } from "@custody/merkle";
import { toHex, encodeBase64 } from "@custody/encoding";
import { formatCheckpoint, formatVerifierKey, generateSigner, signNote, verifierKeyOf, type Signer, type VerifierKey } from "@custody/note";
import { canonicalJson, redact, redactionHopBytes, type JsonValue } from "@custody/redact";
import { buildDeliveryHeaders, generateSecret, secretKeyId, signedHeadersHop } from "@custody/signing";

export const ORIGIN = "custody.test/log";
export const TENANT = "ten_fixture";
export const EVENT_ID = "evt_fixture1";
export const EVENT_TYPE = "identity.registration.final";
export const PERSONAL_FIELDS = ["/email", "/name", "/phone", "/tags/1"];

/** Personal fields in several shapes: members, an array element, and a pointer that is absent. */
export const DATA = {
  email: "ada@example.com",
  name: "Ada Lovelace",
  plan: "pro",
  tags: ["a", "secret-tag", "c"],
  nested: { "a/b": 1, "m~n": [1.5, 2e21, -0.000001], note: "naïve ✓ \u2028" },
} satisfies JsonValue;

const enc = new TextEncoder();

export interface FixtureOptions {
  /** Signs the ledger checkpoint (default: `signer`). */
  checkpointSigner?: Signer;
  /** Sign seal batches A and B (default: `signer`). */
  sealSigners?: readonly [Signer, Signer];
  /** Adds dlv_cb, a thin callback delivery in batch A whose body equals dlv_thin's. */
  callbackTwin?: boolean;
  /** Entries at ledger index >= this are appended after the checkpoint (leafIndex null). */
  checkpointSize?: number;
  /** The event's data (default DATA). */
  data?: JsonValue;
  /** Replaces the event entry's canonical bytes before they enter the ledger (to test decoding). */
  eventEntryBytes?: (canonical: Uint8Array) => Uint8Array;
  /** Adds a recall entry of the event (FORMAT §3). */
  recalled?: boolean;
}

export interface Delivered {
  deliveryId: string;
  body: Uint8Array;
  secret: string;
}

export interface Fixture {
  signer: Signer;
  keys: VerifierKey[];
  /** C2SP text of `signer`'s verifier key */
  vkey: string;
  /** The chain-of-custody document as JSON (what the proof service would serve). */
  document: Record<string, unknown>;
  /** The event's data as the producer holds it. */
  data: JsonValue;
  thin: Delivered & { previousSecret: string; receiptKey: Uint8Array };
  fat: Delivered;
  callback?: Delivered;
  /** Every ledger entry, in order, and the checkpoint size. */
  ledger: { entries: Uint8Array[]; checkpointSize: number };
}

/** Shared default signer, so tests that build many fixtures do not make keys each time. */
export const signer = generateSigner(ORIGIN);

interface Attempt {
  deliveryId: string;
  attemptNo: number;
  endpointId: string | null;
  idempotencyKey: string;
  body: Uint8Array;
  redactedHop: Uint8Array;
  secrets: string[];
  outcome: { outcome: "delivered" | "retry" | "dead"; status: number | null; error: string | null };
}

interface SealedAttempt extends Attempt {
  headers: Record<string, string>;
  hops: SealedHops;
  root: Uint8Array;
  seal: { note: string; index: number; path: string[] };
  custodyIndex: number;
  outcomeIndex: number;
}

function bodyFor(data: JsonValue, shape: "thin" | "fat", remove: readonly string[]) {
  const { payload, removed } = redact(data, remove, { shape: "thin" });
  const envelope: Record<string, JsonValue> = {
    id: EVENT_ID,
    type: EVENT_TYPE,
    timestamp: OCCURRED_AT.toISOString(),
    data: payload,
    payloadShape: shape,
    redacted: removed.map((r) => r.path),
    metadata: { source: "fixture" },
  };
  return { body: enc.encode(canonicalJson(envelope)), removed, redactedHop: sha256(redactionHopBytes(payload, removed)) };
}

const OCCURRED_AT = new Date("2025-03-01T12:00:00.123Z");
const SEAL_A = 1_740_830_500;
const SEAL_B = SEAL_A + 60;

export function buildFixture(options: FixtureOptions = {}): Fixture {
  const checkpointSigner = options.checkpointSigner ?? signer;
  const [sealSignerA, sealSignerB] = options.sealSigners ?? [signer, signer];
  const data = options.data ?? DATA;
  const entries: Uint8Array[] = [];
  const append = (doc: EntryDocument) => entries.push(encodeEntry(doc)) - 1;
  const filler = (n: number) => {
    for (let i = 0; i < n; i++) {
      append(eventEntry({ tenantId: "ten_other", eventId: `evt_other_${entries.length}`, type: "case.completed", payloadSha256: sha256(enc.encode(String(entries.length))), occurredAt: OCCURRED_AT, supersedes: null }));
    }
  };

  filler(3);
  const eventBytes = encodeEntry(eventEntry({ tenantId: TENANT, eventId: EVENT_ID, type: EVENT_TYPE, payloadSha256: sha256(enc.encode(canonicalJson(data))), occurredAt: OCCURRED_AT, supersedes: null }));
  const eventIndex = entries.push(options.eventEntryBytes ? options.eventEntryBytes(eventBytes) : eventBytes) - 1;
  const ingested = leafHash(entries[eventIndex]!);

  const thinBody = bodyFor(data, "thin", PERSONAL_FIELDS);
  const fatBody = bodyFor(data, "fat", ["/tags/1"]);
  const thinSecret = generateSecret();
  const previousSecret = generateSecret();
  const fatSecret = generateSecret();
  const callbackSecret = generateSecret();

  const thin1: Attempt = {
    deliveryId: "dlv_thin",
    attemptNo: 1,
    endpointId: "wh_thin",
    idempotencyKey: "0b9f3f7e-8c1d-4a57-9b7e-3f1e2d4c5b6a",
    body: thinBody.body,
    redactedHop: thinBody.redactedHop,
    secrets: [thinSecret, previousSecret],
    outcome: { outcome: "retry", status: 500, error: null },
  };
  const thin2: Attempt = { ...thin1, attemptNo: 2, secrets: [thinSecret], outcome: { outcome: "delivered", status: 200, error: null } };
  const fat1: Attempt = {
    deliveryId: "dlv_fat",
    attemptNo: 1,
    endpointId: "wh_fat",
    idempotencyKey: "5d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
    body: fatBody.body,
    redactedHop: fatBody.redactedHop,
    secrets: [fatSecret],
    outcome: { outcome: "delivered", status: 204, error: null },
  };
  // Same body bytes as dlv_thin (salts are not in the body), its own salts and so its own redacted hop.
  const cbBody = bodyFor(data, "thin", PERSONAL_FIELDS);
  const cb1: Attempt = {
    deliveryId: "dlv_cb",
    attemptNo: 1,
    endpointId: null,
    idempotencyKey: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
    body: cbBody.body,
    redactedHop: cbBody.redactedHop,
    secrets: [callbackSecret],
    outcome: { outcome: "delivered", status: 200, error: null },
  };

  /** Seals one batch like the pipeline's seal stage: headers, hops, root, one note, custody entries. */
  const seal = (attempts: Attempt[], at: number, sealSigner: Signer, fillerRoots: number, position: number): SealedAttempt[] => {
    const prepared = attempts.map((attempt) => {
      const headers = buildDeliveryHeaders({
        msgId: EVENT_ID,
        timestamp: at,
        body: attempt.body,
        eventType: EVENT_TYPE,
        idempotencyKey: attempt.idempotencyKey,
        secrets: attempt.secrets.map((secret) => ({ secret, keyId: secretKeyId(secret) })),
      });
      const hops: SealedHops = { ingested, redacted: attempt.redactedHop, prepared: sha256(attempt.body), signed: sha256(signedHeadersHop(headers)) };
      return { attempt, headers: { ...headers } as Record<string, string>, hops, root: custodyRoot(hops) };
    });
    // Other tenants' roots around ours, so indexes and paths are not trivial.
    const roots: Uint8Array[] = Array.from({ length: fillerRoots }, (_, i) => sha256(enc.encode(`other root ${at} ${i}`)));
    roots.splice(position, 0, ...prepared.map((p) => p.root));
    const batch = sealBatch(roots, sealSigner);
    const signature = sealSignatureOf(batch.note, sealSigner.name);
    return prepared.map((p, i) => {
      const member = batch.members[position + i]!;
      const custodyHeaders = formatCustodyHeaders(p.hops, p.root, { signer: sealSigner.name, size: batch.size, index: member.index, path: member.path, signature });
      const custodyIndex = append(
        custodyEntry({
          tenantId: TENANT,
          deliveryId: p.attempt.deliveryId,
          eventId: EVENT_ID,
          attemptNo: p.attempt.attemptNo,
          endpointId: p.attempt.endpointId,
          hops: hopsToHex(p.hops),
          custodyRoot: toHex(p.root),
          seal: { batchRoot: toHex(batch.root), size: batch.size, index: member.index, keyId: toHex(sealSigner.keyId) },
        }),
      );
      return {
        ...p.attempt,
        headers: { ...p.headers, ...custodyHeaders },
        hops: p.hops,
        root: p.root,
        seal: { note: batch.note, index: member.index, path: member.path.map(toHex) },
        custodyIndex,
        outcomeIndex: -1,
      };
    });
  };
  const recordOutcome = (s: SealedAttempt, startedAt: number) => {
    s.outcomeIndex = append(
      attemptEntry({
        tenantId: TENANT,
        deliveryId: s.deliveryId,
        attemptNo: s.attemptNo,
        custodyRoot: toHex(s.root),
        outcome: s.outcome.outcome,
        statusCode: s.outcome.status,
        errorClass: s.outcome.error,
        startedAt: new Date(startedAt * 1000),
        durationMs: 42,
        responseSha256: toHex(sha256(enc.encode("ok"))),
      }),
    );
  };

  const batchA = seal(options.callbackTwin ? [thin1, fat1, cb1] : [thin1, fat1], SEAL_A, sealSignerA, 3, 3);
  filler(2);
  for (const s of batchA) recordOutcome(s, SEAL_A);
  const [batchB] = seal([thin2], SEAL_B, sealSignerB, 0, 0) as [SealedAttempt];
  recordOutcome(batchB, SEAL_B);

  // dlv_thin's endpoint counter-signs a receipt (FORMAT §11).
  const receiptSeed = ed.utils.randomSecretKey();
  const receiptKey = ed.getPublicKey(receiptSeed);
  const statement = enc.encode(canonicalJson({ v: 1, kind: "custody-receipt", delivery: "dlv_thin", event: EVENT_ID, bodySha256: toHex(sha256(thinBody.body)), receivedAt: "2025-03-01T12:01:40.500Z" }));
  const receiptIndex = append({
    v: 1,
    kind: "receipt",
    tenant: TENANT,
    delivery: "dlv_thin",
    event: EVENT_ID,
    statement: encodeBase64(statement),
    signature: encodeBase64(ed.sign(statement, receiptSeed)),
    publicKey: toHex(receiptKey),
  });
  filler(1);
  const recallIndex = options.recalled ? append({ v: 1, kind: "recall", tenant: TENANT, event: EVENT_ID, reason: "sent to the wrong customer", recalledAt: "2025-03-01T13:00:00.000Z" }) : undefined;

  const checkpointSize = options.checkpointSize ?? entries.length;
  const leaves = entries.slice(0, checkpointSize).map(leafHash);
  const checkpoint = signNote(formatCheckpoint({ origin: ORIGIN, size: checkpointSize, rootHash: rootFromLeafHashes(leaves) }), [checkpointSigner]);
  const proven = (index: number) => ({
    entry: encodeBase64(entries[index]!),
    leafIndex: index < checkpointSize ? index : null,
    inclusion: index < checkpointSize ? inclusionProof(leaves, index).map(toHex) : [],
  });
  const attemptJson = (s: SealedAttempt) => ({
    attempt: s.attemptNo,
    hops: hopsToHex(s.hops),
    root: toHex(s.root),
    seal: s.seal,
    headers: s.headers,
    custody: proven(s.custodyIndex),
    outcome: proven(s.outcomeIndex),
  });
  const byId = (id: string) => [...batchA, batchB].filter((s) => s.deliveryId === id).sort((a, b) => a.attemptNo - b.attemptNo);

  const deliveries: unknown[] = [
    {
      id: "dlv_thin",
      target: { endpoint: "wh_thin" },
      status: "delivered",
      idempotencyKey: thin1.idempotencyKey,
      replayOf: null,
      redaction: { shape: "thin", removed: thinBody.removed },
      attempts: byId("dlv_thin").map(attemptJson),
      receipt: proven(receiptIndex),
    },
    {
      id: "dlv_fat",
      target: { endpoint: "wh_fat" },
      status: "delivered",
      idempotencyKey: fat1.idempotencyKey,
      replayOf: null,
      redaction: { shape: "fat", removed: fatBody.removed },
      attempts: byId("dlv_fat").map(attemptJson),
      receipt: null,
    },
  ];
  if (options.callbackTwin) {
    deliveries.push({
      id: "dlv_cb",
      target: { callback: true },
      status: "delivered",
      idempotencyKey: cb1.idempotencyKey,
      replayOf: null,
      redaction: { shape: "thin", removed: cbBody.removed },
      attempts: byId("dlv_cb").map(attemptJson),
      receipt: null,
    });
  }

  const document = JSON.parse(
    JSON.stringify({
      format: "custody-chain/v1",
      origin: ORIGIN,
      checkpoint,
      event: { id: EVENT_ID, type: EVENT_TYPE, ledger: proven(eventIndex) },
      recall: recallIndex === undefined ? null : proven(recallIndex),
      deliveries,
    }),
  ) as Record<string, unknown>;

  return {
    signer,
    keys: [verifierKeyOf(signer)],
    vkey: formatVerifierKey(verifierKeyOf(signer)),
    document,
    data,
    thin: { deliveryId: "dlv_thin", body: thinBody.body, secret: thinSecret, previousSecret, receiptKey },
    fat: { deliveryId: "dlv_fat", body: fatBody.body, secret: fatSecret },
    ...(options.callbackTwin ? { callback: { deliveryId: "dlv_cb", body: cbBody.body, secret: callbackSecret } } : {}),
    ledger: { entries, checkpointSize },
  };
}

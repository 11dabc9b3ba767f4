import { toHex } from "@custody/encoding";
import type { Signer } from "@custody/note";
import { buildDeliveryHeaders, signedHeadersHopV2, type DeliverySecret } from "@custody/signing";
import { formatCustodyHeadersV2 } from "./headers.js";
import { custodyRoot, hashHopBytes, hopsToHex, preparedHop, type SealedHops } from "./hops.js";
import { encodeCustodyRecord, type DeliveryTarget } from "./record.js";
import { sealLeaves, sealSignatureOf } from "./seal.js";

export interface AttemptToSeal {
  tenant: string;
  delivery: string;
  event: string;
  eventType: string;
  attempt: number;
  target: DeliveryTarget;
  /** Hex leaf hash of the previous attempt's outcome record; null for attempt 1 (FORMAT.md §7). */
  previous: string | null;
  idempotencyKey: string;
  /** The exact body bytes every attempt of the delivery sends. */
  body: Uint8Array;
  /** Leaf hash of the event's ledger entry. */
  ingested: Uint8Array;
  /** SHA-256 of the redacted hop bytes. */
  redacted: Uint8Array;
  /** Current secret first, then the previous one during a rotation overlap. */
  secrets: readonly DeliverySecret[];
}

export interface SealedAttempt {
  attempt: AttemptToSeal;
  /** Every header the attempt is sent with: signature headers and custody headers. */
  headers: Record<string, string>;
  hops: SealedHops;
  root: Uint8Array;
  /** The custody record bytes: the attempt's leaf in the seal batch. */
  record: Uint8Array;
  /** Its index in the batch. */
  index: number;
}

export interface SealResult {
  note: string;
  root: Uint8Array;
  size: number;
  /** Hex key id of the platform key that signed the note (the `seal` entry's keyId). */
  keyId: string;
  /** Leaf hash of each record, in batch order (what the batch row stores). */
  leafHashes: Uint8Array[];
  sealed: SealedAttempt[];
}

/**
 * Seals a batch of attempts (pure; FORMAT.md §6–§8, §10): signs each attempt's headers with its
 * secrets, hashes the four hops into its custody root, writes its custody record, builds the batch
 * tree over the records and signs ONE seal note over it — so the per-attempt cost is two HMACs and a
 * few hashes, not an Ed25519 signature. Each attempt's headers then carry its record and seal proof.
 */
export function sealAttempts(attempts: readonly AttemptToSeal[], signer: Signer, timestampSeconds: number): SealResult {
  const prepared = attempts.map((attempt) => {
    const headers = buildDeliveryHeaders({
      msgId: attempt.event,
      timestamp: timestampSeconds,
      body: attempt.body,
      eventType: attempt.eventType,
      idempotencyKey: attempt.idempotencyKey,
      deliveryId: attempt.delivery,
      secrets: attempt.secrets,
    }) as Record<string, string>;
    const hops: SealedHops = {
      ingested: attempt.ingested,
      redacted: attempt.redacted,
      prepared: preparedHop(attempt.body),
      signed: hashHopBytes(signedHeadersHopV2(headers)),
    };
    const root = custodyRoot(hops);
    const record = encodeCustodyRecord({
      tenant: attempt.tenant,
      delivery: attempt.delivery,
      event: attempt.event,
      attempt: attempt.attempt,
      target: attempt.target,
      sealedAt: timestampSeconds,
      previous: attempt.previous,
      hops: hopsToHex(hops),
      root: toHex(root),
    });
    return { attempt, headers, hops, root, record };
  });
  const batch = sealLeaves(
    prepared.map((p) => p.record),
    signer,
  );
  const signature = sealSignatureOf(batch.note, signer.name);
  return {
    note: batch.note,
    root: batch.root,
    size: batch.size,
    keyId: toHex(signer.keyId),
    leafHashes: batch.leafHashes,
    sealed: prepared.map((p, i) => {
      const member = batch.members[i]!;
      // Added to the attempt's own headers object in place: a spread copy would give each attempt's
      // headers a hidden class of their own (docs/ARCHITECTURE.md, "Hot-path objects").
      const headers = Object.assign(p.headers, formatCustodyHeadersV2(p.record, { signer: signer.name, size: batch.size, index: member.index, path: member.path, signature }));
      return { attempt: p.attempt, headers, hops: p.hops, root: p.root, record: p.record, index: member.index };
    }),
  };
}

/** What a stored sealed attempt keeps (libs/deliveries attempt_seals + its batch), enough to rebuild everything it sent. */
export interface StoredSeal {
  tenant: string;
  delivery: string;
  event: string;
  eventType: string;
  attempt: number;
  target: DeliveryTarget;
  idempotencyKey: string;
  sealedAt: number;
  previous: string | null;
  hops: SealedHops;
  webhookSignature: string;
  custodySignature: string;
  /** Key ids of the secrets that signed, current first. */
  keyIds: readonly string[];
  /** The batch's seal note, this attempt's index and path in it. */
  note: string;
  signer: string;
  index: number;
  size: number;
  path: Uint8Array[];
}

/**
 * The custody record and the exact headers a sealed attempt was sent with, rebuilt from what was
 * stored (a resend after a crash sends them again; a proof document shows them). Pure and
 * deterministic: the same stored seal always gives the same bytes.
 */
export function rebuildSealedAttempt(s: StoredSeal): { record: Uint8Array; root: Uint8Array; headers: Record<string, string> } {
  const root = custodyRoot(s.hops);
  const record = encodeCustodyRecord({
    tenant: s.tenant,
    delivery: s.delivery,
    event: s.event,
    attempt: s.attempt,
    target: s.target,
    sealedAt: s.sealedAt,
    previous: s.previous,
    hops: hopsToHex(s.hops),
    root: toHex(root),
  });
  const timestamp = String(s.sealedAt);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": s.event,
    "webhook-timestamp": timestamp,
    "webhook-signature": s.webhookSignature,
    "x-custody-signature": s.custodySignature,
    "x-custody-signature-key-id": s.keyIds[0]!,
    "x-custody-timestamp": timestamp,
    "x-custody-event": s.eventType,
    "idempotency-key": s.idempotencyKey,
    "x-custody-delivery-id": s.delivery,
    ...formatCustodyHeadersV2(record, { signer: s.signer, size: s.size, index: s.index, path: s.path, signature: sealSignatureOf(s.note, s.signer) }),
  };
  return { record, root, headers };
}

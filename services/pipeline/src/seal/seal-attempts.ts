import { custodyRoot, formatCustodyHeaders, hashHopBytes, hopsToHex, preparedHop, sealBatch, sealSignatureOf, type SealedHops } from "@custody/custody";
import { custodyEntry, type EntryDocument } from "@custody/ledger";
import { toHex } from "@custody/merkle";
import type { Signer } from "@custody/note";
import { buildDeliveryHeaders, signedHeadersHop, type DeliverySecret } from "@custody/signing";

export interface AttemptToSeal {
  deliveryId: string;
  attemptNo: number;
  tenantId: string;
  eventId: string;
  eventType: string;
  endpointId: string | null;
  url: string;
  idempotencyKey: string;
  body: Uint8Array;
  /** Leaf hash of the event's ledger entry. */
  ingestedHop: Uint8Array;
  redactedHop: Uint8Array;
  /** Current secret first, then the previous one during a rotation overlap. */
  secrets: readonly DeliverySecret[];
}

export interface SealedAttempt {
  attempt: AttemptToSeal;
  headers: Record<string, string>;
  hops: SealedHops;
  root: Uint8Array;
  batchIndex: number;
  custodyDocument: EntryDocument;
}

export interface SealResult {
  batch: { note: string; root: Uint8Array; size: number; keyId: string };
  sealed: SealedAttempt[];
}

/**
 * Seals a batch of attempts (pure): signs each attempt's headers with the endpoint's secrets, hashes
 * the four sealed hops into its custody root, and signs ONE seal note over all the roots — so the
 * per-delivery cost is hashing, not an Ed25519 signature (proofs/FORMAT.md §Seal). The custody
 * headers carry each root's inclusion path and the note's signature.
 */
export function sealAttempts(attempts: readonly AttemptToSeal[], signer: Signer, timestampSeconds: number): SealResult {
  const prepared = attempts.map((attempt) => {
    const headers = buildDeliveryHeaders({
      msgId: attempt.eventId,
      timestamp: timestampSeconds,
      body: attempt.body,
      eventType: attempt.eventType,
      idempotencyKey: attempt.idempotencyKey,
      secrets: attempt.secrets,
      // The delivery id is what a counter-signed receipt names (proofs/FORMAT.md §10).
      custodyHeaders: { "x-custody-delivery-id": attempt.deliveryId },
    });
    const hops: SealedHops = {
      ingested: attempt.ingestedHop,
      redacted: attempt.redactedHop,
      prepared: preparedHop(attempt.body),
      signed: hashHopBytes(signedHeadersHop(headers)),
    };
    return { attempt, headers, hops, root: custodyRoot(hops) };
  });
  const batch = sealBatch(prepared.map((p) => p.root), signer);
  const signature = sealSignatureOf(batch.note, signer.name);
  const keyId = toHex(signer.keyId);
  return {
    batch: { note: batch.note, root: batch.root, size: batch.size, keyId },
    sealed: prepared.map((p, i) => {
      const member = batch.members[i]!;
      const custodyHeaders = formatCustodyHeaders(p.hops, p.root, { signer: signer.name, size: batch.size, index: member.index, path: member.path, signature });
      return {
        attempt: p.attempt,
        headers: { ...p.headers, ...custodyHeaders },
        hops: p.hops,
        root: p.root,
        batchIndex: member.index,
        custodyDocument: custodyEntry({
          tenantId: p.attempt.tenantId,
          deliveryId: p.attempt.deliveryId,
          eventId: p.attempt.eventId,
          attemptNo: p.attempt.attemptNo,
          endpointId: p.attempt.endpointId,
          hops: hopsToHex(p.hops),
          custodyRoot: toHex(p.root),
          seal: { batchRoot: toHex(batch.root), size: batch.size, index: member.index, keyId },
        }),
      };
    }),
  };
}

/**
 * The chain-of-custody schemas as they were in classic zod (git 34e04d3, libs/custody/src/
 * proof-document.ts), kept verbatim but for this comment and the removed type exports:
 * proof-document.test.ts checks that the zod/mini schemas accept, reject and report exactly as these did.
 */
import { z } from "zod";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters");
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64")
  .max(200_000);
const index = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A ledger entry with its inclusion proof under the document's checkpoint (or null while unsequenced). */
export const ProvenEntry = z.object({
  /** base64 of the entry's exact bytes */
  entry: base64,
  leafIndex: index.nullable(),
  /** RFC 9162 inclusion proof of the entry's leaf under the document's checkpoint; empty while unsequenced */
  inclusion: z.array(hex32).max(64),
});

export const RemovedField = z.object({ path: z.string().max(512), salt: z.string().max(64), commitment: hex32 });

export const AttemptProof = z.object({
  attempt: z.number().int().min(1),
  hops: z.object({ ingested: hex32, redacted: hex32, prepared: hex32, signed: hex32 }),
  root: hex32,
  /** The seal: the signed note over the batch tree, and this root's place in it */
  seal: z.object({ note: z.string().max(4096), index, path: z.array(hex32).max(64) }),
  /** Exactly the signature and custody headers sent with this attempt (lowercase names) */
  headers: z.record(z.string(), z.string().max(16_384)),
  custody: ProvenEntry,
  /** The attempt's outcome entry; its leaf hash is the `delivered` hop when the outcome is `delivered` */
  outcome: ProvenEntry.nullable(),
});

export const DeliveryProof = z.object({
  id: z.string().max(64),
  target: z.union([z.object({ endpoint: z.string().max(64) }), z.object({ callback: z.literal(true) })]),
  status: z.string().max(32),
  idempotencyKey: z.string().max(64),
  replayOf: z.string().max(64).nullable(),
  redaction: z.object({ shape: z.enum(["thin", "fat"]), removed: z.array(RemovedField).max(1000) }),
  attempts: z.array(AttemptProof).max(100),
  /** The endpoint's counter-signed receipt entry, when it gave one */
  receipt: ProvenEntry.nullable(),
});

/**
 * A chain-of-custody proof: everything an auditor needs to check, offline and years later with only
 * the platform's public key, what was delivered for one event (proofs/FORMAT.md §10).
 */
export const ChainOfCustody = z.object({
  format: z.literal("custody-chain/v1"),
  /** The ledger's log origin (first line of the checkpoint) */
  origin: z.string().max(255),
  /** The signed checkpoint (C2SP note text) every inclusion proof here is under */
  checkpoint: z.string().max(8192),
  event: z.object({ id: z.string().max(128), type: z.string().max(128), ledger: ProvenEntry }),
  /** A recall of this event, when there is one */
  recall: ProvenEntry.nullable(),
  deliveries: z.array(DeliveryProof).max(1000),
});

/** Format 2: a record's place in a batch tree, and the batch's ledger entry (proofs/FORMAT.md §13). */
const BatchMember = {
  index,
  /** RFC 9162 inclusion path of the record's leaf in the batch tree */
  path: z.array(hex32).max(12),
  /** The batch's `seal` or `outcomes` ledger entry */
  entry: ProvenEntry,
};

export const AttemptProofV2 = z.object({
  attempt: z.number().int().min(1),
  /** base64 of the custody record bytes (§7) */
  record: base64,
  /** The seal note over the batch, and the record's membership in it */
  seal: z.object({ note: z.string().max(4096), ...BatchMember }),
  /** Exactly the signature and custody headers sent with this attempt (lowercase names) */
  headers: z.record(z.string(), z.string().max(16_384)),
  /** The outcome record (§9) and its membership in an outcomes batch; null while none is recorded */
  outcome: z.object({ record: base64, ...BatchMember }).nullable(),
});

export const DeliveryProofV2 = z.object({
  id: z.string().max(64),
  target: z.union([z.object({ endpoint: z.string().max(64) }), z.object({ callback: z.literal(true) })]),
  status: z.enum(["pending", "delivering", "retrying", "delivered", "dead", "cancelled"]),
  idempotencyKey: z.string().max(64),
  /** The delivery a replay re-sent (same event, same endpoint), or null */
  replayOf: z.string().max(64).nullable(),
  /** The replay job (`rpl_…`) that made this delivery, or null */
  replay: z.string().max(64).nullable(),
  redaction: z.object({ shape: z.enum(["thin", "fat"]), removed: z.array(RemovedField).max(1000) }),
  attempts: z.array(AttemptProofV2).max(100),
  receipt: ProvenEntry.nullable(),
});

/** Format 2 of the chain-of-custody document (proofs/FORMAT.md §13). */
export const ChainOfCustodyV2 = z.object({
  format: z.literal("custody-chain/v2"),
  origin: z.string().max(255),
  checkpoint: z.string().max(8192),
  event: z.object({ id: z.string().max(128), type: z.string().max(128), ledger: ProvenEntry }),
  recall: ProvenEntry.nullable(),
  deliveries: z.array(DeliveryProofV2).max(1000),
});

/**
 * The chain-of-custody document schemas, in zod/mini: the verifier (CLI, browser page, console)
 * parses documents with them and the proof routes serve them as response schemas and OpenAPI.
 * zod/mini runs the same zod core as classic zod, so a document is accepted, rejected and described
 * exactly as before, while a bundle keeps only the parts it uses (classic zod was ~86 % of the
 * verifier's bundle). Each check below is the one the classic method adds (`.max(n)` on a string
 * or array is `maxLength(n)`, `.int()` is `int()`, `.min`/`.max` on a number are `gte`/`lte`).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

// Classic zod installs English messages when its first schema is built; zod/mini leaves messages
// to the caller. The verifier shows them to auditors, so install the same default, never over a
// locale the process chose.
if (!z.config().localeError) z.config(en());

const hex32 = z.string().check(z.regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters"));
const base64 = z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"), z.maxLength(200_000));
const index = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const str = (max: number) => z.string().check(z.maxLength(max));
const list = <T extends z.ZodMiniType>(item: T, max: number) => z.array(item).check(z.maxLength(max));

/** The most deliveries, and attempts per delivery, one document holds (both formats; FORMAT.md §13). */
export const DOCUMENT_BOUNDS = { deliveries: 1000, attempts: 100 } as const;

/** A ledger entry with its inclusion proof under the document's checkpoint (or null while unsequenced). */
export const ProvenEntry = z.object({
  /** base64 of the entry's exact bytes */
  entry: base64,
  leafIndex: z.nullable(index),
  /** RFC 9162 inclusion proof of the entry's leaf under the document's checkpoint; empty while unsequenced */
  inclusion: list(hex32, 64),
});
export type ProvenEntry = z.infer<typeof ProvenEntry>;

export const RemovedField = z.object({ path: str(512), salt: str(64), commitment: hex32 });

export const AttemptProof = z.object({
  attempt: z.number().check(z.int(), z.gte(1)),
  hops: z.object({ ingested: hex32, redacted: hex32, prepared: hex32, signed: hex32 }),
  root: hex32,
  /** The seal: the signed note over the batch tree, and this root's place in it */
  seal: z.object({ note: str(4096), index, path: list(hex32, 64) }),
  /** Exactly the signature and custody headers sent with this attempt (lowercase names) */
  headers: z.record(z.string(), str(16_384)),
  custody: ProvenEntry,
  /** The attempt's outcome entry; its leaf hash is the `delivered` hop when the outcome is `delivered` */
  outcome: z.nullable(ProvenEntry),
});
export type AttemptProof = z.infer<typeof AttemptProof>;

export const DeliveryProof = z.object({
  id: str(64),
  target: z.union([z.object({ endpoint: str(64) }), z.object({ callback: z.literal(true) })]),
  status: str(32),
  idempotencyKey: str(64),
  replayOf: z.nullable(str(64)),
  redaction: z.object({ shape: z.enum(["thin", "fat"]), removed: list(RemovedField, 1000) }),
  attempts: list(AttemptProof, DOCUMENT_BOUNDS.attempts),
  /** The endpoint's counter-signed receipt entry, when it gave one */
  receipt: z.nullable(ProvenEntry),
});
export type DeliveryProof = z.infer<typeof DeliveryProof>;

/**
 * A chain-of-custody proof: everything an auditor needs to check, offline and years later with only
 * the platform's public key, what was delivered for one event (proofs/FORMAT.md §10).
 */
export const ChainOfCustody = z.object({
  format: z.literal("custody-chain/v1"),
  /** The ledger's log origin (first line of the checkpoint) */
  origin: str(255),
  /** The signed checkpoint (C2SP note text) every inclusion proof here is under */
  checkpoint: str(8192),
  event: z.object({ id: str(128), type: str(128), ledger: ProvenEntry }),
  /** A recall of this event, when there is one */
  recall: z.nullable(ProvenEntry),
  deliveries: list(DeliveryProof, DOCUMENT_BOUNDS.deliveries),
});
export type ChainOfCustody = z.infer<typeof ChainOfCustody>;

/** Format 2: a record's place in a batch tree, and the batch's ledger entry (proofs/FORMAT.md §13). */
const BatchMember = {
  index,
  /** RFC 9162 inclusion path of the record's leaf in the batch tree */
  path: list(hex32, 12),
  /** The batch's `seal` or `outcomes` ledger entry */
  entry: ProvenEntry,
};

export const AttemptProofV2 = z.object({
  attempt: z.number().check(z.int(), z.gte(1)),
  /** base64 of the custody record bytes (§7) */
  record: base64,
  /** The seal note over the batch, and the record's membership in it */
  seal: z.object({ note: str(4096), ...BatchMember }),
  /** Exactly the signature and custody headers sent with this attempt (lowercase names) */
  headers: z.record(z.string(), str(16_384)),
  /** The outcome record (§9) and its membership in an outcomes batch; null while none is recorded */
  outcome: z.nullable(z.object({ record: base64, ...BatchMember })),
});
export type AttemptProofV2 = z.infer<typeof AttemptProofV2>;

export const DeliveryProofV2 = z.object({
  id: str(64),
  target: z.union([z.object({ endpoint: str(64) }), z.object({ callback: z.literal(true) })]),
  status: z.enum(["pending", "delivering", "retrying", "delivered", "dead", "cancelled"]),
  idempotencyKey: str(64),
  /** The delivery a replay re-sent (same event, same endpoint), or null */
  replayOf: z.nullable(str(64)),
  /** The replay job (`rpl_…`) that made this delivery, or null */
  replay: z.nullable(str(64)),
  redaction: z.object({ shape: z.enum(["thin", "fat"]), removed: list(RemovedField, 1000) }),
  attempts: list(AttemptProofV2, DOCUMENT_BOUNDS.attempts),
  receipt: z.nullable(ProvenEntry),
});
export type DeliveryProofV2 = z.infer<typeof DeliveryProofV2>;

/** Format 2 of the chain-of-custody document (proofs/FORMAT.md §13). */
export const ChainOfCustodyV2 = z.object({
  format: z.literal("custody-chain/v2"),
  origin: str(255),
  checkpoint: str(8192),
  event: z.object({ id: str(128), type: str(128), ledger: ProvenEntry }),
  recall: z.nullable(ProvenEntry),
  deliveries: list(DeliveryProofV2, DOCUMENT_BOUNDS.deliveries),
});
export type ChainOfCustodyV2 = z.infer<typeof ChainOfCustodyV2>;

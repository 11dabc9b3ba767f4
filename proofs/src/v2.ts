/**
 * Format 2 documents (`custody-chain/v2`, proofs/FORMAT.md §13, §14): each attempt carries its
 * custody record, the seal over its batch and, once tried, its outcome record in an outcomes batch.
 * Checks after `prepared`: ingested, signed, root, custody record, seal, chain, outcome.
 */
import type { ChainOfCustodyV2 } from "@custody/custody";
import { ATTEMPTS, ingestedOf, rootOf } from "./attempt.js";
import type { FormatChecks } from "./format-checks.js";
import { everyItem, type Check, type Items } from "./report.js";
import { custodyRecordV2, signedV2 } from "./v2-attempt.js";
import { chainV2 } from "./v2-chain.js";
import { outcomeV2 } from "./v2-outcome.js";
import { refV2, type RefV2 } from "./v2-ref.js";
import { sealV2 } from "./v2-seal.js";

interface DeliveryAttempts {
  readonly delivery: ChainOfCustodyV2["deliveries"][number];
  readonly attempts: readonly RefV2[];
}

const DELIVERIES: Items<DeliveryAttempts> = { label: (d) => d.delivery.id, noun: "delivery" };

export function v2Checks(doc: ChainOfCustodyV2): FormatChecks {
  const deliveries: DeliveryAttempts[] = doc.deliveries.map((d) => ({ delivery: d, attempts: d.attempts.map((a) => refV2(d, a)) }));
  const refs = deliveries.flatMap((d) => d.attempts);
  const every = (name: Check["name"], body: (ref: RefV2) => string) => everyItem(name, refs, ATTEMPTS, body);
  return {
    attempts: refs,
    deliveries,
    custody: (ctx) => [
      every("ingested", (ref) => ingestedOf(ctx, ref)),
      every("signed", (ref) => signedV2(ctx, ref)),
      every("root", rootOf),
      every("custody record", (ref) => custodyRecordV2(ctx, ref)),
      every("seal", (ref) => sealV2(ctx, ref)),
      everyItem("chain", deliveries, DELIVERIES, (d) => chainV2(d.attempts)),
      every("outcome", (ref) => outcomeV2(ctx, ref)),
    ],
    authentication: (ctx) => [every("root", rootOf), every("custody record", (ref) => custodyRecordV2(ctx, ref)), every("seal", (ref) => sealV2(ctx, ref))],
  };
}

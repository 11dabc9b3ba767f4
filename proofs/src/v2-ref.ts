/** A format 2 attempt with its custody record viewed (proofs/FORMAT.md §7, §13). */
import type { AttemptProofV2, DeliveryProofV2 } from "@custody/custody";
import type { AttemptRef } from "./attempt.js";
import { claimsOf, viewRecord, type RecordView } from "./v2-record.js";

export interface RefV2 extends AttemptRef {
  readonly d: DeliveryProofV2;
  readonly a: AttemptProofV2;
  readonly record: RecordView;
}

export function refV2(d: DeliveryProofV2, a: AttemptProofV2): RefV2 {
  const record = viewRecord(a.record, "custody record");
  return { d, a, record, delivery: d, attempt: a.attempt, label: `${d.id}#${a.attempt}`, headers: a.headers, claims: claimsOf(record) };
}

/**
 * What each evidence format contributes to a verification (proofs/FORMAT.md §14, Appendix A). The
 * checks both formats share (checkpoint, event, prepared, hmac, receipt, redaction) run in
 * checks.ts over this view; everything between `prepared` and `hmac` is the format's own.
 */
import type { AttemptRef, DeliveryCore } from "./attempt.js";
import type { Context } from "./context.js";
import type { Check } from "./report.js";

export interface FormatChecks {
  /** Every attempt of the document, in document order. */
  readonly attempts: readonly AttemptRef[];
  /** Every delivery, with its attempts (a delivery may have none yet). */
  readonly deliveries: ReadonlyArray<{ readonly delivery: DeliveryCore; readonly attempts: readonly AttemptRef[] }>;
  /** The custody checks over every attempt, `ingested` through `outcome`, in the format's order. */
  custody(ctx: Context): Check[];
  /** With a verifier key, what makes the redacted hops platform-signed (for `verifyRedaction`). */
  authentication(ctx: Context): Check[];
}

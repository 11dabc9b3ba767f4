/**
 * An attempt as the checks shared by both formats see it: its delivery, number, headers, and what
 * it claims about its custody (the four hops and the root). Format 1 states the claims as members
 * of the attempt; format 2 inside its custody record (proofs/FORMAT.md §7), read before the record
 * itself is checked, so each claim is read on its own and fails on its own when unreadable.
 */
import { custodyRoot, hopsFromHex, type ProvenEntry, type SealedHop } from "@custody/custody";
import { toHex } from "@custody/encoding";
import type { Context } from "./context.js";
import { fail, reason } from "./entries.js";
import type { Items } from "./report.js";

export interface DeliveryCore {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly target: { readonly endpoint: string } | { readonly callback: true };
  readonly redaction: { readonly shape: "thin" | "fat"; readonly removed: ReadonlyArray<{ path: string; salt: string; commitment: string }> };
  readonly receipt: ProvenEntry | null;
}

/** What an attempt states about its custody; each read throws (CheckFailure) when unreadable. */
export interface Claims {
  hop(name: SealedHop): string;
  root(): string;
}

export interface AttemptRef {
  readonly delivery: DeliveryCore;
  readonly attempt: number;
  /** `<delivery id>#<attempt>`, how failures name an attempt */
  readonly label: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly claims: Claims;
}

export const ATTEMPTS: Items<AttemptRef> = { label: (r) => r.label, noun: "attempt" };

/** The attempt's prepared hop, or undefined when it cannot be read (it then matches no payload). */
export function preparedHopOf(ref: AttemptRef): string | undefined {
  try {
    return ref.claims.hop("prepared");
  } catch {
    return undefined;
  }
}

/** Check 4: the ingested hop is the event entry's leaf hash. */
export function ingestedOf(ctx: Context, ref: AttemptRef): string {
  if (ctx.eventLeaf === undefined) fail("the event entry could not be read, so its leaf hash is unknown");
  const leaf = toHex(ctx.eventLeaf);
  const ingested = ref.claims.hop("ingested");
  if (ingested !== leaf) fail(`ingested hop ${ingested} is not the event entry's leaf hash ${leaf}`);
  return `the ingested hop is the event entry's leaf hash ${leaf}`;
}

/** Check 6: the MTH of the four hop leaves (FORMAT §7) is the claimed root. */
export function rootOf(ref: AttemptRef): string {
  const { claims } = ref;
  const hops = { ingested: claims.hop("ingested"), redacted: claims.hop("redacted"), prepared: claims.hop("prepared"), signed: claims.hop("signed") };
  const root = claims.root();
  let computed: string;
  try {
    computed = toHex(custodyRoot(hopsFromHex(hops)));
  } catch (err) {
    fail(reason(err));
  }
  if (computed !== root) fail(`the MTH of the four hop leaves is ${computed}, not the root ${root}`);
  return "the MTH of the four hop leaves is the attempt's root";
}

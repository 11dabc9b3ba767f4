import { sealAttempts, type AttemptToSeal, type SealResult } from "@custody/custody";
import type { Database, Kysely } from "@custody/db";
import { recordSeal } from "@custody/deliveries";
import { toHex } from "@custody/merkle";
import type { Signer } from "@custody/note";
import type { ReadyAttempt } from "../deliver/deliverer.js";

export interface ToSeal {
  attempt: AttemptToSeal;
  targetUrl: string;
  firstAttemptAt: Date | null;
  lastDelayMs: number | null;
}

export interface SealedBatch {
  result: SealResult;
  /** What to send once the seal is committed. */
  ready: ReadyAttempt[];
  /** Stores the seal in the caller's transaction (the same one that begins the attempts). */
  store(trx: Kysely<Database>): Promise<void>;
}

/**
 * Seals attempts before the transaction that records them: the signature and the hashing are done
 * outside it, so the transaction holds its locks for the inserts only.
 */
export function sealForSending(signer: Signer, items: readonly ToSeal[], at: Date): SealedBatch {
  const result = sealAttempts(items.map((i) => i.attempt), signer, Math.floor(at.getTime() / 1000));
  const urlOf = new Map(items.map((i) => [i.attempt.delivery, i.targetUrl]));
  const ready = result.sealed.map((s, i): ReadyAttempt => {
    const item = items[i]!;
    return {
      tenantId: s.attempt.tenant,
      deliveryId: s.attempt.delivery,
      attemptNo: s.attempt.attempt,
      eventId: s.attempt.event,
      endpointId: "endpoint" in s.attempt.target ? s.attempt.target.endpoint : null,
      url: item.targetUrl,
      headers: s.headers,
      body: s.attempt.body,
      root: toHex(s.root),
      firstAttemptAt: item.firstAttemptAt,
      lastDelayMs: item.lastDelayMs,
    };
  });
  return { result, ready, store: async (trx) => void (await recordSeal(trx, result, (id) => urlOf.get(id)!)) };
}

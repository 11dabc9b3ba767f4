import { MAX_SEAL_BATCH, sealAttempts, type AttemptToSeal, type SealResult } from "@custody/custody";
import type { Database, Kysely } from "@custody/db";
import { recordSeals } from "@custody/deliveries";
import { toHex } from "@custody/encoding";
import type { Signer } from "@custody/note";
import type { ReadyAttempt } from "../deliver/deliverer.js";

export interface ToSeal {
  attempt: AttemptToSeal;
  targetUrl: string;
  firstAttemptAt: Date | null;
  lastDelayMs: number | null;
}

export interface SealedBatch {
  /** One seal per MAX_SEAL_BATCH attempts (a fan-out to many endpoints can exceed one). */
  results: SealResult[];
  /** What to send once the seal is committed. */
  ready: ReadyAttempt[];
  /** Stores the seal in the caller's transaction (the same one that begins the attempts). */
  store(trx: Kysely<Database>): Promise<void>;
}

/**
 * Seals attempts before the write that records them: the signature and the hashing are done
 * outside it, so a transaction holds its locks for the inserts only.
 */
export function sealForSending(signer: Signer, items: readonly ToSeal[], at: Date): SealedBatch {
  const results: SealResult[] = [];
  for (let i = 0; i < items.length; i += MAX_SEAL_BATCH) {
    results.push(
      sealAttempts(
        items.slice(i, i + MAX_SEAL_BATCH).map((x) => x.attempt),
        signer,
        Math.floor(at.getTime() / 1000),
      ),
    );
  }
  const urlOf = new Map(items.map((i) => [i.attempt.delivery, i.targetUrl]));
  const ready = results
    .flatMap((r) => r.sealed)
    .map((s, i): ReadyAttempt => {
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
  return { results, ready, store: (trx) => recordSeals(trx, results, (id) => urlOf.get(id)!) };
}

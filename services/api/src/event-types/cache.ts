import { TtlCache } from "@custody/cache";
import type { Db } from "@custody/db";
import { latestEventTypes, type IngestEventType } from "./store.js";

/**
 * A change to an event type made through another API process reaches ingest within this long;
 * through this process, at once (the routes forget the name when they change it).
 */
export const EVENT_TYPE_CACHE_MS = 1_000;

/** The latest version of each event type ingest checks events against, read at most once per EVENT_TYPE_CACHE_MS. */
export class EventTypeCache {
  private readonly cache: TtlCache<IngestEventType | null>;

  constructor(
    private readonly db: Db,
    ttlMs = EVENT_TYPE_CACHE_MS,
  ) {
    this.cache = new TtlCache(ttlMs);
  }

  async latest(tenantId: string, names: readonly string[]): Promise<Map<string, IngestEventType>> {
    const keyOf = (name: string) => `${tenantId}\u0000${name}`;
    const found = await this.cache.getMany(
      names.map(keyOf),
      async (missing) => {
        const rows = await latestEventTypes(
          this.db,
          tenantId,
          missing.map((k) => k.slice(tenantId.length + 1)),
        );
        return new Map([...rows.values()].map((t) => [keyOf(t.name), t]));
      },
      null,
    );
    return new Map(
      names.flatMap((n) => {
        const t = found.get(keyOf(n));
        return t ? [[n, t] as const] : [];
      }),
    );
  }

  forget(tenantId: string, name: string): void {
    this.cache.invalidate(`${tenantId}\u0000${name}`);
  }
}

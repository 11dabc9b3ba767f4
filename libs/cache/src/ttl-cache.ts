/**
 * Values loaded in bulk and kept for a short time: the pipeline reads endpoints and signing secrets
 * for every batch, and a few hundred milliseconds of staleness costs nothing a retry or the next
 * batch would not fix. Concurrent misses for the same keys share one load.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private readonly loading = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The values of `keys`, loading the missing or expired ones with one call of `load`. */
  async getMany(keys: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>, fallback: V): Promise<Map<string, V>> {
    const out = new Map<string, V>();
    const missing: string[] = [];
    const waits: Array<Promise<void>> = [];
    const t = this.now();
    for (const key of new Set(keys)) {
      const hit = this.entries.get(key);
      if (hit !== undefined && t - hit.at < this.ttlMs) out.set(key, hit.value);
      else {
        const inFlight = this.loading.get(key);
        if (inFlight !== undefined) waits.push(inFlight.then((v) => void out.set(key, v)));
        else missing.push(key);
      }
    }
    if (missing.length > 0) {
      const batch = load(missing)
        .then((loaded) => {
          const at = this.now();
          for (const key of missing) this.entries.set(key, { value: loaded.get(key) ?? fallback, at });
          return loaded;
        })
        .finally(() => {
          for (const key of missing) this.loading.delete(key);
        });
      for (const key of missing) {
        const one = batch.then((m) => m.get(key) ?? fallback);
        // Observed by every caller waiting on it; a failed load must not also be an unhandled rejection.
        one.catch(() => undefined);
        this.loading.set(key, one);
        waits.push(one.then((v) => void out.set(key, v)));
      }
    }
    await Promise.all(waits);
    return out;
  }

  /** Replaces a cached value (after this process changed it), keeping its age. */
  update(key: string, change: (value: V) => V): void {
    const hit = this.entries.get(key);
    if (hit !== undefined) hit.value = change(hit.value);
  }

  invalidate(key: string): void {
    this.entries.delete(key);
  }
}

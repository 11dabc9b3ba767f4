// Test-only: mulberry32 (Tommy Ettinger's 32-bit PRNG, public domain), so jitter tests are
// reproducible without Math.random().
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random() that always answers r (for exact bounds). */
export const always = (r: number) => (): number => r;

/** The largest double below 1, the top of random()'s range. */
export const ALMOST_ONE = 1 - 2 ** -53;

/** A random() that must not be called (fixed schedules draw nothing). */
export const noRandom = (): number => {
  throw new Error("random() was called");
};

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * A small seeded pseudo-random generator (mulberry32) for seeded shuffles, subsampling and
 * k-means++ draws (internal).
 *
 * @module
 * @internal
 */

/** mulberry32: a 32-bit seeded generator returning floats in [0, 1). @internal */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `k` distinct indices of `0..n-1`, drawn uniformly without replacement (partial Fisher–Yates). @internal */
export function sampleWithoutReplacement(n: number, k: number, random: () => number): Int32Array {
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, k);
}

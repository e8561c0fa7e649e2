/**
 * Per-step seeds derived from a run seed, so that every random draw of a training run is a
 * function of (run seed, step position) and a resumed run draws exactly what an uninterrupted
 * one would.
 *
 * @module
 */

/** MurmurHash3's 32-bit finalizer (public-domain constants). */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Seed of the `stream`-th random draw at RNG position `position` of a run seeded `seed`:
 * an integer in `[0, 2^31)`, fit for `tf.randomNormal(..., seed)`.
 *
 * @internal
 */
export function stepSeed(seed: number, position: number, stream: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(position >>> 0, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul((stream + 1) >>> 0, 0x165667b1));
  return h & 0x7fffffff;
}

/** A fresh run seed when the user gave none. @internal */
export function randomRunSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

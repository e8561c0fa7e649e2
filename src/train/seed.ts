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

/** 32-bit FNV-1a hash of a string's UTF-16 code units (Fowler, Noll, Vo; public domain). @internal */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Seed of the random draw `stream` at RNG position `position` of a run seeded `seed`: an
 * integer in `[0, 2^31)`, fit for `tf.randomNormal(..., seed)`. A stream is a number or a
 * name such as `'discriminator/0/noise'` (hashed with FNV-1a), so that every draw of a step
 * has its own stream and adding one does not shift the others.
 *
 * @internal
 */
export function stepSeed(seed: number, position: number, stream: number | string): number {
  const id = typeof stream === 'string' ? fnv1a(stream) : stream + 1;
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(position >>> 0, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(id >>> 0, 0x165667b1));
  return h & 0x7fffffff;
}

/** A fresh run seed when the user gave none. @internal */
export function randomRunSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/**
 * A/B of the trainer's overhead in one process: `train.AdversarialTrainer.fit` from this
 * checkout (B) and from another copy of genblocks' sources (A, e.g. `git archive <commit> src |
 * tar -x -C /tmp/base`, inside a folder whose `node_modules` resolves to the same packages, so
 * that both use one tfjs instance), and the hand-written loop of the trainer-overhead bench
 * (`bench/train-bench-common.ts`), each on its own copy of the same networks, never yielding,
 * 40 steps per call, in rotating order (A B hand, hand B A, ...), with the young generation
 * collected before every call where Node runs with `--expose-gc` (as `comparePaired` does).
 * Prints per side the median of the calling thread's CPU time per step (Linux schedstat: time
 * spent waiting for a core is not counted, though a busy machine still slows the thread through
 * its caches), and the paired overheads (median of per-round ratios, with the sign-test 95%
 * interval of `bench/harness.ts`).
 *
 *   [THREADS=1] node --expose-gc --import ./bench/loader/register.mjs scripts/ab-trainer-overhead.ts <other src dir> [tiny|large] [rounds]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { formatInterval, median, pairedOverhead } from '../bench/harness.js';
import { handWrittenGanStep, mlp } from '../bench/train-bench-common.js';
import * as current from '../src/index.js';

type Genblocks = typeof current;
const baseDir = process.argv[2];
if (baseDir === undefined) throw new Error('usage: ab-trainer-overhead.ts <other genblocks src dir> [tiny|large] [rounds]');
const which = process.argv[3] === 'large' ? 'large' : 'tiny';
const rounds = Number(process.argv[4] ?? 30);
const base = (await import(pathToFileURL(resolve(baseDir, 'index.ts')).href)) as Genblocks;
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;

const info = await current.backends.use('wasm', process.env.THREADS ? { threads: Number(process.env.THREADS) } : {});
const size =
  which === 'tiny'
    ? { latent: 8, g: [8, 64, 64, 2], d: [2, 64, 64, 1], batch: 64 }
    : { latent: 64, g: [64, 256, 512, 784], d: [784, 512, 256, 1], batch: 64 };
const steps = 40;
const real = Array.from({ length: 4 }, (_, i) => tf.randomNormal([size.batch, size.d[0]!], 0, 1, 'float32', i));

function trainerOf(g: Genblocks): () => Promise<unknown> {
  const trainer = new g.train.AdversarialTrainer({
    generator: mlp(size.g, 1),
    discriminator: mlp(size.d, 2),
    loss: g.losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(2e-4, 0.5),
    discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
    seed: 1,
  });
  return () => trainer.fit(real, { steps: trainer.step + steps, yieldIntervalMs: Number.POSITIVE_INFINITY });
}

const hand = handWrittenGanStep(mlp(size.g, 1), mlp(size.d, 2), size.latent);
let position = 0;
const sides: Record<'A' | 'B' | 'hand', () => Promise<unknown>> = {
  A: trainerOf(base),
  B: trainerOf(current),
  hand: async () => {
    for (let i = 0; i < steps; i++, position++) await hand.step(real[position % real.length]!, position);
  },
};
const names = Object.keys(sides) as (keyof typeof sides)[];
const perStep: Record<keyof typeof sides, number[]> = { A: [], B: [], hand: [] };
const gc = (globalThis as { gc?: (o?: { type: 'minor' }) => void }).gc;
for (let r = -2; r < rounds; r++) {
  for (const name of r % 2 === 0 ? names : [...names].reverse()) {
    gc?.({ type: 'minor' });
    const t0 = threadMs();
    await sides[name]();
    if (r >= 0) perStep[name].push((threadMs() - t0) / steps);
  }
}
const paired = (a: number[], b: number[]) => {
  const p = pairedOverhead(a.map((candidateMs, i) => ({ candidateMs, baselineMs: b[i]! })));
  return `${p.medianPercent.toFixed(2)}% (95% CI ${formatInterval(p.ciLowPercent, p.ciHighPercent)}, per-pair σ ${p.spreadPercent.toFixed(1)})`;
};
console.log(
  `wasm, ${info.threads} thread(s), MLP ${which}, ${rounds} rounds of ${steps} steps, load ${loadavg()[0]!.toFixed(1)}, gc before each call: ${gc ? 'yes' : 'no'}`,
);
for (const name of names) console.log(`  ${name}: ${median(perStep[name]).toFixed(3)} ms/step (calling-thread CPU, median)`);
console.log(`  A vs hand: ${paired(perStep.A, perStep.hand)}`);
console.log(`  B vs hand: ${paired(perStep.B, perStep.hand)}`);
console.log(`  B vs A:    ${paired(perStep.B, perStep.A)}`);
process.exit(0);

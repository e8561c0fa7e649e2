/**
 * A/B of the GPT training step in one process: the same step (nanoGPT's CPU configuration, as
 * bench/transformer-step.bench.ts: cross entropy, clipping to global norm 1 inside train.adamW's
 * pass as ModelTrainer's clipNorm does, or by clipByGlobalNorm first in a copy older than
 * train.globalNormScale) on a model built by this checkout's `nets.gpt` (B) and by another
 * copy of genblocks' sources (A,
 * e.g. `git archive <commit> src | tar -x -C /tmp/base`, with a `node_modules` link to the same
 * packages so that both use one tfjs instance), alternating A and B step by step. Prints per
 * side the median and quartiles of the calling thread's CPU time per step (Linux schedstat: time
 * spent waiting for a core is not counted, so the comparison holds on a busy machine), the
 * kernels per step (engine.runKernel calls) and the loss after the same steps (same seed, same
 * data: the two graphs compute the same maths).
 *
 *   [GPT_THREADS=1] [GPT_SIZE=tiny] node --import ./bench/loader/register.mjs scripts/ab-gpt-step.ts /tmp/base/src [steps]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import * as current from '../src/index.js';

type Genblocks = typeof current;
const baseDir = process.argv[2];
if (baseDir === undefined) throw new Error('usage: ab-gpt-step.ts <other genblocks src dir> [steps]');
const steps = Number(process.argv[3] ?? 30);
const base = (await import(pathToFileURL(resolve(baseDir, 'index.ts')).href)) as Genblocks;
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;

const info = await current.backends.use('wasm', process.env.GPT_THREADS ? { threads: Number(process.env.GPT_THREADS) } : {});
let kernelCalls = 0;
const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: object, attrs: object) => unknown };
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = (name, inputs, attrs) => {
  kernelCalls++;
  return runKernel(name, inputs, attrs);
};

// GPT_SIZE=tiny: the same graph at width 8, block 4, batch 1, where the kernels do almost no
// arithmetic, so the time per step is the JavaScript side (engine, tape, layers, kernel glue).
const [vocab, block, layers, heads, width, batch] = process.env.GPT_SIZE === 'tiny' ? [98, 4, 4, 4, 8, 1] : [98, 64, 4, 4, 128, 12];
const x = tf.randomUniformInt([batch, block], 0, vocab, 1);
const y = tf.randomUniformInt([batch, block], 0, vocab, 2);

function makeStep(g: Genblocks) {
  const gpt = g.nets.gpt({ vocabSize: vocab, blockSize: block, layers, heads, width, seed: 1 });
  const variables = gpt.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const optimizer = g.train.adamW({ learningRate: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  // An older copy (A) may predate train.globalNormScale: it then clips in a pass of its own.
  const scaleInOptimizer = typeof (g.train as Partial<Genblocks['train']>).globalNormScale === 'function';
  return async (): Promise<{ ms: number; kernels: number; loss: number }> => {
    const k0 = kernelCalls;
    const t0 = threadMs();
    const [value, norm] = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => g.losses.autoregressive.crossEntropy(gpt.apply(x, { training: true }) as tf.Tensor, y),
        variables,
      );
      if (scaleInOptimizer) {
        // ModelTrainer's clipNorm path (as bench/gpt-step-common.ts): the norm and the factor,
        // then the factor applied inside the fused Adam's one pass per variable.
        const { norm, scale } = g.train.globalNormScale(grads, 1);
        optimizer.applyGradients(grads, scale);
        return [value, norm];
      }
      const clipped = g.train.clipByGlobalNorm(grads, 1);
      optimizer.applyGradients(clipped.grads);
      return [value, clipped.norm];
    });
    const loss = (await value!.data())[0]!;
    await norm!.data();
    const ms = threadMs() - t0;
    const kernels = kernelCalls - k0;
    tf.dispose([value!, norm!]);
    return { ms, kernels, loss };
  };
}

const sides = { A: makeStep(base), B: makeStep(current) };
const results: Record<string, { ms: number[]; kernels: number; loss: number }> = {
  A: { ms: [], kernels: 0, loss: 0 },
  B: { ms: [], kernels: 0, loss: 0 },
};
for (let i = 0; i < 3; i++) for (const side of ['A', 'B'] as const) await sides[side]();
const load0 = loadavg()[0]!;
for (let i = 0; i < steps; i++) {
  for (const side of (i % 2 === 0 ? ['A', 'B'] : ['B', 'A']) as ('A' | 'B')[]) {
    const r = await sides[side]();
    results[side]!.ms.push(r.ms);
    results[side]!.kernels = r.kernels;
    results[side]!.loss = r.loss;
  }
}
const quantile = (v: number[], q: number) => [...v].sort((a, b) => a - b)[Math.floor(q * (v.length - 1))]!;
console.log(
  `GPT step A/B on wasm (${info.threads} threads), ${steps} alternating steps per side, load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`,
);
for (const side of ['A', 'B'] as const) {
  const r = results[side]!;
  console.log(
    `${side} (${side === 'A' ? baseDir : 'this checkout'}): calling-thread CPU median ${quantile(r.ms, 0.5).toFixed(1)} ms ` +
      `(quartiles ${quantile(r.ms, 0.25).toFixed(1)}-${quantile(r.ms, 0.75).toFixed(1)}), ${r.kernels} kernels/step, loss after ${steps + 3} steps ${r.loss.toFixed(5)}`,
  );
}
console.log(`B/A median: ${(quantile(results.B!.ms, 0.5) / quantile(results.A!.ms, 0.5)).toFixed(3)}`);

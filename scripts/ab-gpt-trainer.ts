/**
 * What `train.ModelTrainer` adds to the GPT step of `examples/text-gpt` (nanoGPT's CPU
 * configuration, clipping to norm 1, `train.adamW`): rounds of `trainer.fit` over `steps`
 * batches and the same number of bare steps (`tf.variableGrads`, `train.globalNormScale`,
 * `applyGradients(grads, scale)`, one read of the loss), alternating in one process on one
 * model, with a full garbage collection before each side where Node runs with `--expose-gc`.
 * Prints each side's median wall and calling-thread CPU ms per step and the paired overhead.
 *
 *   node --expose-gc --experimental-wasm-relaxed-simd --import ./bench/loader/register.mjs scripts/ab-gpt-trainer.ts [rounds] [steps]
 */
import { readFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import { formatInterval, median, pairedOverhead } from '../bench/harness.js';
import { backends, data, losses, nets, train } from '../src/index.js';

const rounds = Number(process.argv[2] ?? 10);
const steps = Number(process.argv[3] ?? 20);
const SCHED = `/proc/self/task/${process.pid}/schedstat`;
const threadMs = (): number => Number(readFileSync(SCHED, 'utf8').split(' ')[0]) / 1e6;
const gc = (globalThis as { gc?: () => void }).gc;

const info = await backends.use('wasm');
const ids = Int32Array.from({ length: 200_000 }, (_, i) => (i * 7919 + (i >> 3)) % 98);
const model = nets.gpt({ vocabSize: 98, blockSize: 64, layers: 4, heads: 4, width: 128, seed: 1 });
const optimizer = train.adamW({ learningRate: 1e-3, beta2: 0.99, weightDecay: 0.1 });
const trainer = new train.ModelTrainer({
  models: { gpt: model },
  optimizer,
  loss: ({ x, y }, { models }) => ({
    crossEntropy: losses.autoregressive.crossEntropy(models.gpt.apply(x, { training: true }) as tf.Tensor, y!),
  }),
  clipNorm: 1,
  seed: 1,
});
const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
let seed = 10;

async function fitSide(): Promise<void> {
  await trainer.fit(data.sequenceBatches(ids, { blockSize: 64, batchSize: 12, seed: seed++, steps }), { steps: trainer.step + steps });
}
async function bareSide(): Promise<void> {
  const batches = data.sequenceBatches(ids, { blockSize: 64, batchSize: 12, seed: seed++ });
  for (let k = 0; k < steps; k++) {
    const { x, y } = batches.batch(k);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => losses.autoregressive.crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y) as tf.Scalar,
        variables,
      );
      const { scale, norm } = train.globalNormScale(grads, 1);
      (optimizer as unknown as { applyGradients(g: tf.NamedTensorMap, s: tf.Scalar): void }).applyGradients(grads, scale);
      return tf.stack([value, norm]);
    });
    await loss.data();
    tf.dispose([x, y, loss]);
  }
}

const sides = { trainer: fitSide, bare: bareSide };
const wall: Record<string, number[]> = { trainer: [], bare: [] };
const cpu: Record<string, number[]> = { trainer: [], bare: [] };
await fitSide();
await bareSide();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['trainer', 'bare'] as const) : (['bare', 'trainer'] as const);
  for (const side of order) {
    gc?.();
    const t0 = performance.now();
    const c0 = threadMs();
    await sides[side]();
    cpu[side]!.push((threadMs() - c0) / steps);
    wall[side]!.push((performance.now() - t0) / steps);
  }
}
const fmt = (v: number[]) => median(v).toFixed(2);
console.log(`wasm ${info.threads} threads, ${rounds} rounds of ${steps} steps, gc ${gc ? 'yes' : 'no'}`);
console.log(`trainer: wall ${fmt(wall.trainer!)} ms/step, calling-thread CPU ${fmt(cpu.trainer!)}`);
console.log(`bare:    wall ${fmt(wall.bare!)} ms/step, calling-thread CPU ${fmt(cpu.bare!)}`);
const pairs = (v: Record<string, number[]>) => v.trainer!.map((t, i) => ({ candidateMs: t, baselineMs: v.bare![i]! }));
const show = (p: ReturnType<typeof pairedOverhead>) =>
  `${p.medianPercent.toFixed(1)}% (95% CI ${formatInterval(p.ciLowPercent, p.ciHighPercent)})`;
console.log(`paired overhead: wall ${show(pairedOverhead(pairs(wall)))}, CPU ${show(pairedOverhead(pairs(cpu)))}`);

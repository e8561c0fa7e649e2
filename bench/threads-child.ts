/**
 * Child process of `threads.bench.ts` (not a suite: no `.bench.ts` suffix). The wasm backend's
 * thread count is fixed when it starts, so each count runs in a process of its own:
 *
 *     node --import ./bench/loader/register.mjs bench/threads-child.ts <threads> <quick: 0 | 1>
 *
 * starts wasm with `backends.use('wasm', { threads })`, times each workload (inputs and
 * models built outside the timed region, warm-up first) and prints one JSON line
 * `{ threads, samples: { <workload>: ms[] } }`.
 *
 * Workloads (issue 18's list):
 * - `matMul` 512×512·512×512;
 * - the DCGAN step of `dcgan-step.bench.ts` (TF DCGAN tutorial networks, Adam, batch 64);
 * - a GPT training step at nanoGPT's CPU configuration (4 layers, 4 heads, width 128, block 64,
 *   batch 12, vocabulary 98 as `examples/text-gpt`'s corpus, AdamW, gradient clipping to norm 1);
 * - a UNet noise-prediction step (base 32, multipliers [1, 2, 2], 2 residual blocks, GroupNorm 8,
 *   attention at 7×7, 28×28×1, batch 64, fused Adam).
 *
 * `quick` shrinks the batches (DCGAN 8, GPT 4, UNet 4) and the runs, for CI's smoke run.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';

import { backends, nets, train } from '../src/index.js';
import { dcgan } from './dcgan-step.bench.js';
import { makeGanStep } from './gan-step-common.js';
import { makeGptStep } from './gpt-step-common.js';
import { settle } from './harness.js';

/** One timed workload: its step (awaits its own results) and what it holds. */
interface Workload {
  step: () => Promise<void>;
  dispose: () => void;
}

const threads = Number(process.argv[2]);
const quick = process.argv[3] === '1';

function matMulWorkload(): Workload {
  const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
  const b = tf.randomNormal([512, 512], 0, 1, 'float32', 2);
  return { step: () => settle(() => tf.matMul(a, b)), dispose: () => tf.dispose([a, b]) };
}

function dcganWorkload(): Workload {
  const { generator, discriminator } = dcgan();
  const { step, dispose } = makeGanStep(generator, discriminator, 100, quick ? 8 : 64, [28, 28, 1]);
  return {
    step,
    dispose: () => {
      dispose();
      generator.dispose();
      discriminator.dispose();
    },
  };
}

/** A training step as `train.ModelTrainer` runs it with `clipNorm`: gradients, clip, update. */
function clippedStep(optimizer: tf.Optimizer, variables: tf.Variable[], loss: () => tf.Scalar, clipNorm?: number): () => Promise<void> {
  return async () => {
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, variables);
      optimizer.applyGradients(clipNorm === undefined ? grads : train.clipByGlobalNorm(grads, clipNorm).grads);
      return value;
    });
    await value.data();
    value.dispose();
  };
}

const trainable = (model: { trainableWeights: { read(): tf.Tensor }[] }) => model.trainableWeights.map((w) => w.read() as tf.Variable);

function gptWorkload(): Workload {
  // The step of transformer-step.bench.ts (β2 0.99, weight decay 0.1, clipping to norm 1).
  const { step, dispose } = makeGptStep({ batch: quick ? 4 : 12 });
  return { step, dispose };
}

function unetWorkload(): Workload {
  const batch = quick ? 4 : 64;
  const model = nets.unet({
    imageShape: [28, 28, 1],
    baseChannels: 32,
    channelMultipliers: [1, 2, 2],
    residualBlocks: 2,
    groups: 8,
    attentionAt: [7],
    seed: 1,
  });
  const optimizer = train.fusedAdam({ learningRate: 2e-4 });
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 5);
  const t = tf.floor(tf.randomUniform([batch, 1], 0, 1000, 'float32', 6));
  const noise = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 7);
  const loss = () => tf.losses.meanSquaredError(noise, model.apply([x, t], { training: true }) as tf.Tensor) as tf.Scalar;
  return {
    step: clippedStep(optimizer, trainable(model), loss),
    dispose: () => {
      tf.dispose([x, t, noise]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Each workload with its warm-up and timed runs (full size, quick). */
const WORKLOADS: [name: string, make: () => Workload, warmup: number, runs: number][] = [
  ['matMul', matMulWorkload, quick ? 2 : 5, quick ? 5 : 20],
  ['dcgan', dcganWorkload, 1, quick ? 1 : 5],
  ['gpt', gptWorkload, quick ? 1 : 2, quick ? 2 : 8],
  ['unet', unetWorkload, 1, quick ? 1 : 3],
];

const info = await backends.use('wasm', { threads });
const samples: Record<string, number[]> = {};
for (const [name, make, warmup, runs] of WORKLOADS) {
  const workload = make();
  for (let i = 0; i < warmup; i++) await workload.step();
  samples[name] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await workload.step();
    samples[name].push(performance.now() - t0);
  }
  workload.dispose();
}
console.log(JSON.stringify({ threads: info.threads, samples }));

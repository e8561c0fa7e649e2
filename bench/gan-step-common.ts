/**
 * Shared pieces of the GAN-step benchmarks (not a suite: no `.bench.ts` suffix): one
 * adversarial step (discriminator update, then generator update, non-saturating losses on
 * logits, two Adam optimizers), its useful FLOP count, and plain-kernel throughput probes for
 * the roofline.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { settle, time } from './harness.js';

/** One layer's forward multiply-adds per example, and whether it is its network's first layer. */
export interface LayerCost {
  macs: number;
  first: boolean;
}

/**
 * Useful FLOPs per example of one step (D update + G update), counting only needed gradients:
 * D update = G fwd + 2·D fwd + 2·(D dW + D dX except the first layer);
 * G update = G fwd + D fwd + D dX (all layers) + G dW + G dX except the first layer.
 */
export function stepFlopsPerExample(generator: LayerCost[], discriminator: LayerCost[]): number {
  const sum = (ls: LayerCost[], skipFirst = false) => ls.reduce((s, l) => s + (skipFirst && l.first ? 0 : l.macs), 0);
  const g = sum(generator);
  const d = sum(discriminator);
  const dUpdate = g + 2 * d + 2 * (d + sum(discriminator, true));
  const gUpdate = g + d + d + g + sum(generator, true);
  return 2 * (dUpdate + gUpdate);
}

/**
 * A GAN step on `generator`/`discriminator` with fresh random data of batch `batch`, each network
 * updated by its own `optimizer()` (default `tf.train.adam(2e-4, 0.5)`).
 */
export function makeGanStep(
  generator: tfl.LayersModel,
  discriminator: tfl.LayersModel,
  latent: number,
  batch: number,
  imageShape: number[],
  optimizer: () => tf.Optimizer = () => tf.train.adam(2e-4, 0.5),
): { step: () => Promise<void>; dispose: () => void } {
  const dOpt = optimizer();
  const gOpt = optimizer();
  const vars = (m: tfl.LayersModel) => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const dVars = vars(discriminator);
  const gVars = vars(generator);
  const z = tf.randomNormal([batch, latent]);
  const real = tf.randomUniform([batch, ...imageShape], -1, 1);
  const logits = (x: tf.Tensor) => discriminator.apply(x, { training: true }) as tf.Tensor;
  const fake = () => generator.apply(z, { training: true }) as tf.Tensor;
  const step = async () => {
    const losses = tf.tidy(() => {
      const d = dOpt.minimize(
        () => tf.add(tf.mean(tf.softplus(tf.neg(logits(real)))), tf.mean(tf.softplus(logits(fake())))) as tf.Scalar,
        true,
        dVars,
      )!;
      const g = gOpt.minimize(() => tf.mean(tf.softplus(tf.neg(logits(fake())))) as tf.Scalar, true, gVars)!;
      return tf.stack([d, g]);
    });
    await losses.data();
    losses.dispose();
  };
  const dispose = () => {
    tf.dispose([z, real]);
    dOpt.dispose();
    gOpt.dispose();
  };
  return { step, dispose };
}

/** GFLOP/s of a plain (untransposed, cached-weight) matMul [m,k]·[k,n] on the active backend. */
export async function matMulRate(m: number, k: number, n: number, runs: number): Promise<number> {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const { minMs } = await time(() => settle(() => tf.matMul(a, b)), { warmup: 1, runs });
  tf.dispose([a, b]);
  return (2 * m * k * n) / (minMs * 1e6);
}

/** GFLOP/s of a plain forward conv2d (stride `s`, 'same') on the active backend. */
export async function conv2dRate(
  xShape: [number, number, number, number],
  k: number,
  outChannels: number,
  s: number,
  runs: number,
): Promise<number> {
  const x = tf.randomNormal(xShape) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, xShape[3], outChannels]) as tf.Tensor4D;
  const { minMs } = await time(() => settle(() => tf.conv2d(x, w, s, 'same')), { warmup: 1, runs });
  tf.dispose([x, w]);
  const outPixels = Math.ceil(xShape[1] / s) * Math.ceil(xShape[2] / s);
  return (2 * xShape[0] * outPixels * k * k * xShape[3] * outChannels) / (minMs * 1e6);
}

/**
 * A roofline probe: plain forward kernels (cached-weight matMul [64,1024]·[1024,1024] and, when
 * `convFlops > 0`, conv2d [batch,14,14,64] * [5,5,64,128] stride 2) repeated until they do about
 * `denseFlops` and `convFlops` of work. Timed interleaved with a step, `step / probe · probe
 * FLOPs / step FLOPs` is the step's distance from its roofline under the same machine load.
 */
export function makeRooflineProbe(
  denseFlops: number,
  convFlops: number,
  batch: number,
): { run: () => Promise<void>; flops: number; dispose: () => void } {
  const a = tf.randomNormal([64, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  const x = tf.randomNormal([batch, 14, 14, 64]) as tf.Tensor4D;
  const w = tf.randomNormal([5, 5, 64, 128]) as tf.Tensor4D;
  const mmFlops = 2 * 64 * 1024 * 1024;
  const convOnce = 2 * batch * 7 * 7 * 25 * 64 * 128;
  const mmReps = Math.max(1, Math.round(denseFlops / mmFlops));
  const convReps = convFlops > 0 ? Math.max(1, Math.round(convFlops / convOnce)) : 0;
  const run = async () => {
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < mmReps; i++) outs.push(tf.matMul(a, b));
    for (let i = 0; i < convReps; i++) outs.push(tf.conv2d(x, w, 2, 'same'));
    await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
  };
  return { run, flops: mmReps * mmFlops + convReps * convOnce, dispose: () => tf.dispose([a, b, x, w]) };
}

/**
 * A load-robust companion to `mlp-gan-step.bench.ts` (not a suite): on a machine shared with
 * other jobs, the suite's ratio of medians moves with the load. This times N alternating
 * (step, roofline probe) pairs and reports the median of the per-pair ratios and the ratio of
 * the minima, both scaled by probe FLOPs / step FLOPs (the same roofline definition).
 *
 *     node --import ./bench/loader/register.mjs bench/mlp-gan-roofline-pairs.ts [fused|stock] [pairs=30]
 *
 * `fused`: genblocks' kernels with `train.fusedAdam`; `stock`: genblocks' kernels with
 * `tf.train.adam`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';

import { backends, train } from '../src/index.js';
import { makeGanStep, makeRooflineProbe, stepFlopsPerExample, type LayerCost } from './gan-step-common.js';

const G_UNITS = [100, 256, 512, 1024, 784];
const D_UNITS = [784, 1024, 512, 256, 1];

function mlp(units: number[], output: 'tanh' | 'linear'): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [];
  for (let i = 1; i < units.length; i++) {
    const last = i === units.length - 1;
    layers.push(
      tfl.layers.dense({ units: units[i]!, ...(i === 1 ? { inputShape: [units[0]!] } : {}), activation: last ? output : 'linear' }),
    );
    if (!last) layers.push(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  return tfl.sequential({ layers });
}

const costs = (units: number[]): LayerCost[] => units.slice(1).map((u, i) => ({ macs: units[i]! * u, first: i === 0 }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const fused = process.argv[2] !== 'stock';
const pairs = Number(process.argv[3] ?? 30);
await backends.use('wasm');
const flops = stepFlopsPerExample(costs(G_UNITS), costs(D_UNITS)) * 64;
const generator = mlp(G_UNITS, 'tanh');
const discriminator = mlp(D_UNITS, 'linear');
const optimizer = fused ? () => train.fusedAdam({ learningRate: 2e-4, beta1: 0.5 }) : () => tf.train.adam(2e-4, 0.5);
const { step, dispose } = makeGanStep(generator, discriminator, 100, 64, [784], optimizer);
const probe = makeRooflineProbe(flops, 0, 64);
for (let i = 0; i < 3; i++) {
  await step();
  await probe.run();
}
const stepMs: number[] = [];
const probeMs: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < pairs; i++) {
  let t0 = performance.now();
  await step();
  const s = performance.now() - t0;
  t0 = performance.now();
  await probe.run();
  const p = performance.now() - t0;
  stepMs.push(s);
  probeMs.push(p);
  ratios.push(s / p);
}
const scale = probe.flops / flops;
console.log(
  `MLP GAN step, genblocks kernels + ${fused ? 'train.fusedAdam' : 'tf.train.adam'}, ${pairs} pairs: ` +
    `step median ${median(stepMs).toFixed(1)} ms (min ${Math.min(...stepMs).toFixed(1)}), ` +
    `probe median ${median(probeMs).toFixed(1)} ms (min ${Math.min(...probeMs).toFixed(1)}); ` +
    `x roofline: median of pair ratios ${(median(ratios) * scale).toFixed(3)}, ratio of minima ${((Math.min(...stepMs) / Math.min(...probeMs)) * scale).toFixed(3)}`,
);
probe.dispose();
dispose();
process.exit(0);

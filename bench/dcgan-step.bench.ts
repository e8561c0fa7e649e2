/**
 * One DCGAN-MNIST training step (TF DCGAN tutorial architecture, Adam, batch 64) on wasm with
 * genblocks' kernels, against its FLOP roofline (plain conv2d and matMul forward rates measured
 * in this process) and against the stock cpu backend per example (cpu at a small batch: its
 * Conv2DBackpropFilter runs at about 0.02 GFLOP/s). Stock wasm cannot run this step at all
 * (no Conv2DBackpropFilter, tfjs issue 8474).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { summarize, time, type BenchResult, type BenchSuite } from './harness.js';
import { conv2dRate, makeGanStep, matMulRate, stepFlopsPerExample, type LayerCost } from './gan-step-common.js';

/** The TF DCGAN tutorial networks (https://www.tensorflow.org/tutorials/generative/dcgan). */
function dcgan(): { generator: tfl.LayersModel; discriminator: tfl.LayersModel } {
  const generator = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [100], units: 7 * 7 * 256, useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU(),
      tfl.layers.reshape({ targetShape: [7, 7, 256] }),
      tfl.layers.conv2dTranspose({ filters: 128, kernelSize: 5, strides: 1, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU(),
      tfl.layers.conv2dTranspose({ filters: 64, kernelSize: 5, strides: 2, padding: 'same', useBias: false }),
      tfl.layers.batchNormalization(),
      tfl.layers.leakyReLU(),
      tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 5, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
    ],
  });
  const discriminator = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 64, kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU(),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.conv2d({ filters: 128, kernelSize: 5, strides: 2, padding: 'same' }),
      tfl.layers.leakyReLU(),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1 }),
    ],
  });
  return { generator, discriminator };
}

// Forward multiply-adds per example (transposed convs: input pixels · k² · Cin · Cout).
const G_COST: LayerCost[] = [
  { macs: 100 * 7 * 7 * 256, first: true },
  { macs: 49 * 25 * 256 * 128, first: false },
  { macs: 49 * 25 * 128 * 64, first: false },
  { macs: 196 * 25 * 64 * 1, first: false },
];
const D_COST: LayerCost[] = [
  { macs: 196 * 25 * 1 * 64, first: true },
  { macs: 49 * 25 * 64 * 128, first: false },
  { macs: 7 * 7 * 128, first: false },
];
// The dense layers' share of the step's FLOPs, timed at the matMul rate.
const DENSE_COST_G: LayerCost[] = [G_COST[0]!];
const DENSE_COST_D: LayerCost[] = [{ macs: D_COST[2]!.macs, first: false }];

async function stepResult(name: string, batch: number, warmup: number, runs: number): Promise<{ result: BenchResult; perExampleMs: number }> {
  const { generator, discriminator } = dcgan();
  const { step, dispose } = makeGanStep(generator, discriminator, 100, batch, [28, 28, 1]);
  const timing = await time(step, { warmup, runs });
  dispose();
  generator.dispose();
  discriminator.dispose();
  return { result: { name, size: `batch ${batch}`, timing }, perExampleMs: timing.medianMs / batch };
}

const suite: BenchSuite = {
  name: 'dcgan-step',
  backends: ['wasm'],
  async run(ctx) {
    const batch = ctx.quick ? 16 : 64;
    const wasm = await stepResult('DCGAN step, genblocks wasm kernels', batch, 1, ctx.quick ? 2 : 5);
    const flopsPerExample = stepFlopsPerExample(G_COST, D_COST);
    const denseFlops = stepFlopsPerExample(DENSE_COST_G, DENSE_COST_D);
    const probeRuns = ctx.quick ? 3 : 8;
    const convRate = await conv2dRate([batch, 14, 14, 64], 5, 128, 2, probeRuns);
    const mmRate = await matMulRate(batch, 1024, 1024, probeRuns);
    const flops = flopsPerExample * batch;
    const roofMs = ((flopsPerExample - denseFlops) * batch) / (convRate * 1e6) + (denseFlops * batch) / (mmRate * 1e6);
    // Stock cpu, same step, small batch, per example (the cpu Conv2DBackpropFilter is a naive loop).
    const cpuBatch = ctx.quick ? 1 : 8;
    await tf.setBackend('cpu');
    const cpu = await stepResult('DCGAN step, stock cpu', cpuBatch, 0, 1);
    await tf.setBackend('wasm');
    const ratio = cpu.perExampleMs / wasm.perExampleMs;
    wasm.result.baseline = { name: `stock cpu per example (batch ${cpuBatch}), scaled`, timing: summarize([cpu.perExampleMs * batch]) };
    wasm.result.ratio = ratio;
    wasm.result.extra = {
      'GFLOP/step': flops / 1e9,
      'plain conv2d GFLOP/s': convRate,
      'plain matMul GFLOP/s': mmRate,
      'roofline ms': roofMs,
      'x roofline': wasm.result.timing.medianMs / roofMs,
      'effective GFLOP/s': flops / (wasm.result.timing.medianMs * 1e6),
      'cpu effective GFLOP/s': (flopsPerExample * cpuBatch) / (cpu.result.timing.medianMs * 1e6),
      'per-example speed-up vs cpu': ratio,
    };
    return [wasm.result];
  },
};

export default suite;

/**
 * One DCGAN-MNIST training step (TF DCGAN tutorial architecture, Adam, batch 64) on wasm with
 * genblocks' kernels, against its FLOP roofline (plain conv2d and matMul forward rates measured
 * in this process, and interleaved plain kernels of the same FLOPs) and against the stock cpu
 * backend per example (cpu at batch 8, skipped with `--quick`: its Conv2DBackpropFilter runs at
 * about 0.02 GFLOP/s). Stock wasm cannot run this step at all
 * (no Conv2DBackpropFilter, tfjs issue 8474). Beside PyTorch's CPU step on the same nets where
 * PyTorch is present (bench/pytorch.ts; skipped with `--quick`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { compare, time, type BenchResult, type BenchSuite } from './harness.js';
import { conv2dRate, makeGanStep, makeRooflineProbe, matMulRate, stepFlopsPerExample, type LayerCost } from './gan-step-common.js';
import { pytorchColumns, trainableParams } from './pytorch.js';

/** The TF DCGAN tutorial networks (https://www.tensorflow.org/tutorials/generative/dcgan); also used by threads.bench.ts. */
export function dcgan(): { generator: tfl.LayersModel; discriminator: tfl.LayersModel } {
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

async function stepResult(
  name: string,
  batch: number,
  warmup: number,
  runs: number,
  probe?: { run: () => Promise<void>; name: string },
): Promise<{ result: BenchResult; perExampleMs: number }> {
  const { generator, discriminator } = dcgan();
  const { step, dispose } = makeGanStep(generator, discriminator, 100, batch, [28, 28, 1]);
  let result: BenchResult;
  if (probe) {
    result = await compare(name, step, probe.name, probe.run, { warmup, runs, size: `batch ${batch}` });
  } else {
    result = { name, size: `batch ${batch}`, timing: await time(step, { warmup, runs }) };
  }
  dispose();
  generator.dispose();
  discriminator.dispose();
  return { result, perExampleMs: result.timing.medianMs / batch };
}

const suite: BenchSuite = {
  name: 'dcgan-step',
  backends: ['wasm'],
  async run(ctx) {
    const batch = ctx.quick ? 16 : 64;
    const flopsPerExample = stepFlopsPerExample(G_COST, D_COST);
    const denseFlops = stepFlopsPerExample(DENSE_COST_G, DENSE_COST_D);
    const flops = flopsPerExample * batch;
    // Roofline under the same load: plain conv2d and matMul forwards of the step's FLOPs, interleaved.
    const probe = makeRooflineProbe(denseFlops * batch, (flopsPerExample - denseFlops) * batch, batch);
    const wasm = await stepResult('DCGAN step, genblocks wasm kernels', batch, 1, ctx.quick ? 2 : 5, {
      run: probe.run,
      name: 'plain conv2d + matMul forwards, same FLOPs',
    });
    const xRoofline = (wasm.result.timing.medianMs / wasm.result.baseline!.timing.medianMs) * (probe.flops / flops);
    probe.dispose();
    const probeRuns = ctx.quick ? 3 : 8;
    const convRate = await conv2dRate([batch, 14, 14, 64], 5, 128, 2, probeRuns);
    const mmRate = await matMulRate(batch, 1024, 1024, probeRuns);
    const roofMs = ((flopsPerExample - denseFlops) * batch) / (convRate * 1e6) + (denseFlops * batch) / (mmRate * 1e6);
    // Stock cpu, same step, batch 8, per example (its Conv2DBackpropFilter is a naive loop at about
    // 0.02 GFLOP/s: about 80 s for one step). Skipped with --quick.
    const results: BenchResult[] = [wasm.result];
    let ratio = Number.NaN;
    if (!ctx.quick) {
      const cpuBatch = 8;
      await tf.setBackend('cpu');
      const cpu = await stepResult('DCGAN step, stock cpu', cpuBatch, 0, 1);
      await tf.setBackend('wasm');
      ratio = cpu.perExampleMs / wasm.perExampleMs;
      cpu.result.extra = {
        'cpu ms per example': cpu.perExampleMs,
        'wasm ms per example': wasm.perExampleMs,
        'per-example speed-up of genblocks wasm': ratio,
        'cpu effective GFLOP/s': (flopsPerExample * cpuBatch) / (cpu.result.timing.medianMs * 1e6),
      };
      results.push(cpu.result);
    }
    wasm.result.extra = {
      'GFLOP/step': flops / 1e9,
      'effective GFLOP/s': flops / (wasm.result.timing.medianMs * 1e6),
      'x roofline (interleaved probe)': xRoofline,
      'plain conv2d GFLOP/s (best run)': convRate,
      'plain matMul GFLOP/s (best run)': mmRate,
      'x roofline at best-run rates': wasm.result.timing.medianMs / roofMs,
      ...(ctx.quick ? {} : { 'per-example speed-up vs stock cpu': ratio }),
    };
    const counted = dcgan();
    const params = trainableParams(counted.generator, counted.discriminator);
    counted.generator.dispose();
    counted.discriminator.dispose();
    Object.assign(wasm.result.extra, await pytorchColumns('dcgan', wasm.result.timing.medianMs, params, ctx, batch));
    return results;
  },
};

export default suite;

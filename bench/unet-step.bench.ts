/**
 * The diffusion UNet of the kernels issue (nets.unet: base 32 channels, multipliers [1, 2, 2], two
 * residual blocks per level, GroupNorm 8, SiLU, attention at 7x7, sinusoidal time embedding,
 * nearest upsampling; 28x28x1, batch 64) on wasm with genblocks' kernels: one training step
 * (`diffusion.trainingLoss`, epsilon MSE on the linear schedule, `train.fusedAdam` 5e-4) and one
 * sampling step (one forward pass without gradients, the network call of every sampler step),
 * each against its FLOP roofline (plain conv2d and matMul forwards of the same FLOPs, interleaved,
 * and the best-run plain rates), and beside PyTorch's CPU step on the same net where PyTorch is
 * present (bench/pytorch.ts; skipped with `--quick`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { diffusion, nets, train } from '../src/index.js';
import { compare, settle, type BenchResult, type BenchSuite } from './harness.js';
import { conv2dRate, makeRooflineProbe, matMulRate } from './gan-step-common.js';
import { pytorchColumns, trainableParams, type PytorchNet } from './pytorch.js';

/**
 * Forward multiply-adds per example of a model's products, from its layers' shapes: `Conv2D`
 * (output pixels · k² · Cin · Cout), `Dense` (rows · in · out) and `SpatialAttention` (the qkv
 * and output projections, N·C·4C, and q·kᵀ and att·v, 2·N²·C for N = H·W positions). Element-wise
 * work (normalisation, activations, upsampling, additions) is not counted: it is the distance
 * from the roofline. `firstConv` is the first convolution's share (its input needs no gradient).
 */
export function productMacs(model: tfl.LayersModel): { conv: number; dense: number; firstConv: number } {
  let conv = 0;
  let dense = 0;
  let firstConv = -1;
  const perExample = (shape: tfl.Shape | tfl.Shape[]) => (shape as number[]).slice(1, -1).reduce((a, b) => a * b, 1);
  for (const layer of model.layers) {
    const name = layer.getClassName();
    const kernel = (layer.trainableWeights[0]?.shape ?? []) as number[];
    if (name === 'Conv2D') {
      const macs = perExample(layer.outputShape) * kernel.reduce((a, b) => a * b, 1);
      if (firstConv < 0) firstConv = macs;
      conv += macs;
    } else if (name === 'Dense') {
      dense += perExample(layer.outputShape) * kernel[0]! * kernel[1]!;
    } else if (name === 'genblocks>SpatialAttention') {
      const [, h, w, c] = layer.outputShape as number[];
      const n = h! * w!;
      dense += n * c! * 4 * c! + 2 * n * n * c!;
    }
  }
  return { conv, dense, firstConv: Math.max(firstConv, 0) };
}

const suite: BenchSuite = {
  name: 'unet-step',
  backends: ['wasm'],
  async run(ctx) {
    // --quick: a small UNet of the same structure (the smoke test only checks that it runs).
    const [side, base, multipliers, blocks, batch]: [number, number, number[], number, number] = ctx.quick
      ? [8, 8, [1, 2], 1, 2]
      : [28, 32, [1, 2, 2], 2, 64];
    const deepest = side / 2 ** (multipliers.length - 1);
    const size = `batch ${batch}, ${side}x${side}x1, base ${base}, [${multipliers.join(', ')}], ${blocks} res blocks, attention at ${deepest}x${deepest}`;
    const model = nets.unet({
      imageShape: [side, side, 1],
      baseChannels: base,
      channelMultipliers: multipliers,
      residualBlocks: blocks,
      attentionAt: [deepest],
      groups: 8,
      seed: 1,
    });
    const params = trainableParams(model);
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const schedule = diffusion.noiseSchedule({ kind: 'linear', timesteps: 1000 });
    const optimizer = train.fusedAdam({ learningRate: 5e-4 });
    const x0 = tf.randomUniform([batch, side, side, 1], -1, 1, 'float32', 1);
    const t = tf.fill([batch, 1], 500);
    let seed = 0;
    const trainStep = () =>
      settle(() => optimizer.minimize(() => diffusion.trainingLoss(model, x0, { schedule, seed: seed++ }), true, variables)!);
    const sampleStep = () => settle(() => model.apply([x0, t], { training: false }) as tf.Tensor);

    // Training: forward, then input and weight gradients (2x forward), less the first conv's input gradient.
    const macs = productMacs(model);
    const trainConv = 2 * batch * (3 * macs.conv - macs.firstConv);
    const trainDense = 2 * batch * 3 * macs.dense;
    const sampleConv = 2 * batch * macs.conv;
    const sampleDense = 2 * batch * macs.dense;
    const runs = ctx.quick ? 2 : 5;
    const probeRuns = ctx.quick ? 3 : 8;
    const convRate = await conv2dRate([batch, 14, 14, 64], 5, 128, 2, probeRuns);
    const mmRate = await matMulRate(64, 1024, 1024, probeRuns);

    const measure = async (name: string, step: () => Promise<void>, convFlops: number, denseFlops: number, net: PytorchNet) => {
      const probe = makeRooflineProbe(denseFlops, convFlops, batch);
      const result: BenchResult = await compare(name, step, 'plain conv2d + matMul forwards, same FLOPs', probe.run, {
        warmup: 1,
        runs,
        size,
      });
      probe.dispose();
      const flops = convFlops + denseFlops;
      const roofMs = convFlops / (convRate * 1e6) + denseFlops / (mmRate * 1e6);
      result.extra = {
        'GFLOP/step': flops / 1e9,
        'effective GFLOP/s': flops / (result.timing.medianMs * 1e6),
        'x roofline (interleaved probe)': (result.timing.medianMs / result.baseline!.timing.medianMs) * (probe.flops / flops),
        'plain conv2d GFLOP/s (best run)': convRate,
        'plain matMul GFLOP/s (best run)': mmRate,
        'x roofline at best-run rates': result.timing.medianMs / roofMs,
        ...(await pytorchColumns(net, result.timing.medianMs, params, ctx, batch)),
      };
      return result;
    };
    const results = [
      await measure(
        'UNet train step (diffusion.trainingLoss + train.fusedAdam), genblocks wasm kernels',
        trainStep,
        trainConv,
        trainDense,
        'unet',
      ),
      await measure(
        'UNet sampling step (one forward, no gradients), genblocks wasm kernels',
        sampleStep,
        sampleConv,
        sampleDense,
        'unet-sample',
      ),
    ];
    tf.dispose([x0, t]);
    optimizer.dispose();
    model.dispose();
    return results;
  },
};

export default suite;

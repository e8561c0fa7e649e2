/**
 * One MLP-GAN training step on wasm (G 100-256-512-1024-784 tanh, D 784-1024-512-256-1,
 * LeakyReLU 0.2, batch 64, Adam(2e-4, 0.5)): genblocks' kernels with `train.fusedAdam` against
 * stock tfjs wasm with `tf.train.adam` (kernels toggled in the same process, interleaved), and
 * against the step's FLOP roofline at the plain-matMul rate measured in this process, both with
 * `train.fusedAdam` and with `tf.train.adam` on genblocks' kernels; and beside PyTorch's CPU step
 * on the same nets where PyTorch is present (bench/pytorch.ts; skipped with `--quick`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { installWasmKernels, uninstallWasmKernels } from '../src/internal.js';
import { train } from '../src/index.js';
import { compare, type BenchSuite } from './harness.js';
import { makeGanStep, makeRooflineProbe, matMulRate, stepFlopsPerExample, type LayerCost } from './gan-step-common.js';
import { pytorchColumns, trainableParams } from './pytorch.js';

export const G_UNITS = [100, 256, 512, 1024, 784];
export const D_UNITS = [784, 1024, 512, 256, 1];

export function mlp(units: number[], hidden: 'leakyrelu', output: 'tanh' | 'linear'): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [];
  for (let i = 1; i < units.length; i++) {
    const last = i === units.length - 1;
    layers.push(
      tfl.layers.dense({ units: units[i]!, ...(i === 1 ? { inputShape: [units[0]!] } : {}), activation: last ? output : 'linear' }),
    );
    if (!last && hidden === 'leakyrelu') layers.push(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  return tfl.sequential({ layers });
}

const costs = (units: number[]): LayerCost[] => units.slice(1).map((u, i) => ({ macs: units[i]! * u, first: i === 0 }));

const suite: BenchSuite = {
  name: 'mlp-gan-step',
  backends: ['wasm'],
  async run(ctx) {
    const batch = 64;
    const generator = mlp(G_UNITS, 'leakyrelu', 'tanh');
    const discriminator = mlp(D_UNITS, 'leakyrelu', 'linear');
    // Two steps on the same networks: genblocks' fused Adam, and tf.train.adam (stock baseline).
    const fused = makeGanStep(generator, discriminator, 100, batch, [784], () => train.fusedAdam({ learningRate: 2e-4, beta1: 0.5 }));
    const stock = makeGanStep(generator, discriminator, 100, batch, [784], () => tf.train.adam(2e-4, 0.5));
    const runs = ctx.quick ? 3 : 10;
    const result = await compare(
      'MLP GAN step, genblocks wasm kernels + train.fusedAdam',
      async () => {
        installWasmKernels();
        await fused.step();
      },
      'stock tfjs wasm + tf.train.adam',
      async () => {
        uninstallWasmKernels();
        await stock.step();
      },
      { warmup: 1, runs, size: `batch ${batch}` },
    );
    installWasmKernels();
    const flops = stepFlopsPerExample(costs(G_UNITS), costs(D_UNITS)) * batch;
    const rate = await matMulRate(batch, 1024, 1024, ctx.quick ? 5 : 15);
    result.extra = {
      'GFLOP/step': flops / 1e9,
      'effective GFLOP/s': flops / (result.timing.medianMs * 1e6),
      'stock effective GFLOP/s': flops / (result.baseline!.timing.medianMs * 1e6),
      'plain matMul GFLOP/s (best run)': rate,
      'x roofline at best-run rate': (result.timing.medianMs * rate * 1e6) / flops,
    };
    // Roofline under the same load: the step against plain matMuls of the same FLOPs, interleaved.
    const probe = makeRooflineProbe(flops, 0, batch);
    const probeName = `plain matMul x${Math.round(probe.flops / (2 * 64 * 1024 * 1024))} (64x1024x1024)`;
    const roofline = async (name: string, step: () => Promise<void>) => {
      const roof = await compare(name, step, probeName, probe.run, { warmup: 1, runs, size: `batch ${batch}` });
      const xRoofline = (roof.timing.medianMs / roof.baseline!.timing.medianMs) * (probe.flops / flops);
      roof.extra = {
        'x roofline': xRoofline,
        'plain matMul GFLOP/s (interleaved median)': probe.flops / (roof.baseline!.timing.medianMs * 1e6),
      };
      return roof;
    };
    const roofFused = await roofline('MLP GAN step (genblocks kernels + train.fusedAdam) vs its roofline', fused.step);
    const roofStock = await roofline('MLP GAN step (genblocks kernels + tf.train.adam) vs its roofline', stock.step);
    probe.dispose();
    Object.assign(
      result.extra,
      await pytorchColumns('mlp-gan', result.timing.medianMs, trainableParams(generator, discriminator), ctx, batch),
    );
    fused.dispose();
    stock.dispose();
    generator.dispose();
    discriminator.dispose();
    return [result, roofFused, roofStock];
  },
};

export default suite;

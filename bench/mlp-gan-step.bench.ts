/**
 * One MLP-GAN training step on wasm (G 100-256-512-1024-784 tanh, D 784-1024-512-256-1,
 * LeakyReLU 0.2, batch 64, Adam): genblocks' kernels against stock tfjs wasm (kernels toggled
 * in the same process, interleaved), and against the step's FLOP roofline at the plain-matMul
 * rate measured in this process.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { installWasmKernels, uninstallWasmKernels } from '../src/backends/wasm/install.js';
import { compare, type BenchSuite } from './harness.js';
import { makeGanStep, makeRooflineProbe, matMulRate, stepFlopsPerExample, type LayerCost } from './gan-step-common.js';

const G_UNITS = [100, 256, 512, 1024, 784];
const D_UNITS = [784, 1024, 512, 256, 1];

function mlp(units: number[], hidden: 'leakyrelu', output: 'tanh' | 'linear'): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [];
  for (let i = 1; i < units.length; i++) {
    const last = i === units.length - 1;
    layers.push(tfl.layers.dense({ units: units[i]!, ...(i === 1 ? { inputShape: [units[0]!] } : {}), activation: last ? output : 'linear' }));
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
    const { step, dispose } = makeGanStep(generator, discriminator, 100, batch, [784]);
    const runs = ctx.quick ? 3 : 10;
    const result = await compare(
      'MLP GAN step, genblocks wasm kernels',
      async () => {
        installWasmKernels();
        await step();
      },
      'stock tfjs wasm',
      async () => {
        uninstallWasmKernels();
        await step();
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
    const roof = await compare('MLP GAN step vs its roofline', step, `plain matMul x${Math.round(probe.flops / (2 * 64 * 1024 * 1024))} (64x1024x1024)`, probe.run, { warmup: 1, runs, size: `batch ${batch}` });
    const xRoofline = (roof.timing.medianMs / roof.baseline!.timing.medianMs) * (probe.flops / flops);
    roof.extra = { 'x roofline': xRoofline, 'plain matMul GFLOP/s (interleaved median)': probe.flops / (roof.baseline!.timing.medianMs * 1e6) };
    probe.dispose();
    dispose();
    generator.dispose();
    discriminator.dispose();
    return [result, roof];
  },
};

export default suite;

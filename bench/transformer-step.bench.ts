/**
 * One GPT training step at nanoGPT's CPU configuration (nets.gpt: 4 layers, 4 heads, width 128,
 * block 64, batch 12, vocabulary 98, dropout 0; cross entropy; train.adamW with β2 0.99 and
 * weight decay 0.1 on the matrices; gradients clipped to global norm 1, as examples/text-gpt's
 * `ModelTrainer` does) on wasm with genblocks' kernels, against its FLOP roofline (plain matMuls
 * of the same FLOPs, interleaved, and the best-run plain matMul rate), and beside PyTorch's CPU
 * step on the same net where PyTorch is present (bench/pytorch.ts; skipped with `--quick`).
 */
import { compare, type BenchSuite } from './harness.js';
import { makeRooflineProbe, matMulRate } from './gan-step-common.js';
import { makeGptStep } from './gpt-step-common.js';
import { pytorchColumns, trainableParams } from './pytorch.js';

/**
 * FLOPs of one training step of a GPT (nanoGPT's `estimate_mfu` count): per token, forward
 * 2·(12·L·C² + V·C) for the linear maps and the tied head plus 4·L·T·C for q·kᵀ and att·v (full
 * T×T products, as computed), and the backward pass twice the forward (input and weight gradients).
 */
export function gptStepFlops(batch: number, block: number, layers: number, width: number, vocab: number): number {
  const perToken = 6 * (12 * layers * width * width + vocab * width) + 12 * layers * block * width;
  return perToken * batch * block;
}

const suite: BenchSuite = {
  name: 'transformer-step',
  backends: ['wasm'],
  async run(ctx) {
    const [vocab, block, layers, heads, width, batch] = ctx.quick ? [20, 16, 1, 2, 16, 2] : [98, 64, 4, 4, 128, 12];
    const size = `${layers} layers, ${heads} heads, width ${width}, [${batch}, ${block}], vocab ${vocab}`;
    const { model: gpt, step, dispose } = makeGptStep({ batch, block, vocab, layers, heads, width });
    const flops = gptStepFlops(batch, block, layers, width, vocab);
    const probe = makeRooflineProbe(flops, 0, batch);
    const probeName = `plain matMul x${Math.round(probe.flops / (2 * 64 * 1024 * 1024))} (64x1024x1024), same FLOPs`;
    const runs = ctx.quick ? 3 : 10;
    const result = await compare('GPT train step, genblocks wasm kernels + train.adamW + clipping', step, probeName, probe.run, {
      warmup: ctx.warmup,
      runs,
      size,
    });
    const rate = await matMulRate(64, 1024, 1024, ctx.quick ? 5 : 15);
    result.extra = {
      'GFLOP/step': flops / 1e9,
      'effective GFLOP/s': flops / (result.timing.medianMs * 1e6),
      'x roofline (interleaved probe)': (result.timing.medianMs / result.baseline!.timing.medianMs) * (probe.flops / flops),
      'plain matMul GFLOP/s (best run)': rate,
      'x roofline at best-run rate': (result.timing.medianMs * rate * 1e6) / flops,
      ...(await pytorchColumns('gpt', result.timing.medianMs, trainableParams(gpt), ctx, batch)),
    };
    probe.dispose();
    dispose();
    return [result];
  },
};

export default suite;

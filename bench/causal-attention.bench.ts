/**
 * Causal self-attention forward+backward on wasm (gradients of `sum(y·w)` for the input and the
 * projection weights), at nanoGPT's CPU configuration (batch 12, 4 heads, T = 64, width 128)
 * and a larger one (batch 64, 4 heads, T = 256, width 384); `--quick`: batch 2, T = 32.
 *
 * Written with plain tfjs ops (`nets.gpt`'s attention was not on main when this was written):
 *
 *     q, k, v = split(x·W_qkv)  →  [B, H, T, D]      (D = width / H)
 *     y = softmax(q·kᵀ/√D + mask)·v  →  [B, T, width]·W_o,   mask = −1e9 above the diagonal
 *
 * Reported against its FLOP roofline: every product of the forward pass and the two products
 * of each in the backward pass (3x the forward products, counting the full T x T scores as
 * tfjs computes them), timed at the rate of a plain matMul of the QKV projection's shape measured
 * in the same run (goal: within 1.5x). At the nanoGPT size it is also timed against the stock
 * wasm kernels (at the larger size the stock batched products take minutes).
 */
import * as tf from '@tensorflow/tfjs-core';

import { installWasmKernels, uninstallWasmKernels } from '../src/internal.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';

interface Config {
  batch: number;
  heads: number;
  T: number;
  width: number;
  stock: boolean;
}

/** Causal self-attention of x [B, T, C] (plain tfjs ops). */
function attention(x: tf.Tensor3D, wQkv: tf.Tensor2D, wOut: tf.Tensor2D, mask: tf.Tensor2D, heads: number): tf.Tensor3D {
  const [B, T, C] = x.shape;
  const D = C / heads;
  const qkv = tf.reshape(tf.matMul(tf.reshape(x, [B * T, C]), wQkv), [B, T, 3, heads, D]);
  const [q, k, v] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4])) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask);
  const y = tf.matMul(tf.softmax(scores), v); // [B, H, T, D]
  const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]);
  return tf.reshape(tf.matMul(merged, wOut), [B, T, C]);
}

/** FLOPs of the products of one forward+backward pass (3x the forward products). */
function attentionFlops({ batch, heads, T, width }: Config): number {
  const D = width / heads;
  const projections = 2 * batch * T * width * (3 * width + width);
  const scores = 2 * 2 * batch * heads * T * T * D; // q·kᵀ and att·v
  return 3 * (projections + scores);
}

const suite: BenchSuite = {
  name: 'causal-attention',
  backends: ['wasm'],
  async run(ctx) {
    const configs: Config[] = ctx.quick
      ? [{ batch: 2, heads: 4, T: 32, width: 128, stock: true }]
      : [
          { batch: 12, heads: 4, T: 64, width: 128, stock: true },
          { batch: 64, heads: 4, T: 256, width: 384, stock: false },
        ];
    const results: BenchResult[] = [];
    for (const config of configs) {
      const { batch, heads, T, width } = config;
      const x = tf.randomNormal([batch, T, width]) as tf.Tensor3D;
      const w = tf.randomNormal([batch, T, width]);
      const wQkv = tf.tidy(() => tf.mul(tf.randomNormal([width, 3 * width]), 0.05)) as tf.Tensor2D;
      const wOut = tf.tidy(() => tf.mul(tf.randomNormal([width, width]), 0.05)) as tf.Tensor2D;
      const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9)) as tf.Tensor2D;
      const step = async () => {
        const out = tf.tidy(() => {
          const f = (input: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(attention(input as tf.Tensor3D, a as tf.Tensor2D, b as tf.Tensor2D, mask, heads), w));
          return tf.grads(f)([x, wQkv, wOut]);
        });
        await Promise.all(out.map((t) => t.data()));
        tf.dispose(out);
      };
      // Roofline probe: the QKV projection's product, [B·T, C] x [C, 3C].
      const a = tf.randomNormal([batch * T, width]);
      const probe = async () => {
        const c = tf.matMul(a, wQkv);
        await c.data();
        c.dispose();
      };
      const size = `B ${batch}, H ${heads}, T ${T}, C ${width}`;
      const flops = attentionFlops(config);
      const probeFlops = 2 * batch * T * width * 3 * width;
      installWasmKernels();
      const r = await compare('causal self-attention fwd+bwd', step, 'roofline probe: matMul [B·T, C]x[C, 3C]', probe, { warmup: ctx.warmup, runs: ctx.quick ? 3 : 8, size });
      const rooflineMs = (r.baseline!.timing.medianMs * flops) / probeFlops;
      r.extra = { GFLOP: flops / 1e9, 'GFLOP/s': flops / (r.timing.medianMs * 1e6), 'roofline ms': rooflineMs, 'time / roofline': r.timing.medianMs / rooflineMs, goal: '≤ 1.5' };
      results.push(r);
      if (config.stock) {
        const s = await compare(
          'causal self-attention fwd+bwd',
          async () => {
            installWasmKernels();
            await step();
          },
          'stock wasm kernels',
          async () => {
            uninstallWasmKernels();
            await step();
          },
          { warmup: 1, runs: ctx.quick ? 3 : 5, size },
        );
        installWasmKernels();
        results.push(s);
      }
      tf.dispose([x, w, wQkv, wOut, mask, a]);
    }
    return results;
  },
};

export default suite;

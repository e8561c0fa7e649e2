/**
 * Causal self-attention on wasm (`CAUSAL_ATTENTION_KERNEL` and its gradient), read and written
 * in place on the heap. Composed of tfjs kernels, the attention core of a GPT block splits the
 * fused projection into heads (a transpose and an unstack), runs full `T x T` batched products
 * of which half is masked away, a mask, a scale and a softmax, merges the heads (a transpose),
 * and back: about a fifth of a GPT training step. Here one pass per (batch, head) pair reads
 * `q`, `k` and `v` where the fused projection wrote them, computes only the causal part (a
 * block of 4 queries against the keys up to its last one), fuses scale, mask and softmax, and
 * writes the merged heads; the gradient writes `d(qkv)` in the projection's layout:
 *
 *     P = softmax(s·q kᵀ + M),  O = P v,   s = 1/√D
 *     δ = rowsum(dO ⊙ O),  dS = s·P ⊙ (dO vᵀ − δ),  dq = dS k,  dk = dSᵀ q,  dv = Pᵀ dO
 *
 * (`rowsum(dP ⊙ P) = rowsum(dO ⊙ O)`, as FlashAttention uses). Pairs are shared out across the
 * heap kernels' threads, each computed by one thread in a fixed order: results are the same for
 * every thread count. Where the heads' width `D` is not a multiple of 4 or the heap kernels are
 * unavailable, the loops here (sums in float64) compute the same.
 *
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017, §3.2.1)
 * @see https://arxiv.org/abs/2205.14135 (Dao et al. 2022, FlashAttention, the backward pass)
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { CAUSAL_ATTENTION_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL } from '../causal-attention-kernel.js';
import { attentionScratch, heapKernels, heapKernelThreads, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, type WasmKernelArgs } from './types.js';

/** `[B, T, H, D]` of `qkv` `[B, T, 3·H·D]` with `heads` H, or an error. */
function dimensions(qkv: tf.TensorInfo, heads: number, kernel: string): [number, number, number, number] {
  const [b, t, width] = qkv.shape as [number, number, number];
  if (qkv.dtype !== 'float32' || qkv.shape.length !== 3 || !Number.isInteger(heads) || heads < 1 || width % (3 * heads) !== 0) {
    throw new Error(
      `${kernel}: expected qkv float32 [B, T, 3C] with 3·heads (${heads}) dividing 3C, received ${qkv.dtype} [${qkv.shape.join(',')}]`,
    );
  }
  return [b, t, heads, width / (3 * heads)];
}

function checkShape(x: tf.TensorInfo, shape: readonly number[], kernel: string, arg: string): void {
  if (x.dtype !== 'float32' || x.shape.length !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${kernel}: expected ${arg} float32 [${shape.join(',')}], received ${x.dtype} [${x.shape.join(',')}]`);
  }
}

/** The forward kernel: outputs `[out, probs]` (`[B, T, C]`, `[B, H, T, T]`). */
export function causalAttention({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const qkv = inputs.qkv!;
  const [b, t, h, d] = dimensions(qkv, attr<number>(attrs, 'heads'), CAUSAL_ATTENTION_KERNEL);
  const outs = [backend.makeOutput([b, t, h * d], 'float32'), backend.makeOutput([b, h, t, t], 'float32')];
  const scale = 1 / Math.sqrt(d);
  const kernels = heapKernels(backend);
  if (kernels != null && d % 4 === 0 && b * t > 0) {
    const scratch = backend.makeOutput([attentionScratch(t, d).forward * heapKernelThreads(backend)], 'float32');
    const p = (x: tf.TensorInfo) => heapPointer(backend, x);
    // The outputs and the scratch freed if the kernel throws (a worker failing).
    disposeOnThrow(backend, [...outs, scratch], () =>
      kernels.causalAttention(p(qkv), p(outs[0]!), p(outs[1]!), p(scratch), 0, b * h, t, h, d, scale),
    );
    backend.disposeData(scratch.dataId);
    return outs;
  }
  // Views after makeOutput (an allocation may grow the heap and detach earlier views).
  const x = backend.typedArrayFromHeap(qkv) as Float32Array;
  const o = backend.typedArrayFromHeap(outs[0]!) as Float32Array;
  const probs = backend.typedArrayFromHeap(outs[1]!) as Float32Array;
  const c = h * d;
  const e = new Float64Array(t);
  for (let bh = 0; bh < b * h; bh++) {
    const [q, k, v] = [0, c, 2 * c].map((part) => Math.floor(bh / h) * t * 3 * c + (bh % h) * d + part) as [number, number, number];
    for (let i = 0; i < t; i++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let f = 0; f < d; f++) dot += x[q + i * 3 * c + f]! * x[k + j * 3 * c + f]!;
        e[j] = dot * scale;
        max = Math.max(max, e[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += e[j] = Math.exp(e[j]! - max);
      const row = (bh * t + i) * t;
      for (let j = 0; j < t; j++) probs[row + j] = j <= i ? e[j]! / sum : 0;
      const at = (Math.floor(bh / h) * t + i) * c + (bh % h) * d;
      for (let f = 0; f < d; f++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += probs[row + j]! * x[v + j * 3 * c + f]!;
        o[at + f] = acc;
      }
    }
  }
  return outs;
}

/** The gradient kernel: output `d(qkv)` `[B, T, 3C]`. */
export function causalAttentionGrad({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo {
  const qkv = inputs.qkv!;
  const [b, t, h, d] = dimensions(qkv, attr<number>(attrs, 'heads'), CAUSAL_ATTENTION_GRAD_KERNEL);
  checkShape(inputs.dy!, [b, t, h * d], CAUSAL_ATTENTION_GRAD_KERNEL, 'dy');
  checkShape(inputs.out!, [b, t, h * d], CAUSAL_ATTENTION_GRAD_KERNEL, 'out');
  checkShape(inputs.probs!, [b, h, t, t], CAUSAL_ATTENTION_GRAD_KERNEL, 'probs');
  const dqkv = backend.makeOutput([b, t, 3 * h * d], 'float32');
  const scale = 1 / Math.sqrt(d);
  const kernels = heapKernels(backend);
  if (kernels != null && d % 4 === 0 && b * t > 0) {
    const scratch = backend.makeOutput([attentionScratch(t, d).backward * heapKernelThreads(backend)], 'float32');
    const p = (x: tf.TensorInfo) => heapPointer(backend, x);
    disposeOnThrow(backend, [dqkv, scratch], () =>
      kernels.causalAttentionGrad(
        ...[p(qkv), p(inputs.out!), p(inputs.probs!), p(inputs.dy!), p(dqkv), p(scratch)],
        ...[0, b * h, t, h, d, scale],
      ),
    );
    backend.disposeData(scratch.dataId);
    return dqkv;
  }
  const x = backend.typedArrayFromHeap(qkv) as Float32Array;
  const dy = backend.typedArrayFromHeap(inputs.dy!) as Float32Array;
  const o = backend.typedArrayFromHeap(inputs.out!) as Float32Array;
  const probs = backend.typedArrayFromHeap(inputs.probs!) as Float32Array;
  const dx = backend.typedArrayFromHeap(dqkv) as Float32Array;
  const c = h * d;
  const dk = new Float64Array(t * d);
  const dv = new Float64Array(t * d);
  const ds = new Float64Array(t);
  for (let bh = 0; bh < b * h; bh++) {
    const base = Math.floor(bh / h) * t * 3 * c + (bh % h) * d;
    const rowOf = (i: number) => (Math.floor(bh / h) * t + i) * c + (bh % h) * d;
    dk.fill(0);
    dv.fill(0);
    for (let i = 0; i < t; i++) {
      const g = rowOf(i);
      let delta = 0;
      for (let f = 0; f < d; f++) delta += dy[g + f]! * o[g + f]!;
      const row = (bh * t + i) * t;
      for (let j = 0; j <= i; j++) {
        let dp = 0;
        for (let f = 0; f < d; f++) dp += dy[g + f]! * x[base + 2 * c + j * 3 * c + f]!;
        ds[j] = scale * probs[row + j]! * (dp - delta);
        for (let f = 0; f < d; f++) {
          dk[j * d + f]! += ds[j]! * x[base + i * 3 * c + f]!;
          dv[j * d + f]! += probs[row + j]! * dy[g + f]!;
        }
      }
      for (let f = 0; f < d; f++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += ds[j]! * x[base + c + j * 3 * c + f]!;
        dx[base + i * 3 * c + f] = acc;
      }
    }
    for (let j = 0; j < t; j++) {
      for (let f = 0; f < d; f++) {
        dx[base + c + j * 3 * c + f] = dk[j * d + f]!;
        dx[base + 2 * c + j * 3 * c + f] = dv[j * d + f]!;
      }
    }
  }
  return dqkv;
}

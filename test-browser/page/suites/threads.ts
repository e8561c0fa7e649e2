/**
 * Threaded wasm: thread count and the time of a matMul and a conv2d, for the runner to compare
 * with a page loaded with one thread. Times are reported, never asserted.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { assert, check } from '../harness.js';

/** Median milliseconds of `f` (run to completion, result read back) over `repeats` calls. */
async function time(f: () => tf.Tensor, repeats: number): Promise<number> {
  const once = async () => {
    const start = performance.now();
    const t = f();
    await t.data();
    t.dispose();
    return performance.now() - start;
  };
  for (let i = 0; i < 3; i++) await once(); // warm-up (kernel setup, XNNPACK operators)
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(repeats / 2)]!;
}

export async function threadChecks(): Promise<void> {
  await check('wasm thread count and matMul / conv2d timings', async () => {
    assert(self.crossOriginIsolated, 'the page is cross-origin isolated (COOP/COEP), so SharedArrayBuffer exists');
    const threads = getThreadsCount();
    const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
    const b = tf.randomNormal([512, 512], 0, 1, 'float32', 2);
    const x = tf.randomNormal([8, 28, 28, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 32, 64], 0, 1, 'float32', 4) as tf.Tensor4D;
    const matMulMs = await time(() => tf.matMul(a, b), 25);
    const conv2dMs = await time(() => tf.conv2d(x, w, 1, 'same'), 15);
    tf.dispose([a, b, x, w]);
    return { threads, logicalCores: navigator.hardwareConcurrency, matMulMs, conv2dMs };
  });
}

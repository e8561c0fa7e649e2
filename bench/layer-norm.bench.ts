/**
 * `tf.layers.layerNormalization` forward+backward on wasm (the gradient of `sum(y·w)` with
 * respect to the input, gamma and beta), at a nanoGPT-CPU activation `[12·64, 128]` and a larger
 * transformer's `[64·256, 384]` (`[256, 128]` with `--quick`):
 *
 * - genblocks' kernels (broadcast Tile, one-reduction Tile gradient) against the stock wasm
 *   kernels and tfjs-core's Tile gradient, toggled in the same process and timed interleaved
 *   (at the small size only: see {@link STOCK_MAX_ROWS});
 * - the same against `tf.layers.batchNormalization` (training mode) of the same tensor with
 *   genblocks' kernels, the cost layer norm should approach (goal: no slower than 1.3x);
 * - genblocks' `layers.GroupNormalization` (8 groups; tfjs-layers has none) forward+backward at
 *   a UNet activation `[64, 28, 28, 32]` (`[8, 28, 28, 32]` with `--quick`) against batch
 *   normalization of the same tensor (goal: within 1.5x).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { layers } from '../src/index.js';
import { installWasmKernels, uninstallWasmKernels } from '../src/internal.js';
import { compare, type BenchResult, type BenchSuite } from './harness.js';

/** A layer's forward+backward: gradients of sum(layer(x)·w) for x and the layer's weights. */
function forwardBackward(layer: tfl.layers.Layer, x: tf.Tensor, w: tf.Tensor, training: boolean): () => Promise<void> {
  return async () => {
    const out = tf.tidy(() => {
      const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training }) as tf.Tensor, w));
      const weights = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, weights);
      return [tf.grad(f)(x), ...Object.values(grads)];
    });
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
  };
}

/**
 * The largest row count at which the stock kernels are timed. tfjs-core's Tile gradient adds one
 * `slice` of `dy` per tiled row (layer norm tiles gamma and beta over the rows), and the stock
 * wasm `Slice` copies its whole input out of the heap (`readSync`) on every call, so the stock
 * backward pass copies `rows² · width` floats: about 2 s at `[768, 128]` but, measured on a busy
 * 2-core machine, 45 s at `[2048, 384]` with a third of it system time (a fresh
 * 3 MB buffer per slice), which extrapolates to hours per call at `[64·256, 384]`. That is why the
 * full-size run printed nothing for many minutes.
 */
const STOCK_MAX_ROWS = 1024;

const suite: BenchSuite = {
  name: 'layer-norm',
  backends: ['wasm'],
  async run(ctx) {
    const results: BenchResult[] = [];
    const sizes: [number, number][] = ctx.quick
      ? [[256, 128]]
      : [
          [12 * 64, 128],
          [64 * 256, 384],
        ];
    const runs = ctx.quick ? 3 : 10;
    for (const [rows, width] of sizes) {
      const x = tf.randomNormal([rows, width]);
      const w = tf.randomNormal([rows, width]);
      const layerNorm = tfl.layers.layerNormalization({ axis: -1 });
      layerNorm.build([null, width]);
      const batchNorm = tfl.layers.batchNormalization({ axis: -1 });
      batchNorm.build([null, width]);
      const ln = forwardBackward(layerNorm, x, w, true);
      const bn = forwardBackward(batchNorm, x, w, true);
      const size = `[${rows}, ${width}]`;
      if (rows <= STOCK_MAX_ROWS) {
        results.push(
          await compare(
            'layerNormalization fwd+bwd',
            async () => {
              installWasmKernels();
              await ln();
            },
            'stock wasm kernels and Tile gradient',
            async () => {
              uninstallWasmKernels();
              await ln();
            },
            { warmup: ctx.warmup, runs, size },
          ),
        );
      }
      installWasmKernels();
      const against = await compare('layerNormalization fwd+bwd', ln, 'batchNormalization fwd+bwd (genblocks kernels)', bn, {
        warmup: ctx.warmup,
        runs,
        size,
      });
      against.extra = {
        'layer norm / batch norm': 1 / against.ratio!,
        goal: '≤ 1.3',
        ...(rows > STOCK_MAX_ROWS ? { stock: `not timed above ${STOCK_MAX_ROWS} rows (quadratic: see the bench)` } : {}),
      };
      results.push(against);
      for (const v of [...layerNorm.weights, ...batchNorm.weights]) v.dispose();
      tf.dispose([x, w]);
    }
    // Group normalization of a UNet activation against batch normalization of the same tensor.
    installWasmKernels();
    const shape: [number, number, number, number] = [ctx.quick ? 8 : 64, 28, 28, 32];
    const x = tf.randomNormal(shape);
    const w = tf.randomNormal(shape);
    const groupNorm = new layers.GroupNormalization({ groups: 8 });
    groupNorm.build([null, 28, 28, 32]);
    const batchNorm = tfl.layers.batchNormalization({ axis: -1 });
    batchNorm.build([null, 28, 28, 32]);
    const gn = await compare(
      'layers.GroupNormalization (8 groups) fwd+bwd',
      forwardBackward(groupNorm, x, w, true),
      'batchNormalization fwd+bwd (genblocks kernels)',
      forwardBackward(batchNorm, x, w, true),
      { warmup: ctx.warmup, runs, size: `[${shape.join(', ')}]` },
    );
    gn.extra = { 'group norm / batch norm': 1 / gn.ratio!, goal: '≤ 1.5' };
    results.push(gn);
    for (const v of [...groupNorm.weights, ...batchNorm.weights]) v.dispose();
    tf.dispose([x, w]);
    return results;
  },
};

export default suite;

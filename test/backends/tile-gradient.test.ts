/**
 * genblocks' `Tile` gradient (one reduction of `dy` viewed with the tiled axes split) against a
 * float64 reference summing every output position onto its source, `x[i mod s]`, on cpu and
 * wasm; and install/uninstall restoring tfjs-core's own gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { installTileGradient, tileGradientInstalled, uninstallTileGradient } from '../../src/backends/tile-gradient.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { randomArray, relativeError, rng } from './parity.js';

/** float64: dx[j] = Σ_{i : i mod s = j} dy[i], over the row-major positions of the tiled shape. */
function reference(dy: Float32Array, xShape: number[], reps: number[]): Float64Array {
  const outShape = xShape.map((s, d) => s * reps[d]!);
  const size = xShape.reduce((p, d) => p * d, 1);
  const dx = new Float64Array(size);
  const index = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < dy.length; i++) {
    let j = 0;
    for (let d = 0; d < outShape.length; d++) j = j * xShape[d]! + (index[d]! % xShape[d]!);
    dx[j]! += dy[i]!;
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return dx;
}

const CASES: [number[], number[]][] = [
  [
    [7, 1],
    [1, 9],
  ],
  [
    [1, 9],
    [7, 1],
  ],
  [
    [3, 4],
    [2, 3],
  ],
  [[5], [4]],
  [
    [2, 1, 3],
    [3, 5, 2],
  ],
  [
    [1, 1, 1, 6],
    [4, 3, 5, 1],
  ],
  [
    [2, 3],
    [1, 1],
  ],
];

describe.each(TEST_BACKENDS)('Tile gradient on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
    installTileGradient();
  });

  it.each(CASES)('x %j reps %j matches the float64 sum of the repetitions', (xShape, reps) => {
    const r = rng(xShape.length * 17 + reps[0]!);
    const outSize = xShape.reduce((p, d, i) => p * d * reps[i]!, 1);
    const dy = randomArray(r, outSize);
    const x = tf.zeros(xShape);
    const dx = tf.tidy(
      () =>
        tf
          .grad((t: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.tile(t, reps),
                tf.tensor(
                  dy,
                  xShape.map((s, d) => s * reps[d]!),
                ),
              ),
            ),
          )(x)
          .dataSync() as Float32Array,
    );
    const expected = Float32Array.from(reference(dy, xShape, reps));
    expect(relativeError(dx, expected)).toBeLessThanOrEqual(1e-6);
    x.dispose();
  });

  it('leaves no tensors behind', () => {
    const x = tf.ones([3, 1]);
    const f = () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.tile(t, [2, 5])))(x));
    f().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) f().dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('installTileGradient / uninstallTileGradient', () => {
  it('replaces and restores tfjs-core’s gradient, idempotently', () => {
    uninstallTileGradient();
    const stock = tf.getGradient('Tile');
    expect(tileGradientInstalled()).toBe(false);
    expect(installTileGradient()).toBe(true);
    expect(installTileGradient()).toBe(false);
    expect(tileGradientInstalled()).toBe(true);
    expect(tf.getGradient('Tile')).not.toBe(stock);
    uninstallTileGradient();
    expect(tf.getGradient('Tile')).toBe(stock);
    installTileGradient();
  });
});

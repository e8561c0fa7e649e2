/**
 * Gradients through the training-time attention and transformer block (src/layers): the wasm
 * path (head split by one transpose and an unstack, `q kᵀ` as a transposeB product, the attention
 * core's written-out gradient, GELU and layer-norm kernels, the linear maps' bias gradients as
 * products) gives the cpu backend's element-wise values and gradients to 1e-4 relative, at odd
 * sizes. (The core's gradient itself is checked against float64 central differences in
 * autoregressive-layers.test.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';

import { layers } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';
import { expectParity, randomArray, rng } from '../backends/parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

describe('attention and transformer-block gradients on wasm match cpu', () => {
  const [b, t, c, heads] = [4, 10, 16, 4]; // 40 rows: the wasm gemm path of the linear maps
  const r = rng(11);
  const values = (n: number, scale = 1) => randomArray(r, n).map((v) => v * scale);
  const x = values(b * t * c);
  const dy = values(b * t * c);
  const w = {
    qkvKernel: values(c * 3 * c, 0.3),
    qkvBias: values(3 * c, 0.1),
    projectionKernel: values(c * c, 0.3),
    projectionBias: values(c, 0.1),
    norm1Gamma: values(c).map((v) => v + 1),
    norm1Beta: values(c, 0.1),
    norm2Gamma: values(c).map((v) => v + 1),
    norm2Beta: values(c, 0.1),
    mlpKernel: values(c * 4 * c, 0.3),
    mlpBias: values(4 * c, 0.1),
    mlpProjectionKernel: values(4 * c * c, 0.2),
    mlpProjectionBias: values(c, 0.1),
  };
  const tensors = () => ({
    x: tf.tensor3d(x, [b, t, c]),
    dy: tf.tensor3d(dy, [b, t, c]),
    qkvKernel: tf.tensor2d(w.qkvKernel, [c, 3 * c]),
    qkvBias: tf.tensor1d(w.qkvBias),
    projectionKernel: tf.tensor2d(w.projectionKernel, [c, c]),
    projectionBias: tf.tensor1d(w.projectionBias),
    norm1Gamma: tf.tensor1d(w.norm1Gamma),
    norm1Beta: tf.tensor1d(w.norm1Beta),
    norm2Gamma: tf.tensor1d(w.norm2Gamma),
    norm2Beta: tf.tensor1d(w.norm2Beta),
    mlpKernel: tf.tensor2d(w.mlpKernel, [c, 4 * c]),
    mlpBias: tf.tensor1d(w.mlpBias),
    mlpProjectionKernel: tf.tensor2d(w.mlpProjectionKernel, [4 * c, c]),
    mlpProjectionBias: tf.tensor1d(w.mlpProjectionBias),
  });

  it('causalSelfAttention: output and the gradients of x and every weight', async () => {
    await expectParity('attention', () => {
      const { x: X, dy: DY, qkvKernel, qkvBias, projectionKernel, projectionBias } = tensors();
      const f = (xx: tf.Tensor, k1: tf.Tensor, b1: tf.Tensor, k2: tf.Tensor, b2: tf.Tensor) =>
        tf.sum(
          tf.mul(
            layers.causalSelfAttention(
              xx,
              {
                qkvKernel: k1 as tf.Tensor2D,
                qkvBias: b1 as tf.Tensor1D,
                projectionKernel: k2 as tf.Tensor2D,
                projectionBias: b2 as tf.Tensor1D,
              },
              { heads },
            ),
            DY,
          ),
        );
      const args = [X, qkvKernel, qkvBias, projectionKernel, projectionBias];
      return [tf.grads(f)(args), f(X, qkvKernel, qkvBias, projectionKernel, projectionBias)].flat();
    });
  });

  it('transformerBlock: output and the gradients of x and every weight', async () => {
    await expectParity('transformer block', () => {
      const { x: X, dy: DY, ...weights } = tensors();
      const names = Object.keys(weights) as (keyof typeof weights)[];
      const f = (...args: tf.Tensor[]) => {
        const v = Object.fromEntries(names.map((n, i) => [n, args[i + 1]!])) as Record<keyof typeof weights, tf.Tensor>;
        const blockWeights = {
          norm1Gamma: v.norm1Gamma as tf.Tensor1D,
          norm1Beta: v.norm1Beta as tf.Tensor1D,
          attention: {
            qkvKernel: v.qkvKernel as tf.Tensor2D,
            qkvBias: v.qkvBias as tf.Tensor1D,
            projectionKernel: v.projectionKernel as tf.Tensor2D,
            projectionBias: v.projectionBias as tf.Tensor1D,
          },
          norm2Gamma: v.norm2Gamma as tf.Tensor1D,
          norm2Beta: v.norm2Beta as tf.Tensor1D,
          mlpKernel: v.mlpKernel as tf.Tensor2D,
          mlpBias: v.mlpBias as tf.Tensor1D,
          mlpProjectionKernel: v.mlpProjectionKernel as tf.Tensor2D,
          mlpProjectionBias: v.mlpProjectionBias as tf.Tensor1D,
        };
        return tf.sum(tf.mul(layers.transformerBlock(args[0]!, blockWeights, { heads }), DY));
      };
      const args = [X, ...names.map((n) => weights[n])];
      return [...tf.grads(f)(args), f(...args)];
    });
  });
});

/**
 * The GPT training step that `transformer-step.bench.ts`, `threads-child.ts` and
 * `scripts/profile-gpt-kernels.ts` time (not a suite: no `.bench.ts` suffix): `nets.gpt` at
 * nanoGPT's CPU configuration by default (4 layers, 4 heads, width 128, block 64, batch 12,
 * vocabulary 98, dropout 0), cross entropy, gradients clipped to global norm 1 and
 * `train.adamW` (β2 0.99, weight decay 0.1 on the matrices), as `examples/text-gpt`'s
 * `ModelTrainer` runs it, and by the same path: with a fused Adam optimizer the trainer's
 * `clipNorm` computes only the norm and the clipping factor (`train.globalNormScale`) and the
 * optimizer scales each gradient in its own pass (`applyGradients(grads, scale)`), so this step
 * does the same. Fixed random ids and targets, built once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { losses, nets, train } from '../src/index.js';
import { settle } from './harness.js';

/** Size of the GPT step (defaults: nanoGPT's CPU configuration). */
export interface GptStepConfig {
  batch?: number;
  block?: number;
  vocab?: number;
  layers?: number;
  heads?: number;
  width?: number;
}

/** A GPT, its optimizer and inputs, and one training step (awaits its loss). */
export interface GptStep {
  model: tfl.LayersModel;
  variables: tf.Variable[];
  /** Loss and gradients, clipped to global norm 1, AdamW applied; resolves when done. */
  step: () => Promise<void>;
  dispose: () => void;
}

/** Builds {@link GptStep} (weights seeded: the same net in every process). */
export function makeGptStep(config: GptStepConfig = {}): GptStep {
  const { batch = 12, block = 64, vocab = 98, layers = 4, heads = 4, width = 128 } = config;
  const model = nets.gpt({ vocabSize: vocab, blockSize: block, layers, heads, width, seed: 1 });
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const optimizer = train.adamW({ learningRate: 1e-3, beta2: 0.99, weightDecay: 0.1 });
  const x = tf.randomUniformInt([batch, block], 0, vocab, 1);
  const y = tf.randomUniformInt([batch, block], 0, vocab, 2);
  const step = () =>
    settle(() => {
      const { value, grads } = tf.variableGrads(
        () => losses.autoregressive.crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y),
        variables,
      );
      // ModelTrainer's clipNorm with a fused Adam optimizer: the factor applied in Adam's pass.
      const { norm, scale } = train.globalNormScale(grads, 1);
      optimizer.applyGradients(grads, scale);
      return [value, norm];
    });
  return {
    model,
    variables,
    step,
    dispose: () => {
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

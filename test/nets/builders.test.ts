/**
 * Contract suite of the network builders (shape, dtype, finite values and gradients, logits,
 * memory), on every test backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectNoLeak, values } from '../helpers/memory.js';
import { type BuilderCase, canTrainConv, DISCRIMINATOR_CASES, GENERATOR_CASES } from './cases.js';

const ALL: BuilderCase[] = [...GENERATOR_CASES, ...DISCRIMINATOR_CASES];

describe.each(TEST_BACKENDS)('network builders on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  describe.each(ALL)('$name', (c) => {
    it('returns a LayersModel whose outputs have the documented shapes, float32 and finite', () => {
      const model = c.build();
      expect(model).toBeInstanceOf(tfl.LayersModel);
      // Symbolic shapes: batch is free.
      expect(model.outputs.map((o) => o.shape)).toEqual(c.outputShapes(1).map((s) => [null, ...s.slice(1)]));
      for (const n of [1, 3]) {
        const inputs = c.inputs(n);
        const out = tf.tidy(() => [model.predict(inputs)].flat() as tf.Tensor[]);
        expect(out.map((t) => t.shape)).toEqual(c.outputShapes(n));
        for (const t of out) {
          expect(t.dtype).toBe('float32');
          expect(values(t).every(Number.isFinite)).toBe(true);
        }
        tf.dispose([...out, ...inputs]);
      }
      model.dispose();
    });

    if (c.kind === 'generator') {
      it('generates in [-1, 1] (tanh output) by default', () => {
        const model = c.build();
        const inputs = c.inputs(4);
        const out = model.predict(inputs) as tf.Tensor;
        const v = values(out);
        expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(1);
        expect(new Set(v).size).toBeGreaterThan(1);
        tf.dispose([out, ...inputs]);
        model.dispose();
      });
    } else {
      it('ends in a linear layer (logits)', () => {
        const model = c.build();
        const last = model.outputLayers.map((l) => l.getConfig());
        for (const config of last) {
          // A dense layer (maybe wrapped in spectral normalization) with no activation, or the
          // projection head's sum of two linear terms.
          const layerConfig = (config['layer'] as { config?: Record<string, unknown> } | undefined)?.config ?? config;
          if ('units' in layerConfig) expect(layerConfig['activation']).toBe('linear');
          else expect(model.outputLayers[0]!.getClassName()).toBe('Add');
        }
        model.dispose();
      });
    }

    it('has finite, non-zero gradients for its trainable weights in a training call', (ctx) => {
      if (c.conv && !canTrainConv()) ctx.skip(`${backend} has no Conv2DBackpropFilter kernel (needs genblocks backends.use)`);
      const model = c.build();
      const inputs = c.inputs(2);
      const { value, grads } = tf.variableGrads(() => {
        const outputs = [model.apply(inputs, { training: true })].flat() as tf.Tensor[];
        return tf.addN(outputs.map((o) => tf.sum(tf.square(o)))) as tf.Scalar;
      });
      const names = Object.keys(grads);
      // Every trainable weight of the model gets a gradient (none is disconnected).
      expect(names.sort()).toEqual(model.trainableWeights.map((w) => (w.read() as tf.Variable).name).sort());
      for (const g of Object.values(grads)) expect(values(g).every(Number.isFinite)).toBe(true);
      expect(Object.values(grads).some((g) => values(g).some((v) => v !== 0))).toBe(true);
      tf.dispose([value, grads, inputs]);
      model.dispose();
    });

    it('leaks no tensors in repeated training and inference calls', async (ctx) => {
      const model = c.build();
      const inputs = c.inputs(2);
      await expectNoLeak(() => model.apply(inputs, { training: true }));
      await expectNoLeak(() => model.predict(inputs));
      if (!c.conv || canTrainConv()) {
        await expectNoLeak(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum(([model.apply(inputs, { training: true })].flat() as tf.Tensor[])[0]!) as tf.Scalar,
          );
          tf.dispose(grads);
          return value;
        });
      } else {
        ctx.annotate?.('gradient leak check skipped: no Conv2DBackpropFilter kernel');
      }
      tf.dispose(inputs);
      model.dispose();
    });
  });
});

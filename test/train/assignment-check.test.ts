/**
 * The trainer checks a step's new state as the step assigns it (`checkAssignments`): each
 * planned variable's first new value in a step is scanned while it is in cache and marked
 * finite, so the check after the step skips it; values assigned again within a step are left
 * to that check; the hooks exist only while `fit` runs. (That non-finite state is still
 * refused is `rollback.test.ts`.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { isKnownFinite } from '../../src/backends/variable-values.js';
import { losses, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches } from './fixtures.js';

const variablesOf = (model: tfl.LayersModel) => model.weights.map((w) => w.read() as tf.Variable);

async function slotsOf(optimizer: tf.Optimizer): Promise<tf.Variable[]> {
  return (await optimizer.getWeights()).map((w) => w.tensor).filter((t): t is tf.Variable => t instanceof tf.Variable);
}

const hooked = (v: tf.Variable) => Object.prototype.hasOwnProperty.call(v, 'assign');

describe.each(TEST_BACKENDS)('assignment check on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('marks the weights and Adam slots a step wrote (first assignments only) and removes its hooks when fit ends', async () => {
    const generator = mlpGenerator(2, 2, 8, 1);
    const discriminator = mlpDiscriminator(2, 8, 2);
    const optimizers = [tf.train.adam(1e-3), tf.train.adam(1e-3)];
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      generatorOptimizer: optimizers[0]!,
      discriminatorOptimizer: optimizers[1]!,
      // Two discriminator updates per step: its state is assigned twice in each step.
      discriminatorSteps: 2,
      seed: 3,
    });
    const batches = ringBatches(2, 16, 0.1, 4);
    // The first step creates the Adam slots (not yet planned), the others run with them planned.
    await trainer.fit(batches, { steps: 3 });
    const gState = [...variablesOf(generator), ...(await slotsOf(optimizers[0]!))];
    const dState = [...variablesOf(discriminator), ...(await slotsOf(optimizers[1]!))];
    expect(gState.length).toBe(3 * 6); // 3 dense layers × (kernel, bias) × (weight, m, v)
    expect(dState.length).toBe(3 * 6);
    // The generator's state, assigned once in step 3, was scanned as it was assigned.
    expect(gState.filter((v) => v.dtype === 'float32' && !isKnownFinite(v))).toEqual([]);
    // The discriminator's, assigned twice, was left to the scan after the step: unmarked.
    expect(dState.filter((v) => isKnownFinite(v))).toEqual([]);
    expect([...gState, ...dState].filter(hooked)).toEqual([]);
    tf.dispose(batches);
    optimizers.forEach((o) => o.dispose());
    generator.dispose();
    discriminator.dispose();
  });

  it('no hook outlives a fit that throws; the state kept is the last good step\'s, marked as it was assigned', async () => {
    const generator = mlpGenerator(2, 2, 8, 1);
    const discriminator = mlpDiscriminator(2, 8, 2);
    const trainer = new train.AdversarialTrainer({
      generator,
      discriminator,
      loss: losses.gan.nonSaturating,
      generatorOptimizer: tf.train.adam(1e-3),
      discriminatorOptimizer: tf.train.adam(1e-3),
      seed: 3,
    });
    const good = ringBatches(1, 16, 0.1, 4);
    await trainer.fit(good, { steps: 2 });
    const bad = tf.fill([16, 2], Number.NaN);
    await expect(trainer.fit([bad], { steps: 3 })).rejects.toThrow(/NonFinite|not finite|non-finite/i);
    const state = [...variablesOf(generator), ...variablesOf(discriminator)];
    expect(state.filter(hooked)).toEqual([]);
    // The values kept are the last good step's, which step 2 marked as it assigned them.
    expect(state.filter((v) => !isKnownFinite(v))).toEqual([]);
    tf.dispose([...good, bad]);
    generator.dispose();
    discriminator.dispose();
  });
});

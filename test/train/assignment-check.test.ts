/**
 * The trainer checks a step's new state as the step assigns it (`checkAssignments` in
 * `train/state.ts`): each planned variable's first new value in a step is scanned while it is
 * in cache and recorded when finite, so the check after the step (`changedSince`) leaves it
 * out; values assigned again within a step, or outside one, are left to that check; the hooks
 * exist only while `fit` runs. (That non-finite state is still refused is `rollback.test.ts`.)
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { findNonFinite } from '../../src/backends/variable-values.js';
import {
  changedSince,
  checkAssignments,
  disposeSnapshot,
  optimizerRefs,
  planSnapshot,
  takeSnapshot,
  type Snapshot,
} from '../../src/train/state.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { ringBatches, wideMlpGan } from './fixtures.js';

const hooked = (v: tf.Variable) => Object.prototype.hasOwnProperty.call(v, 'assign');
const variablesOf = (model: tfl.LayersModel) => model.weights.map((w) => w.read() as tf.Variable);

describe.each(TEST_BACKENDS)('assignment check on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('records the first new value of each planned variable in a step; second assignments, non-finite values and assignments outside a step are left to the scan after it', async () => {
    const w = tf.variable(
      tf.tensor2d([
        [1, -2],
        [3, 0.5],
      ]),
    );
    const b = tf.variable(tf.tensor1d([0.1, 0.2]));
    const optimizer = tf.train.adam(0.1);
    const loss = (scale: number) => () => tf.sum(tf.square(tf.add(tf.mul(w, scale), b))) as tf.Scalar;
    optimizer.minimize(loss(1), false, [w, b]); // creates Adam's slots
    const plan = planSnapshot([{ name: 'net', variables: [w, b] }], [{ name: 'opt', optimizer }], [await optimizerRefs(optimizer)]);
    // w, b, their first and second moments, and Adam's hidden accBeta1, accBeta2.
    expect(plan.variables.length).toBe(8);
    let current: Snapshot | undefined;
    const check = checkAssignments(plan, () => current);
    const stepOf = (f: () => void): Snapshot => {
      const s = takeSnapshot(plan);
      current = s;
      try {
        f();
      } finally {
        current = undefined;
      }
      return s;
    };
    const labels = (s: Snapshot) => changedSince(s, check).labels;
    // One update: every planned variable assigned once, all recorded: nothing left to scan.
    const one = stepOf(() => optimizer.minimize(loss(1), false, [w, b]));
    expect(changedSince(one).labels).toEqual(plan.labels);
    expect(labels(one)).toEqual([]);
    // Two updates in one step: the second values are not scanned as assigned, all left to the scan.
    const two = stepOf(() => {
      optimizer.minimize(loss(1), false, [w, b]);
      optimizer.minimize(loss(1), false, [w, b]);
    });
    expect(labels(two)).toEqual(plan.labels);
    // A NaN gradient: weights and moments not recorded (Adam's accBeta1, accBeta2, which do not
    // depend on the gradient, stay finite and are), and the scan after the step finds the weights.
    const bad = stepOf(() => optimizer.minimize(loss(Number.NaN), false, [w, b]));
    expect(labels(bad)).toEqual(plan.labels.filter((l) => !l.includes('$hidden')));
    expect(labels(bad).length).toBe(6);
    expect(findNonFinite(changedSince(bad, check).variables)).toBe(0);
    // Outside a step (no current snapshot): assigned, not scanned.
    const before = takeSnapshot(plan);
    w.assign(tf.zeros([2, 2]));
    expect(labels(before)).toEqual(['net/0']);
    check.remove();
    expect([w, b].filter(hooked)).toEqual([]);
    [one, two, bad, before].forEach(disposeSnapshot);
    optimizer.dispose();
    tf.dispose([w, b]);
  });

  it('fit hooks the planned variables of 2^15 elements or more, only while it runs, also when it throws', async () => {
    // Hidden width 192: one 192x192 kernel per network (36,864 elements) is hooked, the
    // smaller kernels and the biases are left to the scan after the step.
    const { generator, discriminator, trainer } = wideMlpGan(3);
    const state = [...variablesOf(generator), ...variablesOf(discriminator)];
    const during: number[] = [];
    const count = { onStepEnd: () => void during.push(state.filter(hooked).length) };
    const good = ringBatches(1, 16, 0.1, 4);
    await trainer.fit(good, { steps: 3, callbacks: [count] });
    // Step 1 plans the networks (the Adam slots appear during it); both are hooked from step 2 on.
    const large = state.filter((v) => v.size >= 1 << 15);
    expect(large.map((v) => v.shape)).toEqual([
      [192, 192],
      [192, 192],
    ]);
    expect(during).toEqual([large.length, large.length, large.length]);
    expect(state.filter(hooked)).toEqual([]);
    const bad = tf.fill([16, 2], Number.NaN);
    await expect(trainer.fit([bad], { steps: 4 })).rejects.toThrow(/not finite|non-finite|NaN/i);
    expect(state.filter(hooked)).toEqual([]);
    tf.dispose([...good, bad]);
    generator.dispose();
    discriminator.dispose();
  });
});

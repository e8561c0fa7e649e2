/**
 * The state check after a step does not read Adam's first moments when every variable the
 * optimizer updates is planned (`firstMomentsImplied` in `train/state.ts`): with tfjs's Adam, a
 * non-finite new `m` always makes the weight it updates non-finite (a NaN `m'` gives a NaN
 * update; an overflowing gradient makes `m'` and `v'` infinite and the update `∞/∞ = NaN`), and
 * the weight is checked. These tests check which slots are left out, and that a step whose
 * gradient overflows is still refused with every slot restored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { train } from '../../src/index.js';
import {
  changedSince,
  checkAssignments,
  disposeSnapshot,
  firstMomentsImplied,
  optimizerRefs,
  planSnapshot,
  takeSnapshot,
} from '../../src/train/state.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';

const hooked = (v: tf.Variable) => Object.prototype.hasOwnProperty.call(v, 'assign');

describe.each(TEST_BACKENDS)("Adam's first moments in the state check on %s", (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('are implied for tf.train.adam when every variable it updates is planned, and only then', async () => {
    const w = tf.variable(tf.tensor1d([1, -2, 3]));
    const b = tf.variable(tf.scalar(0.5));
    const planned = new Set([w, b]);
    const adam = tf.train.adam(0.1);
    class ScaledAdam extends tf.AdamOptimizer {}
    expect(firstMomentsImplied(adam, [w, b], planned)).toBe(true);
    expect(firstMomentsImplied(adam, [w], planned)).toBe(true);
    // Unknown updates, an unplanned variable, another optimizer, a subclass: not implied.
    expect(firstMomentsImplied(adam, undefined, planned)).toBe(false);
    expect(firstMomentsImplied(adam, [w, b], new Set([w]))).toBe(false);
    expect(firstMomentsImplied(tf.train.momentum(0.1, 0.9), [w, b], planned)).toBe(false);
    expect(firstMomentsImplied(tf.train.rmsprop(0.1), [w, b], planned)).toBe(false);
    expect(firstMomentsImplied(new ScaledAdam(0.1, 0.9, 0.999), [w, b], planned)).toBe(false);
    adam.dispose();
    tf.dispose([w, b]);
  });

  it('are left out of changedSince and not hooked; second moments, weights and counters are checked', async () => {
    const w = tf.variable(tf.tensor1d([1, -2, 3]));
    const b = tf.variable(tf.scalar(0.5));
    const loss = () => tf.sum(tf.square(tf.add(w, b))) as tf.Scalar;
    const optimizer = tf.train.adam(0.1);
    optimizer.minimize(loss, false, [w, b]); // creates the slots
    const refs = [await optimizerRefs(optimizer)];
    const groups = [{ name: 'net', variables: [w, b] }];
    const plan = planSnapshot(groups, [{ name: 'opt', optimizer, variables: [w, b] }], refs);
    // net/0, net/1, opt/<w>/m, opt/<b>/m, opt/<w>/v, opt/<b>/v, accBeta1, accBeta2 (getWeights' order).
    expect(plan.labels.length).toBe(8);
    expect(plan.labels.filter((_, i) => plan.implied[i])).toEqual([`opt/${w.name}/m`, `opt/${b.name}/m`]);
    const check = checkAssignments(plan, () => undefined);
    expect(plan.variables.filter(hooked).length).toBe(6);
    expect(plan.variables.filter((v, i) => plan.implied[i] && hooked(v))).toEqual([]);
    check.remove();
    const s = takeSnapshot(plan);
    optimizer.minimize(loss, false, [w, b]);
    expect(changedSince(s).labels).toEqual(plan.labels.filter((l) => !l.endsWith('/m')));
    disposeSnapshot(s);
    // The same optimizer planned without its variables: nothing implied, every slot checked.
    const unknown = planSnapshot(groups, [{ name: 'opt', optimizer }], refs);
    expect(unknown.implied.every((x) => !x)).toBe(true);
    const t = takeSnapshot(unknown);
    optimizer.minimize(loss, false, [w, b]);
    expect(changedSince(t).labels).toEqual(unknown.labels);
    disposeSnapshot(t);
    optimizer.dispose();
    tf.dispose([w, b]);
  });

  it('a gradient that overflows (finite loss) makes m, v and the weights non-finite: refused, every slot kept', async () => {
    // loss = Σ (c·w_i)² with c = 1e20 and w = [0.1, 0.1, 0.1]: 3e38, finite in float32 (max
    // 3.4e38). Its gradient 2c²w = 2e39 overflows to +Infinity, so m' = 0.1·∞ = ∞ and v' = ∞,
    // and tfjs's Adam makes w' = w − lr·(∞/∞) = NaN: the check of w catches the step although m
    // is not read. The first batch (scale 1e-3) is a good step that creates the slots.
    const w = tf.variable(tf.tensor1d([0.1, 0.1, 0.1]));
    const model = { apply: (x: tf.Tensor | tf.Tensor[]) => x, trainableWeights: [w] };
    const optimizer = tf.train.adam(1e-3);
    const trainer = new train.ModelTrainer({
      models: { model },
      optimizer,
      loss: (batch) => ({ loss: tf.sum(tf.square(tf.mul(tf.reshape(tf.slice(batch.x, [0, 0], [1, 1]), []), w))) as tf.Scalar }),
    });
    const good = tf.fill([2, 1], 1e-3);
    const overflow = tf.fill([2, 1], 1e20);
    await trainer.fit([good], { steps: 1 });
    const before = await Promise.all((await optimizer.getWeights()).map(async (e) => [e.name, Array.from(await e.tensor.data())]));
    const weights = Array.from(await w.data());
    await expect(trainer.fit([overflow], { steps: 2 })).rejects.toThrow(
      /the losses were finite but 'model\/0' became NaN or ±Infinity at step 1; the weights of the last good step were kept/,
    );
    expect(Array.from(await w.data())).toEqual(weights);
    const after = await Promise.all((await optimizer.getWeights()).map(async (e) => [e.name, Array.from(await e.tensor.data())]));
    expect(after).toEqual(before);
    expect(after.flatMap(([, v]) => v as number[]).every(Number.isFinite)).toBe(true);
    expect(trainer.step).toBe(1);
    tf.dispose([good, overflow]);
    trainer.dispose();
    optimizer.dispose();
    w.dispose();
  });
});

/**
 * backends/variable-values: values held without copies (and released exactly), the in-place
 * finiteness scan and the one-scalar probe used on device backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  checkOnAssign,
  findNonFinite,
  findNonFiniteByReading,
  finitenessProbe,
  heldTensor,
  holdValues,
  inPlaceScanKind,
  isHeldValue,
  releaseValues,
  scansInPlace,
  shareTensor,
} from '../../src/backends/variable-values.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';

describe.each(TEST_BACKENDS)('variable values on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('holds the values a variable had, without a tensor in numTensors, until released', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const count = tf.memory().numTensors;
    const held = holdValues([v]);
    expect(tf.memory().numTensors).toBe(count);
    expect(isHeldValue(held, 0, v)).toBe(true);
    tf.tidy(() => v.assign(tf.tensor1d([7, 8, 9])));
    expect(isHeldValue(held, 0, v)).toBe(false);
    const back = heldTensor(held, 0, [3], 'float32');
    expect(Array.from(back.dataSync())).toEqual([1, 2, 3]);
    back.dispose();
    releaseValues(held);
    expect(tf.memory().numTensors).toBe(count);
    // A held value outlives its variable's next assignment, and is freed by the release.
    const buffers = (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const again = holdValues([v]);
    tf.tidy(() => v.assign(tf.tensor1d([4, 5, 6])));
    expect((tf.memory() as { numDataBuffers: number }).numDataBuffers).toBe(buffers + 1);
    releaseValues(again);
    expect((tf.memory() as { numDataBuffers: number }).numDataBuffers).toBe(buffers);
    const shared = shareTensor(v);
    expect(Array.from(shared.dataSync())).toEqual([4, 5, 6]);
    shared.dispose();
    v.dispose();
  });

  it('scans in place: the index of the first tensor holding NaN or ±Infinity, -1 when all are finite', () => {
    expect(scansInPlace()).toBe(true);
    // Node 20 has WebAssembly SIMD: the scan module runs on the single-threaded build's memory
    // and, as its shared-memory variant, on the threaded build's (GENBLOCKS_TEST_THREADS=2).
    expect(inPlaceScanKind()).toBe(backend === 'cpu' ? 'js' : 'wasm-simd');
    const finite = tf.tensor1d([1, -2, 3, 4, 5]);
    // 3e38 + 3e38 overflows float arithmetic although every value is finite: still -1.
    const huge = tf.tensor1d([3e38, 3e38, 3e38, 3e38, 3e38, 3e38]);
    const withNaN = tf.tensor1d([0, 1, Number.NaN, 2, 3, 4, 5]);
    const withInf = tf.tensor2d([[1, Number.NEGATIVE_INFINITY]]);
    const ints = tf.tensor1d([1, 2], 'int32');
    expect(findNonFinite([finite, huge, ints])).toBe(-1);
    expect(findNonFinite([finite, huge, withNaN, withInf])).toBe(2);
    expect(findNonFinite([finite, withInf])).toBe(1);
    expect(findNonFinite([])).toBe(-1);
    tf.dispose([finite, huge, withNaN, withInf, ints]);
    // Long tensors (the wasm scan reads 16 values per iteration, then a tail): a NaN or an
    // infinity anywhere, in the blocks or the tail, is found; huge finite values are not.
    for (const size of [16, 17, 1000, 1003]) {
      for (const at of [0, 3, 15, size - 1, size >> 1]) {
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          const values = new Float32Array(size).fill(3e38);
          values[at] = bad;
          const t = tf.tensor1d(values);
          expect(findNonFinite([t]), `${bad} at ${at} of ${size}`).toBe(0);
          t.dispose();
        }
      }
      const t = tf.tensor1d(new Float32Array(size).fill(-3e38));
      expect(findNonFinite([t])).toBe(-1);
      t.dispose();
    }
  });

  it('checkOnAssign: asks before each assignment, scans the new value and records it when finite, and removes its hooks', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor1d([1, 2]));
    const count = tf.memory().numTensors;
    const asked: number[] = [];
    let wanted = true;
    const check = checkOnAssign([a, b], (i) => (asked.push(i), wanted));
    expect(Object.keys(a)).not.toContain('assign'); // not enumerable
    expect(check.checked(0, a)).toBe(false); // nothing assigned yet
    // Huge but finite values (their sum overflows: the exact scan settles it) are recorded; the
    // assignment itself happens as without the hook.
    tf.tidy(() => a.assign(tf.tensor1d([3e38, 3e38, 6])));
    expect(Array.from(a.dataSync())).toEqual([3e38, 3e38, 6].map(Math.fround));
    expect(check.checked(0, a)).toBe(true);
    expect(check.checked(1, a)).toBe(false); // by index: b's hook saw nothing
    // NaN (and ±Infinity) are not recorded: the scan after the step finds them.
    tf.tidy(() => b.assign(tf.tensor1d([1, Number.NaN])));
    expect(check.checked(1, b)).toBe(false);
    expect(findNonFinite([a, b])).toBe(1);
    tf.tidy(() => b.assign(tf.tensor1d([Number.NEGATIVE_INFINITY, 1])));
    expect(check.checked(1, b)).toBe(false);
    // Not asked for: assigned but not scanned, and the earlier record no longer matches.
    wanted = false;
    tf.tidy(() => a.assign(tf.tensor1d([7, 8, 9])));
    expect(check.checked(0, a)).toBe(false);
    expect(asked).toEqual([0, 1, 1, 0]);
    expect(tf.memory().numTensors).toBe(count);
    check.remove();
    expect(Object.prototype.hasOwnProperty.call(a, 'assign')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(b, 'assign')).toBe(false);
    tf.tidy(() => a.assign(tf.tensor1d([1, 1, 1])));
    expect(asked).toEqual([0, 1, 1, 0]);
    // A variable that carries an own `assign` already is left alone, and keeps it.
    const own = function (this: tf.Variable, t: tf.Tensor) {
      tf.Variable.prototype.assign.call(this, t);
    };
    Object.defineProperty(a, 'assign', { value: own, writable: true, configurable: true });
    const again = checkOnAssign([a], () => true);
    tf.tidy(() => a.assign(tf.tensor1d([2, 2, 2])));
    expect(again.checked(0, a)).toBe(false);
    again.remove();
    expect(a.assign).toBe(own);
    // A variable that cannot take a property (sealed) is left alone too, and still assigns.
    const sealed = Object.seal(tf.variable(tf.tensor1d([1])));
    const third = checkOnAssign([sealed], () => true);
    tf.tidy(() => sealed.assign(tf.tensor1d([5])));
    expect(third.checked(0, sealed)).toBe(false);
    expect(Array.from(sealed.dataSync())).toEqual([5]);
    third.remove();
    sealed.dispose();
    tf.dispose([a, b]);
  });

  it('the probe is 0 when every value is finite and NaN otherwise (also for huge finite values); reading finds the index', async () => {
    const finite = tf.tensor1d([1, -2, 3]);
    const huge = tf.tensor1d([3e38, 3e38, 3e38]);
    const withInf = tf.tensor1d([1, Number.POSITIVE_INFINITY]);
    const count = tf.memory().numTensors;
    const ok = tf.tidy(() => finitenessProbe([finite, huge]));
    const bad = tf.tidy(() => finitenessProbe([finite, withInf]));
    expect(await ok.data()).toEqual(new Float32Array([0]));
    expect(Number.isNaN((await bad.data())[0])).toBe(true);
    tf.dispose([ok, bad]);
    expect(tf.memory().numTensors).toBe(count);
    expect(await findNonFiniteByReading([finite, huge, withInf])).toBe(2);
    expect(await findNonFiniteByReading([finite, huge])).toBe(-1);
    tf.dispose([finite, huge, withInf]);
  });
});

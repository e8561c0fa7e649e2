/**
 * genblocks' wasm ClipByValue against hand-worked values and the cpu backend, element for element
 * (`Object.is`, so NaN must stay NaN and -0 stay -0), for int32 and float32, negative, positive
 * and equal bounds; and the stock tfjs 4.22 kernel it replaces, which fails the int32 and NaN
 * cases (why it is replaced).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { installWasmKernels, uninstallWasmKernels } from '../../../src/backends/wasm/install.js';
import { useTestBackend } from '../../helpers/backends.js';
import { randomArray, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

type Case = [label: string, values: number[], dtype: 'int32' | 'float32', min: number, max: number];

const INT_VALUES = [0, -1, 5, 2, -7, 3, 1, -2, 2147483647, -2147483648];
const FLOAT_VALUES = [NaN, -Infinity, Infinity, -0, 0, 1.5, -3, 0.25, -0.75, NaN, 2.5, -1];

const CASES: Case[] = [
  ['int32, bounds [0, 2]', INT_VALUES, 'int32', 0, 2],
  ['int32, negative bounds [-3, -1]', INT_VALUES, 'int32', -3, -1],
  ['int32, bounds [-2, 3] around 0', INT_VALUES, 'int32', -2, 3],
  ['int32, fractional bounds [-0.5, 2.5]', INT_VALUES, 'int32', -0.5, 2.5],
  // Equal bounds never reach the kernel: tfjs-core answers them with `fill` (tfjs issue 5919).
  ['int32, equal bounds [4, 4]', INT_VALUES, 'int32', 4, 4],
  ['float32 with NaN, bounds [-1, 1]', FLOAT_VALUES, 'float32', -1, 1],
  ['float32 with NaN, negative bounds [-2, -0.5]', FLOAT_VALUES, 'float32', -2, -0.5],
  ['float32 with NaN, positive bounds [0.5, 2]', FLOAT_VALUES, 'float32', 0.5, 2],
  ['float32 with NaN, bounds [-Infinity, 1]', FLOAT_VALUES, 'float32', -Infinity, 1],
  ['float32 with NaN, equal bounds [-0.5, -0.5]', FLOAT_VALUES, 'float32', -0.5, -0.5],
];

/** `clipByValue` of `values` on the active backend `name`. */
async function clipOn(name: string, values: number[] | Float32Array, dtype: 'int32' | 'float32', min: number, max: number) {
  const [y] = await runOn(name, () => tf.clipByValue(tf.tensor1d(Array.from(values), dtype), min, max));
  return Array.from(y!);
}

/** Indices where `a` and `b` differ (`Object.is`: NaN equals NaN, -0 differs from 0). */
function mismatches(a: number[], b: number[]): number[] {
  expect(a.length).toBe(b.length);
  return a.flatMap((v, i) => (Object.is(v, b[i]) ? [] : [i]));
}

describe('wasm ClipByValue', () => {
  it('clamps int32 and keeps NaN (hand-worked)', async () => {
    // x > max ? max : x < min ? min : x, element by element.
    expect(await clipOn('wasm', [0, -1, 5, 2], 'int32', 0, 2)).toEqual([0, 0, 2, 2]);
    expect(await clipOn('wasm', [-5, 0, -2, 7], 'int32', -3, -1)).toEqual([-3, -1, -2, -1]);
    const y = await clipOn('wasm', [NaN, -4, 4, 0.5, -0], 'float32', -1, 1);
    expect(y[0]).toBeNaN();
    expect(y.slice(1, 4)).toEqual([-1, 1, 0.5]);
    expect(Object.is(y[4], -0)).toBe(true);
  });

  it.each(CASES)('%s matches cpu element for element', async (_label, values, dtype, min, max) => {
    const expected = await clipOn('cpu', values, dtype, min, max);
    const actual = await clipOn('wasm', values, dtype, min, max);
    expect(mismatches(actual, expected), `wasm ${JSON.stringify(actual)}, cpu ${JSON.stringify(expected)}`).toEqual([]);
  });

  it.each([1, 5, 1000])('%i random float32 and int32 values match cpu', async (n) => {
    const r = rng(n);
    const x = randomArray(r, n).map((v) => v * 4);
    if (n > 2) x[1] = NaN;
    const ints = Array.from(x, (v) => (Number.isNaN(v) ? 0 : Math.round(v * 100)));
    expect(mismatches(await clipOn('wasm', x, 'float32', -1.5, 2), await clipOn('cpu', x, 'float32', -1.5, 2))).toEqual([]);
    expect(mismatches(await clipOn('wasm', ints, 'int32', -120, 90), await clipOn('cpu', ints, 'int32', -120, 90))).toEqual([]);
  });

  it('the stock kernel it replaces fails int32 and NaN inputs (why it is replaced)', async () => {
    uninstallWasmKernels(['ClipByValue']);
    try {
      // The bug as reported: int32 values pass unclamped.
      expect(await clipOn('wasm', [0, -1, 5, 2], 'int32', 0, 2)).not.toEqual([0, 0, 2, 2]);
      const [, intValues, , intMin, intMax] = CASES[1]!;
      const intCpu = await clipOn('cpu', intValues, 'int32', intMin, intMax);
      expect(mismatches(await clipOn('wasm', intValues, 'int32', intMin, intMax), intCpu).length).toBeGreaterThan(0);
      // NaN comes out as the lower bound.
      expect((await clipOn('wasm', [NaN, 0.5], 'float32', -1, 1))[0]).not.toBeNaN();
    } finally {
      installWasmKernels(['ClipByValue']);
    }
    expect(await clipOn('wasm', [0, -1, 5, 2], 'int32', 0, 2)).toEqual([0, 0, 2, 2]);
  });

  it('keeps shape and dtype and leaves no tensors behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([-3, 0.5, 4, NaN], [2, 2]);
    const f = () => tf.tidy(() => tf.clipByValue(x, -1, 1));
    f().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) f().dispose();
    expect(tf.memory().numTensors).toBe(before);
    const y = f();
    expect(y.shape).toEqual([2, 2]);
    expect(y.dtype).toBe('float32');
    y.dispose();
    x.dispose();
  });
});

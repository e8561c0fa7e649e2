import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';

import { ArgumentError, ConfigError, DTypeError, GenblocksError, NonFiniteLossError, ShapeError } from '../src/errors.js';
import {
  assertFloat,
  assertFloatTensor,
  assertMinRank,
  assertNonNegativeInt,
  assertNumber,
  assertOneOf,
  assertOptionsObject,
  assertPositiveInt,
  assertPositiveIntArray,
  assertRank,
  assertSameShape,
  assertSameShapeExceptBatch,
  assertTensor,
  describe as describeValue,
} from '../src/validation.js';

describe('errors', () => {
  it('ArgumentError carries structured fields and the documented message format', () => {
    const e = new ArgumentError({ fn: 'f', arg: 'x', expected: 'have rank 2', received: 'shape [3]', hint: 'Reshape it' });
    expect(e).toBeInstanceOf(GenblocksError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ArgumentError');
    expect([e.fn, e.arg, e.expected, e.received, e.hint]).toEqual(['f', 'x', 'have rank 2', 'shape [3]', 'Reshape it']);
    expect(e.message).toBe("f: argument 'x' must have rank 2, received shape [3]. Reshape it");
  });

  it('subclasses keep their own name', () => {
    expect(new ShapeError({ fn: 'f', arg: 'a', expected: 'e', received: 'r' }).name).toBe('ShapeError');
    expect(new DTypeError({ fn: 'f', arg: 'a', expected: 'e', received: 'r' })).toBeInstanceOf(ArgumentError);
  });

  it('NonFiniteLossError names the step, the loss and the value', () => {
    const e = new NonFiniteLossError('AdversarialTrainer.fit', 41, 'discriminator', NaN);
    expect(e.message).toMatch(/AdversarialTrainer\.fit: loss 'discriminator' is NaN at step 41/);
    expect([e.step, e.loss]).toEqual([41, 'discriminator']);
    expect(Number.isNaN(e.value)).toBe(true);
  });
});

describe('validation helpers', () => {
  const t2 = tf.zeros([8, 1]);
  const t3 = tf.zeros([8, 1, 1]);

  it('describe() formats tensors, primitives and objects', () => {
    expect(describeValue(t3)).toBe('float32 tensor of shape [8,1,1]');
    expect(describeValue(tf.scalar(1, 'int32'))).toBe('int32 tensor of shape []');
    expect(describeValue(-3)).toBe('-3');
    expect(describeValue('abc')).toBe("'abc'");
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue([1, 2])).toBe('array of length 2');
    expect(describeValue(new Map())).toBe('object (Map)');
  });

  it('assertTensor rejects non-tensors and disposed tensors', () => {
    expect(() => assertTensor([1, 2], 'x', 'fn')).toThrow(/fn: argument 'x' must be a tf\.Tensor, received array of length 2/);
    const d = tf.scalar(1);
    d.dispose();
    expect(() => assertTensor(d, 'x', 'fn')).toThrow(/received a disposed tensor\. The tensor was disposed/);
    expect(() => assertTensor(t2, 'x', 'fn')).not.toThrow();
  });

  it('assertRank names the allowed ranks and the received shape', () => {
    expect(() => assertRank(t3, [1, 2], 'fakeLogits', 'nonSaturating.generator')).toThrow(
      "nonSaturating.generator: argument 'fakeLogits' must have rank 1 or 2, received shape [8,1,1]",
    );
    expect(() => assertRank(t3, [1, 2, 4], 'x', 'f')).toThrow(/must have rank 1, 2 or 4/);
    expect(() => assertRank(t2, 2, 'x', 'f')).not.toThrow();
    expect(() => assertRank(t2, [1, 2], 'x', 'f')).not.toThrow();
    try {
      assertRank(t3, 2, 'x', 'f');
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
    }
  });

  it('assertMinRank', () => {
    expect(() => assertMinRank(tf.zeros([3]), 2, 'x', 'f')).toThrow(/must have rank 2 or more, received shape \[3\]/);
    expect(() => assertMinRank(t3, 2, 'x', 'f')).not.toThrow();
  });

  it('assertSameShape and assertSameShapeExceptBatch', () => {
    expect(() => assertSameShape(t2, tf.zeros([8]), 'a', 'b', 'f')).toThrow(
      "f: argument 'b' must have the same shape as 'a' [8,1], received shape [8]",
    );
    expect(() => assertSameShape(t2, tf.zeros([8, 1]), 'a', 'b', 'f')).not.toThrow();
    expect(() => assertSameShapeExceptBatch(t2, tf.zeros([4, 1]), 'a', 'b', 'f')).not.toThrow();
    expect(() => assertSameShapeExceptBatch(t2, tf.zeros([4, 2]), 'a', 'b', 'f')).toThrow(
      /on every axis but the batch axis, received shape \[4,2\]/,
    );
    expect(() => assertSameShapeExceptBatch(t2, tf.zeros([8]), 'a', 'b', 'f')).toThrow(ShapeError);
  });

  it('assertFloat suggests a cast', () => {
    const i = tf.zeros([2], 'int32');
    expect(() => assertFloat(i, 'logits', 'f')).toThrow(
      "f: argument 'logits' must be a float32 tensor, received int32 tensor of shape [2]. Convert it with tf.cast(logits, 'float32')",
    );
    expect(() => assertFloat(i, 'logits', 'f')).toThrow(DTypeError);
    expect(() => assertFloatTensor(t2, 'x', 'f', 2)).not.toThrow();
    expect(() => assertFloatTensor(t2, 'x', 'f', 3)).toThrow(/rank 3/);
  });

  it('integer and number checks; config.* fields raise ConfigError', () => {
    expect(() => assertPositiveInt(0, 'config.latentDim', 'nets.mlpGenerator')).toThrow(
      "nets.mlpGenerator: argument 'config.latentDim' must be a positive integer, received 0",
    );
    expect(() => assertPositiveInt(0, 'config.latentDim', 'f')).toThrow(ConfigError);
    expect(() => assertPositiveInt(2.5, 'n', 'f')).toThrow(/received 2\.5/);
    expect(() => assertPositiveInt('3', 'n', 'f')).toThrow(/received '3'/);
    expect(() => assertPositiveInt(3, 'n', 'f')).not.toThrow();
    expect(() => assertNonNegativeInt(-1, 'n', 'f')).toThrow(/non-negative integer, received -1/);
    expect(() => assertNonNegativeInt(0, 'n', 'f')).not.toThrow();
    expect(() => assertNumber(1, 'config.dropout', 'f', { min: 0, max: 1, maxExclusive: true })).toThrow(
      "f: argument 'config.dropout' must be a finite number >= 0 and < 1, received 1",
    );
    expect(() => assertNumber(NaN, 'x', 'f')).toThrow(/must be a finite number, received NaN/);
    expect(() => assertNumber(0, 'x', 'f', { min: 0, minExclusive: true })).toThrow(/> 0/);
    expect(() => assertNumber(0.5, 'x', 'f', { min: 0, max: 1 })).not.toThrow();
  });

  it('assertOneOf lists the allowed literals', () => {
    expect(() => assertOneOf('avg', ['mean', 'sum', 'none'] as const, 'options.reduction', 'f')).toThrow(
      "f: argument 'options.reduction' must be one of 'mean', 'sum', 'none', received 'avg'",
    );
    expect(() => assertOneOf('sum', ['mean', 'sum', 'none'] as const, 'r', 'f')).not.toThrow();
  });

  it('assertPositiveIntArray points at the bad element', () => {
    expect(() => assertPositiveIntArray([28, -1, 1], 'config.outputShape', 'f', 3)).toThrow(
      /must be an array of positive integers of length 3, received \[28,-1,1\] \(element 1 is not a positive integer\)/,
    );
    expect(() => assertPositiveIntArray([28, 28], 'config.outputShape', 'f', 3)).toThrow(/of length 3, received \[28,28\]/);
    expect(() => assertPositiveIntArray('x', 's', 'f')).toThrow(/received 'x'/);
    expect(() => assertPositiveIntArray([28, 28, 1], 's', 'f', 3)).not.toThrow();
  });

  it('assertOptionsObject', () => {
    expect(() => assertOptionsObject(5, 'options', 'f')).toThrow(/must be an options object or undefined, received 5/);
    expect(() => assertOptionsObject(undefined, 'options', 'f')).not.toThrow();
    expect(() => assertOptionsObject({}, 'options', 'f')).not.toThrow();
  });
});

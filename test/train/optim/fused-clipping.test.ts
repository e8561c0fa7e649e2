/**
 * Gradient clipping folded into genblocks' fused Adam: `train.globalNormScale` plus
 * `applyGradients(grads, scale)` against the separate passes it replaces
 * (`train.clipByGlobalNorm`, then `applyGradients` of the clipped gradients), bit for bit over
 * a few steps, for `train.fusedAdam` and `train.adamW`, on wasm with the heap kernels, with the
 * kernel's JavaScript loop, and on cpu (where the optimizer multiplies the gradients first);
 * `ModelTrainer`'s `clipNorm` taking that path with a fused optimizer and the old one otherwise
 * (also for a subclass whose `applyGradients` override takes no scale); rank-0 scales only; null
 * gradients in the list form.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../../../src/backends/clip-by-global-norm-kernel.js';
import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import { train } from '../../../src/index.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../../helpers/memory.js';
import { rng } from '../fixtures.js';

type Optimizer = train.FusedAdamOptimizer;

const MODES = [
  ['wasm', 'heap kernels'],
  ['wasm', 'JavaScript loop'],
  ['cpu', 'tfjs operations'],
] as const;

let counter = 0;

/**
 * `steps` steps of `optimizer` on L = Σ_v Σ sin(v ⊙ (v − t_v)) over a [37, 29] kernel (1,073
 * values: not a multiple of 4, so the kernels' scalar tails run too) and a [7] bias, with the
 * gradients clipped to `maxNorm` either by `clipByGlobalNorm` (separate) or inside the optimizer
 * (`fused`). Returns the final values and each step's norm.
 */
function train5(
  make: () => Optimizer,
  maxNorm: number,
  fused: boolean,
  steps = 4,
): { weights: number[][]; norms: number[]; scales: number[] } {
  const id = counter++;
  const random = rng(41);
  const array = (n: number) => Array.from({ length: n }, () => 2 * random() - 1);
  const kernel = tf.variable(tf.tensor2d(array(37 * 29), [37, 29]), true, `clip_${id}/kernel`);
  const bias = tf.variable(tf.tensor1d(array(7)), true, `clip_${id}/bias`);
  const targets = [tf.tensor2d(array(37 * 29), [37, 29]), tf.tensor1d(array(7))];
  const optimizer = make();
  const norms: number[] = [];
  const scales: number[] = [];
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.addN([kernel, bias].map((v, i) => tf.sum(tf.sin(tf.mul(v, tf.sub(v, targets[i]!)))))) as tf.Scalar,
        [kernel, bias],
      );
      if (fused) {
        const { norm, scale } = train.globalNormScale(grads, maxNorm);
        optimizer.applyGradients(grads as Parameters<Optimizer['applyGradients']>[0], scale);
        norms.push(norm.dataSync()[0]!);
        scales.push(scale.dataSync()[0]!);
      } else {
        const clipped = train.clipByGlobalNorm(grads, maxNorm);
        optimizer.applyGradients(clipped.grads as Parameters<Optimizer['applyGradients']>[0]);
        norms.push(clipped.norm.dataSync()[0]!);
      }
    });
  }
  const weights = [Array.from(kernel.dataSync()), Array.from(bias.dataSync())];
  tf.dispose([kernel, bias, ...targets]);
  optimizer.dispose();
  return { weights, norms, scales };
}

const optimizers: [string, () => Optimizer][] = [
  ['train.fusedAdam', () => train.fusedAdam({ learningRate: 0.01, beta1: 0.5, beta2: 0.9 })],
  ['train.adamW', () => train.adamW({ learningRate: 0.01, beta2: 0.99, weightDecay: 0.5 })],
];

describe.each(MODES)('clipping inside fused Adam on %s (%s)', (backend, mode) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  afterEach(() => {
    if (backend === 'wasm') setHeapKernelsEnabled(true);
  });

  it.each(optimizers)('%s: applyGradients(grads, globalNormScale) equals clipByGlobalNorm then applyGradients, bit for bit', (_, make) => {
    if (backend === 'wasm') setHeapKernelsEnabled(mode === 'heap kernels');
    // Global norm of the gradient of Σ sin(v ⊙ (v − t)) over 1,080 values of order 1: about 20,
    // so maxNorm 2 clips every step (factor about 0.1) and maxNorm 1e6 none (factor exactly 1).
    for (const maxNorm of [2, 1e6]) {
      const separate = train5(make, maxNorm, false);
      const fused = train5(make, maxNorm, true);
      expect(fused.norms).toEqual(separate.norms);
      expect(fused.weights).toEqual(separate.weights);
      // The factor is maxNorm / max(norm, maxNorm) in float32 (the formula of clipByGlobalNorm).
      fused.scales.forEach((s, i) => expect(s).toBe(Math.fround(maxNorm / Math.max(fused.norms[i]!, maxNorm))));
      if (maxNorm === 2) expect(Math.max(...fused.scales)).toBeLessThan(0.5);
      else expect(fused.scales.every((s) => s === 1)).toBe(true);
    }
    // The factor is applied: clipping at 2 moves the weights less than no clipping does.
    const clipped = train5(make, 2, true);
    const free = train5(make, 1e6, true);
    expect(clipped.weights[0]).not.toEqual(free.weights[0]);
  });

  it('rejects a gradientScale that is not a float32 scalar tensor (rank 0), before changing anything', () => {
    const before = tf.memory().numTensors;
    const init = tf.tensor1d([1, 2]);
    const v = tf.variable(init, true, `clip_reject_${counter++}`);
    const grads = { [v.name]: tf.tensor1d([1, 1]) };
    // Two elements, one element of rank 1 (not a scalar, though of size 1), an int32 scalar.
    const badTensors = [tf.tensor1d([0.5, 0.5]), tf.tensor1d([0.5]), tf.scalar(1, 'int32')];
    for (const optimizer of [train.fusedAdam(), train.adamW({ shouldDecay: () => true })]) {
      // (Not instanceof: tfjs' Optimizer answers it by duck typing, true for every optimizer.)
      const name = Object.getPrototypeOf(optimizer) === train.AdamWOptimizer.prototype ? 'AdamWOptimizer' : 'FusedAdamOptimizer';
      for (const bad of [0.5, ...badTensors]) {
        expect(() => optimizer.applyGradients(grads as never, bad as never)).toThrow(
          new RegExp(`^${name}\\.applyGradients: argument 'gradientScale' must be a float32 scalar tensor`),
        );
      }
      optimizer.dispose();
    }
    expect(values(v)).toEqual([1, 2]);
    tf.dispose([init, v, ...Object.values(grads), ...badTensors]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(optimizers)('%s: a variable whose gradient is null is left alone, in the list form as in the map form', (_, make) => {
    if (backend === 'wasm') setHeapKernelsEnabled(mode === 'heap kernels');
    const id = counter++;
    const init = [0.5, -1.5, 2];
    const g = [0.3, -0.2, 0.1];
    // (tf.tidy frees the initial values; variables outlive it.)
    const make3 = (label: string) =>
      tf.tidy(() => [
        tf.variable(tf.tensor2d(init, [1, 3]), true, `clip_null_${id}_${label}/a`),
        tf.variable(tf.tensor2d(init, [1, 3]), true, `clip_null_${id}_${label}/b`),
      ]);
    const [a, b] = make3('scaled');
    const [referenceA, referenceB] = make3('reference');
    const gradient = tf.tensor2d(g, [1, 3]);
    const scale = tf.scalar(0.3);
    const optimizer = make();
    const reference = make();
    // `a` has no gradient; `b` gets g·0.3: the reference steps b on the product written out.
    optimizer.applyGradients(
      [
        { name: a!.name, tensor: null as never },
        { name: b!.name, tensor: gradient },
      ],
      scale,
    );
    const product = tf.mul(gradient, scale);
    reference.applyGradients([
      { name: referenceA!.name, tensor: null as never },
      { name: referenceB!.name, tensor: product },
    ]);
    expect(values(a!)).toEqual(init.map(Math.fround));
    expect(values(b!)).toEqual(values(referenceB!));
    expect(values(b!)).not.toEqual(init.map(Math.fround));
    tf.dispose([a!, b!, referenceA!, referenceB!, gradient, scale, product]);
    optimizer.dispose();
    reference.dispose();
  });
});

describe('train.globalNormScale', () => {
  beforeAll(async () => {
    await useTestBackend('wasm');
  });

  it.each(['wasm', 'cpu'] as const)('on %s: norm √(3² + 4²) = 5 and factor maxNorm / max(5, maxNorm), leaking nothing', async (backend) => {
    await useTestBackend(backend);
    const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])];
    const { norm, scale } = train.globalNormScale(grads, 1);
    expect(norm.shape).toEqual([]);
    expect(scale.shape).toEqual([]);
    expectClose(values(norm), [5]);
    expect(values(scale)).toEqual([Math.fround(1 / 5)]);
    // Within the bound the factor is exactly 1; a map works like a list.
    const within = train.globalNormScale({ a: grads[0]!, b: grads[1]! }, 10);
    expect(values(within.scale)).toEqual([1]);
    expectClose(values(within.norm), [5]);
    await expectNoLeak(() => train.globalNormScale(grads, 1));
    tf.dispose([norm, scale, within.norm, within.scale, ...grads]);
  });

  it('on wasm, is one kernel that writes no scaled gradients', async () => {
    await useTestBackend('wasm');
    const grads = [tf.ones([64, 64]), tf.ones([64])];
    const { kernels } = await tf.profile(() => {
      const { norm, scale } = train.globalNormScale(grads, 1);
      return [norm, scale];
    });
    expect(kernels.map((k) => k.name)).toEqual([CLIP_BY_GLOBAL_NORM_KERNEL]);
    expect(kernels[0]!.outputShapes).toEqual([[], []]);
    tf.dispose(grads);
  });

  it('rejects what clipByGlobalNorm rejects', () => {
    expect(() => train.globalNormScale([], 1)).toThrow(
      /^train\.globalNormScale: argument 'grads' must be a non-empty array or map of float32 tensors/,
    );
    expect(() => train.globalNormScale([tf.scalar(1, 'int32')], 1)).toThrow(/argument 'grads' must be a non-empty array or map/);
    expect(() => train.globalNormScale([tf.scalar(1)], -1)).toThrow(
      /^train\.globalNormScale: argument 'maxNorm' must be a finite number > 0, received -1/,
    );
  });
});

describe('ModelTrainer clipNorm with a fused optimizer', () => {
  beforeAll(async () => {
    await useTestBackend('wasm');
  });

  /** A 6 → 16 → 3 net with seeded weights, and one fixed batch. */
  function setup(seed: number) {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 16, activation: 'tanh', inputShape: [6], kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
        tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
      ],
    });
    const random = rng(seed);
    const x = tf.tensor2d(
      Array.from({ length: 8 * 6 }, () => 4 * random() - 2),
      [8, 6],
    );
    const y = tf.tensor2d(
      Array.from({ length: 8 * 3 }, () => 10 * random()),
      [8, 3],
    );
    const loss = (m: tfl.LayersModel) => tf.losses.meanSquaredError(y, m.apply(x) as tf.Tensor) as tf.Scalar;
    return { model, x, y, loss };
  }

  /** An AdamW whose override takes one argument: a gradientScale given to it would be dropped. */
  class OneArgumentAdamW extends train.AdamWOptimizer {
    override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
      super.applyGradients(variableGradients);
    }
  }

  it.each([
    ['train.adamW (clipping inside the fused pass)', () => train.adamW({ learningRate: 0.01, weightDecay: 0.1 }), true, 4],
    ['tf.train.adam (clipByGlobalNorm first)', () => tf.train.adam(0.01), false, 0],
    [
      'a subclass of AdamWOptimizer overriding applyGradients(grads) (clipByGlobalNorm first)',
      () => new OneArgumentAdamW(0.01, 0.9, 0.999, 1e-8, 0.1, (v) => v.rank >= 2),
      false,
      4,
    ],
  ] as const)('%s: the same weights and gradientNorm as clipByGlobalNorm then applyGradients', async (_, make, fusedPath, adamKernels) => {
    const trained = setup(3);
    const optimizer = make();
    const trainer = new train.ModelTrainer({
      models: { net: trained.model },
      optimizer,
      loss: (_batch, { models }) => ({ loss: trained.loss(models.net) }),
      clipNorm: 0.5,
    });
    const { kernels } = await tf.profile(async () => {
      await trainer.fit([{ x: trained.x }], { steps: 1 });
    });
    // With the fused optimizer the clipping kernel writes only the norm and the factor.
    const clip = kernels.filter((k) => k.name === CLIP_BY_GLOBAL_NORM_KERNEL);
    expect(clip).toHaveLength(1);
    expect(clip[0]!.outputShapes.length).toBe(fusedPath ? 2 : 5);
    // Variables updated by the fused Adam kernels: three outputs (value, m, v) each, whether one
    // call per variable (FUSED_ADAM_KERNEL) or one for all (FUSED_ADAM_MULTI_KERNEL).
    const fusedOutputs = kernels.filter((k) => k.name === FUSED_ADAM_KERNEL || k.name === FUSED_ADAM_MULTI_KERNEL);
    expect(fusedOutputs.reduce((n, k) => n + k.outputShapes.length, 0) / 3).toBe(adamKernels);
    const { logs } = await trainer.fit([{ x: trained.x }], { steps: 3 });

    // The same three steps by hand, clipped as clipByGlobalNorm writes the gradients.
    const reference = setup(3);
    const referenceOptimizer: tf.Optimizer = make();
    const variables = reference.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    let lastNorm = 0;
    for (let s = 0; s < 3; s++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => reference.loss(reference.model), variables);
        const clipped = train.clipByGlobalNorm(grads, 0.5);
        referenceOptimizer.applyGradients(clipped.grads as Parameters<tf.Optimizer['applyGradients']>[0]);
        lastNorm = clipped.norm.dataSync()[0]!;
      });
    }
    expect(lastNorm).toBeGreaterThan(0.5); // every step clipped
    expect(logs!['gradientNorm']).toBe(lastNorm);
    const got = trained.model.getWeights().map((w) => Array.from(w.dataSync()));
    const want = reference.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(got).toEqual(want);
    trainer.dispose();
    for (const s of [trained, reference]) {
      tf.dispose([s.x, s.y]);
      s.model.dispose();
    }
    optimizer.dispose();
    referenceOptimizer.dispose();
  });
});

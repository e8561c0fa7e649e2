/**
 * The autoregressive layers: causality (exact), the attention maths against a float64 oracle,
 * incremental decoding against the full pass, masks, save/load round trips, invalid configs,
 * memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, layers } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

async function saveAndLoad(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
}

/** Deterministic pseudo-random numbers in [-1, 1) (a fixed LCG: inputs only, not an oracle). */
function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Element-wise === (so that the comparison is exact, and +0/-0 count as equal). */
function expectIdentical(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) expect.fail(`${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}

/**
 * Perturbs each position t of a [1, T, C] sequence and checks that outputs at positions < t are
 * bit-identical, and that some output at a position >= t changes (so the check can fail).
 */
function expectCausal(run: (x: tf.Tensor) => tf.Tensor, t: number, c: number): void {
  const base = numbers(t * c, 7);
  const x = tf.tensor3d(base, [1, t, c]);
  const y = values(run(x));
  const outWidth = y.length / t;
  for (let p = 0; p < t; p++) {
    const perturbed = base.slice();
    for (let k = 0; k < c; k++) perturbed[p * c + k]! += 0.75;
    const y2 = values(run(tf.tensor3d(perturbed, [1, t, c])));
    expectIdentical(y2.slice(0, p * outWidth), y.slice(0, p * outWidth), `outputs before position ${p}`);
    expect(
      y2.slice(p * outWidth).some((v, i) => v !== y[p * outWidth + i]),
      `position ${p} perturbation must change a later output`,
    ).toBe(true);
  }
}

/** Float64 causal multi-head attention (independent oracle): x [T][C], row-major weights. */
function attentionReference(x: number[][], qkv: number[][], proj: number[][], heads: number): number[][] {
  const c = x[0]!.length;
  const d = c / heads;
  const matvec = (row: number[], w: number[][]) => w[0]!.map((_, j) => row.reduce((s, v, i) => s + v * w[i]![j]!, 0));
  const projected = x.map((row) => matvec(row, qkv));
  const out = x.map(() => new Array<number>(c).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < x.length; s++) {
      const q = projected[s]!.slice(h * d, (h + 1) * d);
      const scores = [];
      for (let j = 0; j <= s; j++) {
        const k = projected[j]!.slice(c + h * d, c + (h + 1) * d);
        scores.push(q.reduce((acc, v, i) => acc + v * k[i]!, 0) / Math.sqrt(d));
      }
      const max = Math.max(...scores);
      const e = scores.map((v) => Math.exp(v - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= s; j++) {
        const v = projected[j]!.slice(2 * c + h * d, 2 * c + (h + 1) * d);
        for (let i = 0; i < d; i++) out[s]![h * d + i]! += (e[j]! / z) * v[i]!;
      }
    }
  }
  return out.map((row) => matvec(row, proj));
}

describe.each(TEST_BACKENDS)('autoregressive layers on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('causalSelfAttention matches a float64 attention with a causal mask', () => {
    const [t, c, heads] = [4, 6, 2];
    const x = numbers(t * c, 1);
    const qkv = numbers(c * 3 * c, 2);
    const proj = numbers(c * c, 3);
    const rows = (flat: number[], cols: number) =>
      Array.from({ length: flat.length / cols }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
    const expected = attentionReference(rows(x, c), rows(qkv, 3 * c), rows(proj, c), heads).flat();
    const y = tf.tidy(() =>
      layers.causalSelfAttention(
        tf.tensor3d(x, [1, t, c]),
        { qkvKernel: tf.tensor2d(qkv, [c, 3 * c]), projectionKernel: tf.tensor2d(proj, [c, c]) },
        { heads },
      ),
    );
    expectClose(values(y), expected, 1e-4, 1e-5);
    y.dispose();
  });

  it('causalSelfAttention: gradients of x and of both kernels match float64 central differences', () => {
    // The hand-written gradient of the attention core (dv = Pᵀ dO, dS = P ⊙ (dO vᵀ − rowsum(dO ⊙ O)),
    // ...) against central differences of the float64 oracle above, for L = Σ y ⊙ w, two
    // sequences (the batch layout of the head split), step 1e-6 (truncation error ~1e-12).
    const [b, t, c, heads] = [2, 5, 8, 2];
    const x = numbers(b * t * c, 11);
    const qkv = numbers(c * 3 * c, 12).map((v) => v * 0.5);
    const proj = numbers(c * c, 13).map((v) => v * 0.5);
    const w = numbers(b * t * c, 14);
    const rows = (flat: number[], cols: number) =>
      Array.from({ length: flat.length / cols }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
    const loss64 = (xs: number[], qkvs: number[], projs: number[]) => {
      let sum = 0;
      for (let s = 0; s < b; s++) {
        const y = attentionReference(rows(xs.slice(s * t * c, (s + 1) * t * c), c), rows(qkvs, 3 * c), rows(projs, c), heads).flat();
        y.forEach((v, i) => (sum += v * w[s * t * c + i]!));
      }
      return sum;
    };
    const centralDifferences = (which: 0 | 1 | 2) => {
      const args = [x, qkv, proj];
      return args[which]!.map((_, i) => {
        const h = 1e-6;
        const plus = args.map((a, k) => (k === which ? a.map((v, j) => (j === i ? v + h : v)) : a));
        const minus = args.map((a, k) => (k === which ? a.map((v, j) => (j === i ? v - h : v)) : a));
        return (loss64(plus[0]!, plus[1]!, plus[2]!) - loss64(minus[0]!, minus[1]!, minus[2]!)) / (2 * h);
      });
    };
    const grads = tf.tidy(() =>
      tf.grads((xx: tf.Tensor, k1: tf.Tensor, k2: tf.Tensor) =>
        tf.sum(
          tf.mul(
            layers.causalSelfAttention(xx, { qkvKernel: k1 as tf.Tensor2D, projectionKernel: k2 as tf.Tensor2D }, { heads }),
            tf.tensor3d(w, [b, t, c]),
          ),
        ),
      )([tf.tensor3d(x, [b, t, c]), tf.tensor2d(qkv, [c, 3 * c]), tf.tensor2d(proj, [c, c])]),
    );
    expectClose(values(grads[0]!), centralDifferences(0), 1e-4, 1e-5);
    expectClose(values(grads[1]!), centralDifferences(1), 1e-4, 1e-5);
    expectClose(values(grads[2]!), centralDifferences(2), 1e-4, 1e-5);
    tf.dispose(grads);
  });

  it('TokenPositionEmbedding rejects an id outside the vocabulary instead of embedding it silently', () => {
    const embedding = new layers.TokenPositionEmbedding({ vocabSize: 11, blockSize: 8, width: 4, seed: 3 });
    embedding.build();
    const before = tf.memory().numTensors;
    // 16 rows (2 x 8): a batch of positions, as in training.
    const ids = tf.tensor2d([...Array.from({ length: 15 }, (_, i) => i % 11), 11], [2, 8], 'int32');
    expect(() => embedding.embed(ids, 0)).toThrow(/11/);
    ids.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([11, 16, 300])(
    'TokenPositionEmbedding (vocabulary %i): E[ids] + P exactly, its gradients, and the tied head h Eᵀ',
    (vocabSize) => {
      // The head pads 11 and 300 to a multiple of 8 tokens, not 16. Expected values from the tables read back: the embedding is
      // one float32 addition per element (Math.fround), dE sums the upstream gradient rows of each
      // id, dP those of each position (over the batch); the head and its gradients
      // (dh = dlogits E, dE = dlogitsᵀ h) are float64 products.
      const [b, t, width, offset] = [2, 5, 8, 2];
      const embedding = new layers.TokenPositionEmbedding({ vocabSize, blockSize: 8, width, seed: 3 });
      embedding.build();
      const [table, positions] = embedding.getWeights().map((w) => values(w));
      const ids = numbers(b * t, 21).map((v) => Math.floor(((v + 1) / 2) * vocabSize));
      ids[3] = ids[0]!; // a repeated id: its gradient rows add up
      const upstream = numbers(b * t * width, 22);
      const { out, dTable, dPositions } = tf.tidy(() => {
        const idTensor = tf.tensor2d(ids, [b, t], 'int32');
        const w = tf.tensor3d(upstream, [b, t, width]);
        const variables = embedding.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(embedding.embed(idTensor, offset), w)) as tf.Scalar, variables);
        value.dispose();
        const [dTable, dPositions] = variables.map((v) => grads[v.name]!);
        return { out: embedding.embed(idTensor, offset), dTable: dTable!, dPositions: dPositions! };
      });
      const expected = ids.flatMap((id, i) =>
        Array.from({ length: width }, (_, k) => Math.fround(table![id * width + k]! + positions![(offset + (i % t)) * width + k]!)),
      );
      expectIdentical(values(out), expected, 'embedding');
      // One position (the gather and the plain product: fewer rows than the batched forms take).
      const single = tf.tidy(() => embedding.embed(tf.tensor2d([[ids[1]!]], [1, 1], 'int32'), 3));
      const singleExpected = Array.from({ length: width }, (_, k) =>
        Math.fround(table![ids[1]! * width + k]! + positions![3 * width + k]!),
      );
      expectIdentical(values(single), singleExpected, 'one position');
      const singleLogits = tf.tidy(() => embedding.logits(tf.tensor3d(singleExpected, [1, 1, width])));
      const singleLogitsExpected = Array.from({ length: vocabSize }, (_, v) =>
        singleExpected.reduce((acc, h, k) => acc + h * table![v * width + k]!, 0),
      );
      expectClose(values(singleLogits), singleLogitsExpected, 1e-5, 1e-6);
      tf.dispose([single, singleLogits]);
      const expectedTable = new Array<number>(vocabSize * width).fill(0);
      const expectedPositions = new Array<number>(8 * width).fill(0);
      ids.forEach((id, i) => {
        for (let k = 0; k < width; k++) {
          expectedTable[id * width + k]! += upstream[i * width + k]!;
          expectedPositions[(offset + (i % t)) * width + k]! += upstream[i * width + k]!;
        }
      });
      expectClose(values(dTable), expectedTable, 1e-6, 1e-7);
      expectClose(values(dPositions), expectedPositions, 1e-6, 1e-7);
      const hidden = numbers(b * t * width, 23);
      const logits = tf.tidy(() => embedding.logits(tf.tensor3d(hidden, [b, t, width])));
      const expectedLogits = Array.from({ length: b * t }, (_, r) =>
        Array.from({ length: vocabSize }, (_, v) =>
          hidden.slice(r * width, (r + 1) * width).reduce((acc, h, k) => acc + h * table![v * width + k]!, 0),
        ),
      ).flat();
      expectClose(values(logits), expectedLogits, 1e-5, 1e-6);
      const upstreamLogits = numbers(b * t * vocabSize, 24);
      const { dHidden, dTableHead } = tf.tidy(() => {
        const h = tf.tensor3d(hidden, [b, t, width]);
        const up = tf.tensor3d(upstreamLogits, [b, t, vocabSize]);
        const headLoss = (x: tf.Tensor) => tf.sum(tf.mul(embedding.logits(x), up)) as tf.Scalar;
        const tableVariable = (embedding.trainableWeights[0] as unknown as { val: tf.Variable }).val;
        const { value, grads } = tf.variableGrads(() => headLoss(h), [tableVariable]);
        value.dispose();
        return { dHidden: tf.grad(headLoss)(h), dTableHead: grads[tableVariable.name]! };
      });
      const expectedDHidden = Array.from({ length: b * t }, (_, r) =>
        Array.from({ length: width }, (_, k) =>
          upstreamLogits.slice(r * vocabSize, (r + 1) * vocabSize).reduce((acc, g, v) => acc + g * table![v * width + k]!, 0),
        ),
      ).flat();
      const expectedDTable = Array.from({ length: vocabSize }, (_, v) =>
        Array.from({ length: width }, (_, k) =>
          Array.from({ length: b * t }, (_, r) => upstreamLogits[r * vocabSize + v]! * hidden[r * width + k]!).reduce((x, y) => x + y, 0),
        ),
      ).flat();
      expectClose(values(dHidden), expectedDHidden, 1e-5, 1e-6);
      expectClose(values(dTableHead), expectedDTable, 1e-5, 1e-6);
      tf.dispose([out, dTable, dPositions, logits, dHidden, dTableHead]);
      embedding.weights.forEach((w) => w.dispose());
    },
  );

  it('CausalSelfAttention, TransformerBlock and CausalConv1D are exactly causal', () => {
    const attention = new layers.CausalSelfAttention({ heads: 2, seed: 3 });
    const block = new layers.TransformerBlock({ heads: 2, seed: 4 });
    const conv = new layers.CausalConv1D({ filters: 3, kernelSize: 3, dilationRate: 2, seed: 5 });
    for (const layer of [attention, block, conv]) {
      expectCausal((x) => tf.tidy(() => layer.apply(x) as tf.Tensor), 6, 8);
    }
  });

  it('MaskedConv2D: a type A + B stack sees only earlier pixels; type A never the pixel itself', () => {
    const [h, w] = [5, 5];
    const a = new layers.MaskedConv2D({ filters: 4, kernelSize: 3, maskType: 'A', seed: 1 });
    const b = new layers.MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'B', seed: 2 });
    const input = tfl.input({ shape: [h, w, 1] });
    const stack = tfl.model({ inputs: input, outputs: b.apply(a.apply(input)) as tfl.SymbolicTensor });
    const onlyA = tfl.model({ inputs: input, outputs: a.apply(input) as tfl.SymbolicTensor });
    const base = numbers(h * w, 9);
    const run = (model: tfl.LayersModel, image: number[]) =>
      tf.tidy(() => values(model.predict(tf.tensor4d(image, [1, h, w, 1])) as tf.Tensor));
    for (const [model, width] of [
      [stack, 2],
      [onlyA, 4],
    ] as const) {
      const y = run(model, base);
      for (let p = 0; p < h * w; p++) {
        const perturbed = base.slice();
        perturbed[p]! += 1;
        const y2 = run(model, perturbed);
        // Raster order: outputs at pixels 0..p (the pixel itself included) must not see input p.
        expectIdentical(y2.slice(0, (p + 1) * width), y.slice(0, (p + 1) * width), `outputs up to pixel ${p}`);
        if (p < h * w - 1) expect(y2.slice((p + 1) * width).some((v, i) => v !== y[(p + 1) * width + i])).toBe(true);
      }
    }
    // A single type-B layer does see the pixel itself.
    const onlyB = new layers.MaskedConv2D({ filters: 1, kernelSize: 3, maskType: 'B', seed: 2 });
    const y = tf.tidy(() => values(onlyB.apply(tf.tensor4d(base, [1, h, w, 1])) as tf.Tensor));
    const perturbed = base.slice();
    perturbed[12]! += 1;
    const y2 = tf.tidy(() => values(onlyB.apply(tf.tensor4d(perturbed, [1, h, w, 1])) as tf.Tensor));
    expectIdentical(y2.slice(0, 12), y.slice(0, 12), 'type B before pixel 12');
    expect(y2[12]).not.toBe(y[12]);
  });

  it("LayerNorm matches tfjs-layers' layerNormalization (values and gradients) with far fewer kernels", async () => {
    const x = tf.tensor3d(
      numbers(2 * 3 * 8, 5).map((v, i) => v * (1 + (i % 4))),
      [2, 3, 8],
    );
    const ours = new layers.LayerNorm({ epsilon: 1e-5 });
    const reference = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 });
    ours.build(x.shape);
    reference.build(x.shape);
    const gamma = tf.tensor1d(numbers(8, 6));
    const beta = tf.tensor1d(numbers(8, 7));
    ours.setWeights([gamma, beta]);
    reference.setWeights([gamma, beta]);
    const weighting = tf.tensor3d(numbers(48, 8), [2, 3, 8]);
    const gradOf = (layer: tfl.layers.Layer) =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, weighting)))(x);
    expectClose(values(ours.apply(x) as tf.Tensor), values(reference.apply(x) as tf.Tensor), 1e-5, 1e-5);
    expectClose(values(gradOf(ours)), values(gradOf(reference)), 1e-4, 1e-4);
    // Kernel counts of the weights' gradient over 128 positions: stock tfjs-layers' grows with the
    // positions (tfjs-core's Tile gradient: a slice and an add each), ours does not. On wasm,
    // backends.use installs a one-reduction Tile gradient, which brings theirs down too.
    const big = tf.ones([4, 32, 8]);
    const kernels = async (layer: tfl.layers.Layer) => {
      const variables = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(big) as tf.Tensor), variables);
        return [value, ...Object.values(grads)];
      });
      return info.kernels.length;
    };
    const [mine, theirs] = [await kernels(ours), await kernels(reference)];
    expect(theirs).toBeGreaterThan(backend === 'wasm' ? mine : 256);
    expect(mine).toBeLessThan(100);
    tf.dispose([x, gamma, beta, weighting, big]);
  });

  it("the MLP's GELU is GPT-2's tanh form (float64 formula)", async () => {
    const { gelu } = await import('../../src/layers/ops.js');
    const xs = [-6, -3, -1, -0.5, -1e-3, 0, 0.25, 1, 2.5, 8];
    // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), minGPT's NewGELU.
    const expected = xs.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    const y = tf.tidy(() => values(gelu(tf.tensor1d(xs))));
    expectClose(y, expected, 1e-5, 1e-6);
  });

  it("convolutionMask is the paper's mask (hand-written 3x3 and 5x5 cases)", () => {
    expect(values(layers.convolutionMask(3, 'A'))).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(values(layers.convolutionMask(3, 'B'))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0]);
    // 5x5 type B: two full rows, then 1 1 1 0 0, then zeros.
    expect(values(layers.convolutionMask(5, 'B'))).toEqual([...new Array(10).fill(1), 1, 1, 1, 0, 0, ...new Array(10).fill(0)]);
  });

  it('incremental decoding (TransformerBlock.step with a key/value cache) equals the full pass to 1e-5', () => {
    const [t, c] = [7, 8];
    const block = new layers.TransformerBlock({ heads: 2, seed: 11 });
    const attention = new layers.CausalSelfAttention({ heads: 4, seed: 12 });
    const x = tf.tensor3d(numbers(2 * t * c, 4), [2, t, c]);
    for (const layer of [block, attention]) {
      const full = tf.tidy(() => values(layer.apply(x) as tf.Tensor));
      let cache: layers.KeyValueCache | null = null;
      const steps: number[][] = [];
      for (let s = 0; s < t; s++) {
        const xT = tf.slice(x, [0, s, 0], [2, 1, c]);
        const out: { output: tf.Tensor3D; cache: layers.KeyValueCache } = layer.step(xT, cache);
        if (cache) tf.dispose([cache.keys, cache.values]);
        cache = out.cache;
        steps.push(values(out.output));
        tf.dispose([xT, out.output]);
      }
      tf.dispose([cache!.keys, cache!.values]);
      // steps[s] is [2, 1, c]; the full output is [2, t, c].
      const stepped = [0, 1].flatMap((b) => steps.flatMap((row) => row.slice(b * c, (b + 1) * c)));
      expectClose(stepped, full, 1e-5, 1e-5);
    }
    x.dispose();
  });

  it('a model of every layer (tied head included) saves and loads with identical outputs', async () => {
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedding = new layers.TokenPositionEmbedding({ vocabSize: 11, blockSize: 8, width: 8, seed: 1 });
    let h = embedding.apply(ids) as tfl.SymbolicTensor;
    h = new layers.TransformerBlock({ heads: 2, seed: 2, useBias: false }).apply(h) as tfl.SymbolicTensor;
    h = new layers.CausalSelfAttention({ heads: 4, seed: 3 }).apply(h) as tfl.SymbolicTensor;
    h = new layers.CausalConv1D({ filters: 8, kernelSize: 2, seed: 4 }).apply(h) as tfl.SymbolicTensor;
    const logits = embedding.apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: ids, outputs: logits });
    expect(logits.shape).toEqual([null, null, 11]);
    const image = tfl.input({ shape: [4, 4, 1] });
    const conv = new layers.MaskedConv2D({ filters: 3, kernelSize: 3, maskType: 'B', seed: 5 });
    const convModel = tfl.model({
      inputs: image,
      outputs: conv.apply(
        new layers.MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'A', seed: 6 }).apply(image),
      ) as tfl.SymbolicTensor,
    });
    const x = tf.tensor2d([[1, 4, 0, 10, 3]], [1, 5], 'int32');
    const img = tf.tensor4d(numbers(16, 3), [1, 4, 4, 1]);
    for (const [m, input] of [
      [model, x],
      [convModel, img],
    ] as const) {
      const loaded = await saveAndLoad(m);
      const before = tf.tidy(() => values(m.predict(input) as tf.Tensor));
      const after = tf.tidy(() => values(loaded.predict(input) as tf.Tensor));
      expectIdentical(after, before, 'reloaded model output');
      expect(loaded.countParams()).toBe(m.countParams());
    }
    // Tied: one token table, used by both roles (11·8 + 8·8 positions, no separate head matrix).
    expect(embedding.weights.map((w) => w.shape)).toEqual([
      [11, 8],
      [8, 8],
    ]);
    tf.dispose([x, img]);
  });

  it('seeded layers initialise identically; forward calls do not leak', async () => {
    const make = () => new layers.TransformerBlock({ heads: 2, seed: 42 });
    const x = tf.tensor3d(numbers(3 * 4, 2), [1, 3, 4]);
    const a = make();
    const b = make();
    expectIdentical(
      tf.tidy(() => values(a.apply(x) as tf.Tensor)),
      tf.tidy(() => values(b.apply(x) as tf.Tensor)),
      'same seed',
    );
    const dropout = new layers.TransformerBlock({ heads: 2, seed: 1, dropout: 0.5 });
    await expectNoLeak(() => dropout.apply(x, { training: true }));
    await expectNoLeak(() => a.apply(x));
    x.dispose();
  });

  it('dropout: seeded masks repeat across instances, change between calls, and are off at inference', () => {
    const x = tf.tensor3d(numbers(2 * 5 * 8, 3), [2, 5, 8]);
    const make = () => new layers.TransformerBlock({ heads: 2, seed: 9, dropout: 0.5 });
    const a = make();
    const b = make();
    const plain = new layers.TransformerBlock({ heads: 2, seed: 9 });
    const run = (layer: layers.TransformerBlock, training: boolean) => tf.tidy(() => values(layer.apply(x, { training }) as tf.Tensor));
    const inference = run(plain, false);
    expectIdentical(run(a, false), inference, 'dropout off at inference');
    const first = run(a, true);
    expectIdentical(run(b, true), first, 'same seed, same first training call');
    expect(
      first.some((v, i) => v !== inference[i]),
      'dropout changes the output in training',
    ).toBe(true);
    expect(
      run(a, true).some((v, i) => v !== first[i]),
      'the next call draws new masks',
    ).toBe(true);
    x.dispose();
  });

  it('rejects invalid configurations with messages naming the field', () => {
    expect(() => new layers.CausalSelfAttention({ heads: 0 })).toThrow(
      /layers\.CausalSelfAttention: argument 'config\.heads' must be a positive integer, received 0/,
    );
    expect(() => new layers.TransformerBlock({ heads: 2, dropuot: 0.1 } as never)).toThrow(ConfigError);
    expect(() => new layers.TransformerBlock({ heads: 2, dropuot: 0.1 } as never)).toThrow(/Did you mean 'dropout'/);
    expect(() => new layers.MaskedConv2D({ filters: 2, kernelSize: 4, maskType: 'A' })).toThrow(/kernelSize' must be odd/);
    expect(() => new layers.MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'C' as never })).toThrow(
      /maskType' must be one of 'A', 'B'/,
    );
    expect(() => new layers.CausalSelfAttention({ heads: 3 }).apply(tf.zeros([1, 2, 8]))).toThrow(/heads' must divide the width 8/);
    const block = new layers.TransformerBlock({ heads: 2, seed: 1 });
    block.apply(tfl.input({ shape: [4, 8] }));
    expect(() => layers.transformerBlock(tf.zeros([8, 8]), block.blockWeights(), { heads: 2 })).toThrow(
      /layers.transformerBlock: argument 'x' must be a tensor of rank 3 \[B, T, C\]/,
    );
    expect(() => layers.transformerBlock(tf.zeros([1, 4, 8]), block.blockWeights(), { heads: 3 })).toThrow(
      /layers.transformerBlock: argument 'options\.heads' must divide the width 8, received 3/,
    );
    const embedding = new layers.TokenPositionEmbedding({ vocabSize: 5, blockSize: 4, width: 2 });
    expect(() => embedding.apply(tf.zeros([1, 5], 'int32'))).toThrow(/offset \+ T <= blockSize 4/);
  });

  it('the attention and transformer functions reject heads that are not a positive integer (1.5 divides no width: tfjs would fail in a reshape)', () => {
    const block = new layers.TransformerBlock({ heads: 2, seed: 1 });
    block.apply(tfl.input({ shape: [4, 8] }));
    const weights = block.blockWeights();
    const calls: [string, (heads: number) => unknown][] = [
      ['layers.transformerBlock', (heads) => layers.transformerBlock(tf.zeros([1, 4, 8]), weights, { heads })],
      ['layers.transformerBlockStep', (heads) => layers.transformerBlockStep(tf.zeros([1, 1, 8]), weights, null, { heads })],
      ['layers.causalSelfAttention', (heads) => layers.causalSelfAttention(tf.zeros([1, 4, 8]), weights.attention, { heads })],
      ['layers.attentionStep', (heads) => layers.attentionStep(weights.attention, tf.zeros([1, 1, 8]), null, { heads })],
    ];
    for (const [fn, call] of calls) {
      const name = fn.replace('.', '\\.');
      expect(() => call(1.5)).toThrow(new RegExp(`${name}: argument 'options\\.heads' must be a positive integer, received 1\\.5`));
      expect(() => call(0)).toThrow(new RegExp(`${name}: argument 'options\\.heads' must be a positive integer, received 0`));
      expect(() => call(3)).toThrow(new RegExp(`${name}: argument 'options\\.heads' must divide the width 8, received 3`));
    }
    expect(() => layers.transformerBlockStep(tf.zeros([1, 2, 8]), weights, null, { heads: 2 })).toThrow(
      /layers\.transformerBlockStep: argument 'xT' must be a tensor of shape \[B, 1, C\]/,
    );
  });
});

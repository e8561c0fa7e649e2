/**
 * Saving and loading models and optimizer state to a folder on disk, without tfjs-node.
 *
 * A model folder holds `model.json` (the standard tfjs `ModelJSON`: topology plus weights
 * manifest) and `weights.bin` (all weights, concatenated in manifest order), the same layout
 * `tfjs-node`'s `file://` handler writes, so either side can read the other's folders. An
 * optimizer folder holds `optimizer.json` and `optimizer-weights.bin`.
 *
 * Every write goes to a temporary folder that is renamed into place, so a crash mid-write
 * leaves the previous folder intact. Every read is validated (files present, JSON well formed,
 * byte counts matching the manifest) before any weight is used.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError } from '../errors.js';
import { describe } from '../validation.js';
import { writeDirAtomic } from './atomic.js';

/** File name of the model topology and weights manifest in a model folder. @category Node */
export const MODEL_JSON = 'model.json';
/** File name of the concatenated weights in a model folder. @category Node */
export const WEIGHTS_BIN = 'weights.bin';
/** File name of the optimizer description in an optimizer folder. @category Node */
export const OPTIMIZER_JSON = 'optimizer.json';
/** File name of the optimizer's weights in an optimizer folder. @category Node */
export const OPTIMIZER_WEIGHTS_BIN = 'optimizer-weights.bin';

const OPTIMIZER_FORMAT = 'genblocks-optimizer';

const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function checkDir(dir: unknown, fn: string): asserts dir is string {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new ArgumentError({ fn, arg: 'dir', expected: 'be a non-empty folder path', received: describe(dir) });
  }
}

function folderError(fn: string, dir: string, expected: string, received: string, hint?: string): ArgumentError {
  return new ArgumentError({ fn, arg: 'dir', expected, received: `${received} in '${dir}'`, hint });
}

async function readJson(path: string, dir: string, fn: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw folderError(fn, dir, `contain ${path.slice(dir.length + 1)}`, code === 'ENOENT' ? 'no such file' : `an unreadable file (${code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw folderError(fn, dir, `contain a valid JSON file ${path.slice(dir.length + 1)}`, `invalid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw folderError(fn, dir, `contain a JSON object in ${path.slice(dir.length + 1)}`, describe(parsed));
  }
  return parsed as Record<string, unknown>;
}

/** Bytes a weight occupies in a weights file, from its spec (quantized or not). */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = spec.shape.reduce((a, b) => a * b, 1);
  return size * BYTES_PER_ELEMENT[dtype]!;
}

/** Checks a weights manifest's structure; returns its specs in order and the file names. */
function checkManifest(
  manifest: unknown,
  file: string,
  dir: string,
  fn: string,
): { specs: tf.io.WeightsManifestEntry[]; paths: string[] } {
  const bad = (what: string) => folderError(fn, dir, `contain a valid weights manifest in ${file}`, what);
  if (!Array.isArray(manifest)) throw bad(`weightsManifest is ${describe(manifest)}`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const paths: string[] = [];
  for (const group of manifest as tf.io.WeightsManifestConfig) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw bad('a group without paths or weights');
    for (const path of group.paths) {
      if (typeof path !== 'string' || path.length === 0 || path.includes('/') || path.includes('\\') || path.startsWith('.')) {
        throw bad(`a weights path ${describe(path)} outside the folder`);
      }
      paths.push(path);
    }
    for (const spec of group.weights) {
      const dtype = spec?.quantization?.dtype ?? spec?.dtype;
      const shapeOk = Array.isArray(spec?.shape) && spec.shape.every((d) => Number.isInteger(d) && d >= 0);
      if (typeof spec?.name !== 'string' || !shapeOk || BYTES_PER_ELEMENT[dtype as string] === undefined) {
        throw bad(`an invalid weight entry ${JSON.stringify(spec)}`);
      }
      specs.push(spec);
    }
  }
  return { specs, paths };
}

/** Reads and concatenates the weight files, checking the total size against the specs. */
async function readWeights(dir: string, paths: string[], specs: tf.io.WeightsManifestEntry[], fn: string): Promise<ArrayBuffer> {
  const buffers: Uint8Array[] = [];
  for (const path of paths) {
    try {
      buffers.push(await fs.readFile(join(dir, path)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw folderError(fn, dir, `contain the weights file ${path} named by the manifest`, code === 'ENOENT' ? 'no such file' : `an unreadable file (${code})`);
    }
  }
  const expected = specs.reduce((sum, spec) => sum + specBytes(spec), 0);
  const found = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  if (found !== expected) {
    throw folderError(
      fn,
      dir,
      `hold ${expected} bytes of weights, as the manifest's ${specs.length} weights require`,
      `${found} bytes in ${paths.join(', ')}`,
      found < expected ? 'The weights file is truncated: save the model again' : 'The weights file does not belong to this manifest',
    );
  }
  const joined = new Uint8Array(found);
  let offset = 0;
  for (const b of buffers) {
    joined.set(b, offset);
    offset += b.byteLength;
  }
  return joined.buffer;
}

/**
 * A `tf.io.IOHandler` that saves a model to, and loads it from, a folder on disk:
 * `model.json` (topology and weights manifest) plus `weights.bin`. Works in Node without
 * tfjs-node (whose `file://` handler needs native binaries); the folder layout is the same.
 *
 * Saving writes a temporary folder and renames it over `dir`, replacing its previous content,
 * so `dir` should hold one model only. Loading checks that both files exist, that `model.json`
 * is valid, and that `weights.bin` holds exactly the bytes the manifest describes.
 *
 * @see https://js.tensorflow.org/api/latest/#io.withSaveHandler (tfjs IO handlers)
 * @param dir Folder to write or read.
 * @returns An IOHandler for `model.save(...)` and `tfl.loadLayersModel(...)` (`@tensorflow/tfjs-layers`).
 * @example
 * ```ts
 * await model.save(folderHandler('out/generator'));
 * const again = await tfl.loadLayersModel(folderHandler('out/generator'));
 * ```
 * @category Node
 */
export function folderHandler(dir: string): tf.io.IOHandler {
  checkDir(dir, 'folderHandler');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new ArgumentError({
          fn: 'folderHandler.save',
          arg: 'artifacts.modelTopology',
          expected: 'be a JSON topology (a layers model)',
          received: 'binary topology',
        });
      }
      const weightsManifest: tf.io.WeightsManifestConfig = [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest,
      };
      if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature !== undefined) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer !== undefined) modelJson.modelInitializer = artifacts.modelInitializer;
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      await writeDirAtomic(dir, async (tmp) => {
        await fs.writeFile(join(tmp, MODEL_JSON), JSON.stringify(modelJson));
        await fs.writeFile(join(tmp, WEIGHTS_BIN), new Uint8Array(weights));
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const fn = 'folderHandler.load';
      const json = (await readJson(join(dir, MODEL_JSON), dir, fn)) as unknown as tf.io.ModelJSON;
      if (json.modelTopology === null || typeof json.modelTopology !== 'object') {
        throw folderError(fn, dir, `contain a model topology in ${MODEL_JSON}`, `modelTopology ${describe(json.modelTopology)}`);
      }
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
      };
      if (json.trainingConfig !== undefined) artifacts.trainingConfig = json.trainingConfig;
      if (json.signature !== undefined) artifacts.signature = json.signature;
      if (json.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = json.userDefinedMetadata;
      if (json.modelInitializer !== undefined) artifacts.modelInitializer = json.modelInitializer;
      if (json.weightsManifest !== undefined) {
        const { specs, paths } = checkManifest(json.weightsManifest, MODEL_JSON, dir, fn);
        artifacts.weightSpecs = specs;
        artifacts.weightData = await readWeights(dir, paths, specs, fn);
      }
      return artifacts;
    },
  };
}

/**
 * Saves `model` to the folder `dir` (`model.json` + `weights.bin`), atomically: the folder is
 * written under a temporary name and renamed into place, replacing any previous content.
 *
 * @param model The model to save (any `tf.LayersModel`, including ones with genblocks layers).
 * @param dir Destination folder.
 * @returns tfjs' save result.
 * @example
 * ```ts
 * await saveModel(generator, 'checkpoints/generator');
 * ```
 * @category Node
 */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<tf.io.SaveResult> {
  if (!(model instanceof tfl.LayersModel)) {
    throw new ArgumentError({ fn: 'saveModel', arg: 'model', expected: 'be a tf.LayersModel', received: describe(model) });
  }
  checkDir(dir, 'saveModel');
  return model.save(folderHandler(dir));
}

/**
 * Loads a model saved by {@link saveModel} (or tfjs-node's `file://` handler) from `dir`.
 * Models with genblocks layers load once `genblocks` (or `genblocks/node`) is imported.
 *
 * @param dir Folder holding `model.json` and `weights.bin`.
 * @param options `strict` (default true): every weight of the model must be in the file.
 * @returns The model.
 * @example
 * ```ts
 * const generator = await loadModel('checkpoints/generator');
 * ```
 * @category Node
 */
export async function loadModel(dir: string, options: { strict?: boolean } = {}): Promise<tfl.LayersModel> {
  checkDir(dir, 'loadModel');
  const handler = folderHandler(dir);
  const artifacts = await handler.load!();
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts), { strict: options.strict ?? true });
  } catch (e) {
    throw folderError(
      'loadModel',
      dir,
      'hold weights that match the model topology in model.json',
      `a mismatch (${(e as Error).message})`,
    );
  }
}

/** Contents of `optimizer.json`. @internal */
interface OptimizerJson {
  format: string;
  formatVersion: number;
  className: string;
  config: tf.serialization.ConfigDict;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/**
 * Saves an optimizer's class, config and state (`optimizer.getWeights()`: the iteration count
 * and slot variables such as Adam's moments) to the folder `dir`, atomically.
 *
 * The slot variables are stored in the optimizer's order, which follows the order in which it
 * first saw the variables: restore into an optimizer that will update the same variables in
 * the same order.
 *
 * @param optimizer A tfjs optimizer (`tf.train.adam(...)`, ...).
 * @param dir Destination folder (`optimizer.json` + `optimizer-weights.bin`).
 * @example
 * ```ts
 * await saveOptimizer(generatorOptimizer, 'checkpoints/generator-optimizer');
 * ```
 * @category Node
 */
export async function saveOptimizer(optimizer: tf.Optimizer, dir: string): Promise<void> {
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new ArgumentError({ fn: 'saveOptimizer', arg: 'optimizer', expected: 'be a tf.Optimizer', received: describe(optimizer) });
  }
  checkDir(dir, 'saveOptimizer');
  const weights = await optimizer.getWeights();
  let encoded: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    encoded = await tf.io.encodeWeights(weights);
  } finally {
    // getWeights() returns the live slot variables plus fresh tensors (the iteration count):
    // free the fresh ones only.
    for (const { tensor } of weights) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  const json: OptimizerJson = {
    format: OPTIMIZER_FORMAT,
    formatVersion: 1,
    className: optimizer.getClassName(),
    config: optimizer.getConfig(),
    weightsManifest: [{ paths: [OPTIMIZER_WEIGHTS_BIN], weights: encoded.specs }],
  };
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(join(tmp, OPTIMIZER_JSON), JSON.stringify(json));
    await fs.writeFile(join(tmp, OPTIMIZER_WEIGHTS_BIN), new Uint8Array(encoded.data));
  });
}

async function readOptimizer(dir: string, fn: string): Promise<{ json: OptimizerJson; weights: Array<{ name: string; tensor: tf.Tensor }> }> {
  const json = (await readJson(join(dir, OPTIMIZER_JSON), dir, fn)) as unknown as OptimizerJson;
  if (json.format !== OPTIMIZER_FORMAT || typeof json.className !== 'string') {
    throw folderError(fn, dir, `contain an optimizer saved by saveOptimizer in ${OPTIMIZER_JSON}`, `format ${describe(json.format)}`);
  }
  const { specs, paths } = checkManifest(json.weightsManifest, OPTIMIZER_JSON, dir, fn);
  const data = await readWeights(dir, paths, specs, fn);
  const map = tf.io.decodeWeights(data, specs);
  return { json, weights: specs.map((spec) => ({ name: spec.name, tensor: map[spec.name]! })) };
}

/**
 * Restores the state saved by {@link saveOptimizer} into an existing optimizer of the same
 * class (its iteration count and slot variables).
 *
 * @param optimizer The optimizer to restore into; its class must match the saved one.
 * @param dir Folder written by {@link saveOptimizer}.
 * @example
 * ```ts
 * const optimizer = tf.train.adam(2e-4, 0.5);
 * await loadOptimizerWeights(optimizer, 'checkpoints/generator-optimizer');
 * ```
 * @category Node
 */
export async function loadOptimizerWeights(optimizer: tf.Optimizer, dir: string): Promise<void> {
  const fn = 'loadOptimizerWeights';
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new ArgumentError({ fn, arg: 'optimizer', expected: 'be a tf.Optimizer', received: describe(optimizer) });
  }
  checkDir(dir, fn);
  const { json, weights } = await readOptimizer(dir, fn);
  try {
    if (json.className !== optimizer.getClassName()) {
      throw new ArgumentError({
        fn,
        arg: 'optimizer',
        expected: `be a ${json.className}, the class saved in '${dir}'`,
        received: `a ${optimizer.getClassName()}`,
      });
    }
    await optimizer.setWeights(weights);
  } finally {
    // setWeights copies what it keeps into its own variables.
    tf.dispose(weights.map((w) => w.tensor));
  }
}

/**
 * Recreates an optimizer saved by {@link saveOptimizer}: a new instance of the saved class
 * with the saved config (learning rate, betas, ...) and state.
 *
 * @param dir Folder written by {@link saveOptimizer}.
 * @returns The optimizer.
 * @example
 * ```ts
 * const optimizer = await loadOptimizer('checkpoints/generator-optimizer');
 * ```
 * @category Node
 */
export async function loadOptimizer(dir: string): Promise<tf.Optimizer> {
  const fn = 'loadOptimizer';
  checkDir(dir, fn);
  const { json, weights } = await readOptimizer(dir, fn);
  try {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[json.className];
    if (entry === undefined) {
      throw folderError(fn, dir, 'hold an optimizer class registered with tfjs', `className '${json.className}'`);
    }
    const [cls, fromConfig] = entry;
    const optimizer = fromConfig(cls, json.config) as unknown as tf.Optimizer;
    await optimizer.setWeights(weights);
    return optimizer;
  } finally {
    tf.dispose(weights.map((w) => w.tensor));
  }
}

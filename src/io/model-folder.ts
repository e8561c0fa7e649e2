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
import { assertKnownKeys, assertNumber, assertOneOf, describe } from '../validation.js';
import { readRegularFile, UnreadableFileError, writeDirAtomic } from './atomic.js';

/** File name of the model topology and weights manifest in a model folder. @category Node */
export const MODEL_JSON = 'model.json';
/** File name of the concatenated weights in a model folder. @category Node */
export const WEIGHTS_BIN = 'weights.bin';
/** File name of the optimizer description in an optimizer folder. @category Node */
export const OPTIMIZER_JSON = 'optimizer.json';
/** File name of the optimizer's weights in an optimizer folder. @category Node */
export const OPTIMIZER_WEIGHTS_BIN = 'optimizer-weights.bin';

const OPTIMIZER_FORMAT = 'genblocks-optimizer';

/**
 * Largest `model.json` / `optimizer.json` read (64 MiB): a bigger file is refused before it is
 * read.
 *
 * @category Node
 */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * Default cap on the weight bytes a manifest may declare (128 MiB, 32 million float32
 * parameters), checked before any weight file is read or any weight allocated. Raise it with
 * the `maxWeightBytes` option of {@link loadModel} / {@link folderHandler} for a bigger model.
 *
 * @category Node
 */
export const DEFAULT_MAX_WEIGHT_BYTES = 128 * 1024 * 1024;

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
  const file = path.slice(dir.length + 1);
  let text: string;
  try {
    const bytes = await readRegularFile(path, (size) => {
      if (size > MAX_JSON_BYTES) throw new UnreadableFileError(`a file of ${size} bytes (more than the ${MAX_JSON_BYTES} allowed)`);
    });
    text = bytes.toString('utf8');
  } catch (e) {
    if (!(e instanceof UnreadableFileError)) throw e;
    throw folderError(fn, dir, `contain ${file}`, e.reason);
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

/** Bytes a weight occupies in a weights file, from its spec (quantized or not); Infinity past 2^53. */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = spec.shape.reduce((a, b) => a * b, BYTES_PER_ELEMENT[dtype]!);
  return Number.isSafeInteger(bytes) ? bytes : Infinity;
}

/** Checks a weights manifest's structure; returns its specs in order and the file names. */
function checkManifest(manifest: unknown, file: string, dir: string, fn: string): { specs: tf.io.WeightsManifestEntry[]; paths: string[] } {
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

/**
 * Reads and concatenates the weight files. The bytes the manifest declares are checked against
 * `maxBytes`, and each file's size against what is left of them, before the file is read: a
 * hostile manifest or an oversized file costs no memory.
 */
async function readWeights(
  dir: string,
  paths: string[],
  specs: tf.io.WeightsManifestEntry[],
  fn: string,
  maxBytes: number,
): Promise<ArrayBuffer> {
  const expected = specs.reduce((sum, spec) => sum + specBytes(spec), 0);
  if (expected > maxBytes) {
    throw folderError(
      fn,
      dir,
      `declare at most ${maxBytes} bytes of weights (the maxWeightBytes option)`,
      `a manifest declaring ${Number.isFinite(expected) ? expected : 'more than 2^53'} bytes`,
      'Raise maxWeightBytes if this model is trusted and really that large',
    );
  }
  const buffers: Uint8Array[] = [];
  let found = 0;
  const tooLong = (size: number) =>
    folderError(
      fn,
      dir,
      `hold ${expected} bytes of weights, as the manifest's ${specs.length} weights require`,
      `${found + size} bytes in ${paths.join(', ')}`,
      'The weights file does not belong to this manifest',
    );
  for (const path of paths) {
    try {
      const buffer = await readRegularFile(join(dir, path), (size) => {
        if (found + size > expected) throw tooLong(size);
      });
      buffers.push(buffer);
      found += buffer.byteLength;
    } catch (e) {
      if (!(e instanceof UnreadableFileError)) throw e;
      throw folderError(fn, dir, `contain the weights file ${path} named by the manifest`, e.reason);
    }
  }
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
 * Refuses to save over `dir` when it holds anything but the files of one saved folder
 * (`ownFiles`): saving replaces the whole folder, and would delete them. A missing or empty
 * folder, or `overwrite: true`, passes.
 */
async function checkTarget(dir: string, ownFiles: readonly string[], overwrite: boolean, fn: string): Promise<void> {
  if (overwrite) return;
  let entries: string[];
  try {
    const stat = await fs.lstat(dir);
    if (!stat.isDirectory()) {
      throw new ArgumentError({
        fn,
        arg: 'dir',
        expected: 'be a folder (or not exist yet)',
        received: `'${dir}', which is not a folder`,
        hint: 'Pass { overwrite: true } to replace it',
      });
    }
    entries = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const foreign = entries.filter((name) => !ownFiles.includes(name));
  if (foreign.length > 0) {
    throw new ArgumentError({
      fn,
      arg: 'dir',
      expected: `be empty, missing, or a saved folder (${ownFiles.join(', ')}): saving replaces the whole folder`,
      received: `'${dir}' holding ${foreign
        .slice(0, 3)
        .map((name) => `'${name}'`)
        .join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}`,
      hint: 'Save into a folder of its own, or pass { overwrite: true } to delete what is there',
    });
  }
}

/** Options of {@link folderHandler}. @category Node */
export interface FolderHandlerOptions {
  /**
   * Saving: replace `dir` even when it holds other files than a saved model's (they are
   * deleted). Default false: such a folder is refused.
   */
  overwrite?: boolean;
  /**
   * Loading: the most weight bytes the manifest may declare, checked before anything is read
   * (default {@link DEFAULT_MAX_WEIGHT_BYTES}, 128 MiB).
   */
  maxWeightBytes?: number;
}

function checkMaxWeightBytes(value: unknown, fn: string): number {
  if (value === undefined) return DEFAULT_MAX_WEIGHT_BYTES;
  assertNumber(value, 'options.maxWeightBytes', fn, { min: 0, integer: true });
  return value;
}

/**
 * A `tf.io.IOHandler` that saves a model to, and loads it from, a folder on disk:
 * `model.json` (topology and weights manifest) plus `weights.bin`. Works in Node without
 * tfjs-node (whose `file://` handler needs native binaries); the folder layout is the same.
 *
 * Saving writes a temporary folder (every file flushed to disk) and renames it over `dir`,
 * replacing its previous content, so `dir` holds one model only; a folder holding anything else
 * is refused unless `overwrite: true`. Loading reads regular files only (symbolic links, FIFOs
 * and devices are refused), refuses a `model.json` over {@link MAX_JSON_BYTES} and a manifest
 * declaring more than `maxWeightBytes`, and checks that `weights.bin` holds exactly the bytes
 * the manifest describes, all before reading the weights.
 *
 * @see https://js.tensorflow.org/api/latest/#io.withSaveHandler (tfjs IO handlers)
 * @param dir Folder to write or read.
 * @param options See {@link FolderHandlerOptions}.
 * @returns An IOHandler for `model.save(...)` and `tfl.loadLayersModel(...)` (`@tensorflow/tfjs-layers`).
 * @example
 * ```ts
 * await model.save(folderHandler('out/generator'));
 * const again = await tfl.loadLayersModel(folderHandler('out/generator'));
 * ```
 * @category Node
 */
export function folderHandler(dir: string, options: FolderHandlerOptions = {}): tf.io.IOHandler {
  checkDir(dir, 'folderHandler');
  assertKnownKeys(options, ['overwrite', 'maxWeightBytes'], 'options', 'folderHandler');
  const overwrite = options.overwrite ?? false;
  assertOneOf(overwrite, [true, false], 'options.overwrite', 'folderHandler');
  const maxWeightBytes = checkMaxWeightBytes(options.maxWeightBytes, 'folderHandler');
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
      await checkTarget(dir, [MODEL_JSON, WEIGHTS_BIN], overwrite, 'folderHandler.save');
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
        artifacts.weightData = await readWeights(dir, paths, specs, fn, maxWeightBytes);
      }
      return artifacts;
    },
  };
}

/** Options of {@link saveModel}. @category Node */
export interface SaveModelOptions {
  /**
   * Replace `dir` even when it holds files other than a saved model's `model.json` and
   * `weights.bin` (they are deleted). Default false: such a folder is refused.
   */
  overwrite?: boolean;
}

/**
 * Saves `model` to the folder `dir` (`model.json` + `weights.bin`), atomically: the folder is
 * written under a temporary name, flushed to disk and renamed into place, replacing a model
 * saved there before. A folder holding anything else is refused unless `overwrite: true`.
 *
 * @param model The model to save (any `tf.LayersModel`, including ones with genblocks layers).
 * @param dir Destination folder.
 * @param options See {@link SaveModelOptions}.
 * @returns tfjs' save result.
 * @example
 * ```ts
 * await saveModel(generator, 'checkpoints/generator');
 * ```
 * @category Node
 */
export async function saveModel(model: tfl.LayersModel, dir: string, options: SaveModelOptions = {}): Promise<tf.io.SaveResult> {
  if (!(model instanceof tfl.LayersModel)) {
    throw new ArgumentError({ fn: 'saveModel', arg: 'model', expected: 'be a tf.LayersModel', received: describe(model) });
  }
  checkDir(dir, 'saveModel');
  assertKnownKeys(options, ['overwrite'], 'options', 'saveModel');
  const overwrite = options.overwrite ?? false;
  assertOneOf(overwrite, [true, false], 'options.overwrite', 'saveModel');
  // Checked here too, so the error names saveModel and comes before tfjs serialises anything.
  await checkTarget(dir, [MODEL_JSON, WEIGHTS_BIN], overwrite, 'saveModel');
  return model.save(folderHandler(dir, { overwrite: true }));
}

/** Options of {@link loadModel}. @category Node */
export interface LoadModelOptions {
  /**
   * Every weight of the model must be in the folder, and `model.json` must have a weights
   * manifest (default true). With false a missing weight keeps its fresh initial value.
   */
  strict?: boolean;
  /**
   * The most weight bytes the manifest may declare, checked before anything is read or
   * allocated (default {@link DEFAULT_MAX_WEIGHT_BYTES}, 128 MiB).
   */
  maxWeightBytes?: number;
}

/**
 * Loads a model saved by {@link saveModel} (or tfjs-node's `file://` handler) from `dir`.
 * Models with genblocks layers load once `genblocks` (or `genblocks/node`) is imported.
 *
 * Only regular files inside `dir` are read (symbolic links, FIFOs and devices are refused);
 * sizes are checked against the manifest, and the manifest against `maxWeightBytes`, before
 * any weight is read.
 *
 * @param dir Folder holding `model.json` and `weights.bin`.
 * @param options See {@link LoadModelOptions}.
 * @returns The model.
 * @example
 * ```ts
 * const generator = await loadModel('checkpoints/generator');
 * ```
 * @category Node
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<tfl.LayersModel> {
  const fn = 'loadModel';
  checkDir(dir, fn);
  assertKnownKeys(options, ['strict', 'maxWeightBytes'], 'options', fn);
  const strict = options.strict ?? true;
  assertOneOf(strict, [true, false], 'options.strict', fn);
  const handler = folderHandler(dir, { maxWeightBytes: checkMaxWeightBytes(options.maxWeightBytes, fn) });
  const artifacts = await handler.load!();
  if (strict && artifacts.weightSpecs === undefined) {
    throw folderError(
      fn,
      dir,
      `hold the model's weights (a weightsManifest in ${MODEL_JSON})`,
      'a topology without weights',
      'Pass { strict: false } to load it with freshly initialised weights',
    );
  }
  // Built and filled here rather than by tfl.loadLayersModel, so that a model whose weights do
  // not match is disposed (tfjs-layers leaves its variables and the decoded weights allocated).
  const mismatch = (e: unknown) =>
    folderError('loadModel', dir, 'hold weights that match the model topology in model.json', `a mismatch (${(e as Error).message})`);
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'] });
  } catch (e) {
    throw mismatch(e);
  }
  let weights: tf.NamedTensorMap = {};
  try {
    if (artifacts.trainingConfig != null)
      model.loadTrainingConfig(artifacts.trainingConfig as Parameters<tfl.LayersModel['loadTrainingConfig']>[0]);
    if (artifacts.userDefinedMetadata != null) model.setUserDefinedMetadata(artifacts.userDefinedMetadata);
    if (artifacts.weightData != null && artifacts.weightSpecs != null) {
      const specs = artifacts.weightSpecs.filter((spec) => spec.group !== 'optimizer');
      weights = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
      const own: tf.NamedTensorMap = {};
      for (const spec of specs) own[spec.name] = weights[spec.name]!;
      model.loadWeights(own, strict);
    }
  } catch (e) {
    model.dispose();
    throw mismatch(e);
  } finally {
    tf.dispose(Object.values(weights));
  }
  return model;
}

/** Contents of `optimizer.json`. @internal */
interface OptimizerJson {
  format: string;
  formatVersion: number;
  className: string;
  config: tf.serialization.ConfigDict;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** Options of {@link saveOptimizer}. @category Node */
export interface SaveOptimizerOptions {
  /**
   * Replace `dir` even when it holds files other than a saved optimizer's (they are deleted).
   * Default false: such a folder is refused.
   */
  overwrite?: boolean;
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
 * @param options See {@link SaveOptimizerOptions}.
 * @example
 * ```ts
 * await saveOptimizer(generatorOptimizer, 'checkpoints/generator-optimizer');
 * ```
 * @category Node
 */
export async function saveOptimizer(optimizer: tf.Optimizer, dir: string, options: SaveOptimizerOptions = {}): Promise<void> {
  const fn = 'saveOptimizer';
  if (!(optimizer instanceof tf.Optimizer)) {
    throw new ArgumentError({ fn, arg: 'optimizer', expected: 'be a tf.Optimizer', received: describe(optimizer) });
  }
  checkDir(dir, fn);
  assertKnownKeys(options, ['overwrite'], 'options', fn);
  const overwrite = options.overwrite ?? false;
  assertOneOf(overwrite, [true, false], 'options.overwrite', fn);
  await checkTarget(dir, [OPTIMIZER_JSON, OPTIMIZER_WEIGHTS_BIN], overwrite, fn);
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

type OptimizerClass = { fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.Optimizer };

/**
 * tfjs' optimizer classes by their serialized name, with their config fields: `number` fields
 * must be finite and ≥ 0, `boolean` fields booleans. A map without a prototype, read with an
 * own-property check, so `'constructor'` or `'__proto__'` name nothing.
 */
const OPTIMIZER_CLASSES: Readonly<Record<string, { cls: () => OptimizerClass; fields: Record<string, 'number' | 'boolean'> }>> =
  Object.assign(
    Object.create(null) as Record<string, never>,
    {
      SGD: { cls: () => tf.SGDOptimizer, fields: { learningRate: 'number' } },
      Momentum: { cls: () => tf.MomentumOptimizer, fields: { learningRate: 'number', momentum: 'number', useNesterov: 'boolean' } },
      Adam: { cls: () => tf.AdamOptimizer, fields: { learningRate: 'number', beta1: 'number', beta2: 'number', epsilon: 'number' } },
      Adamax: {
        cls: () => tf.AdamaxOptimizer,
        fields: { learningRate: 'number', beta1: 'number', beta2: 'number', epsilon: 'number', decay: 'number' },
      },
      Adagrad: { cls: () => tf.AdagradOptimizer, fields: { learningRate: 'number', initialAccumulatorValue: 'number' } },
      Adadelta: { cls: () => tf.AdadeltaOptimizer, fields: { learningRate: 'number', rho: 'number', epsilon: 'number' } },
      RMSProp: {
        cls: () => tf.RMSPropOptimizer,
        fields: { learningRate: 'number', decay: 'number', momentum: 'number', epsilon: 'number', centered: 'boolean' },
      },
    } as const,
  );

/** Checks `optimizer.json`'s class name and config against tfjs' optimizer classes. */
function checkOptimizerJson(json: OptimizerJson, dir: string, fn: string): void {
  const bad = (expected: string, received: string) => folderError(fn, dir, `${expected} in ${OPTIMIZER_JSON}`, received);
  if (json.format !== OPTIMIZER_FORMAT) throw bad('contain an optimizer saved by saveOptimizer', `format ${describe(json.format)}`);
  const known = Object.keys(OPTIMIZER_CLASSES);
  if (typeof json.className !== 'string' || !Object.prototype.hasOwnProperty.call(OPTIMIZER_CLASSES, json.className)) {
    throw bad(`name one of tfjs' optimizer classes (${known.join(', ')})`, `className ${describe(json.className)}`);
  }
  const { fields } = OPTIMIZER_CLASSES[json.className]!;
  const config = json.config as unknown;
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw bad('contain a config object', `config ${describe(config)}`);
  for (const [key, value] of Object.entries(config)) {
    const kind = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    if (kind === undefined) throw bad(`have only ${json.className}'s config fields (${Object.keys(fields).join(', ')})`, `config.${key}`);
    const ok = kind === 'boolean' ? typeof value === 'boolean' : typeof value === 'number' && Number.isFinite(value) && value >= 0;
    if (!ok) {
      throw bad(`have config.${key} ${kind === 'boolean' ? 'a boolean' : 'a finite number >= 0'}`, `config.${key} ${describe(value)}`);
    }
  }
  const missing = Object.keys(fields).filter((key) => !Object.prototype.hasOwnProperty.call(config, key));
  if (missing.length > 0) throw bad(`have every ${json.className} config field`, `no config.${missing[0]}`);
}

async function readOptimizer(
  dir: string,
  fn: string,
): Promise<{ json: OptimizerJson; weights: Array<{ name: string; tensor: tf.Tensor }> }> {
  const json = (await readJson(join(dir, OPTIMIZER_JSON), dir, fn)) as unknown as OptimizerJson;
  checkOptimizerJson(json, dir, fn);
  const { specs, paths } = checkManifest(json.weightsManifest, OPTIMIZER_JSON, dir, fn);
  const data = await readWeights(dir, paths, specs, fn, DEFAULT_MAX_WEIGHT_BYTES);
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
    // checkOptimizerJson made sure className is an own key of OPTIMIZER_CLASSES.
    const cls = OPTIMIZER_CLASSES[json.className]!.cls();
    const optimizer = cls.fromConfig(cls, json.config);
    await optimizer.setWeights(weights);
    return optimizer;
  } finally {
    tf.dispose(weights.map((w) => w.tensor));
  }
}

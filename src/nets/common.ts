/**
 * Shared pieces of the network builders: config validation, activation and normalization
 * layers, and the halving arithmetic of the convolutional builders (label conditioning is in
 * `layers/label-conditioning.ts`).
 *
 * Internal: nothing here is exported from `genblocks`.
 *
 * @module
 * @internal
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import {
  assertKnownKeys,
  assertNonNegativeInt,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  assertPositiveIntArray,
  describe,
  formatShape,
} from '../validation.js';
import { SpectralNormalization } from '../layers/spectral-normalization.js';

/** Hidden-layer activations the builders accept. @category Networks */
export type Activation = 'leakyRelu' | 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'linear';
/** Normalization after each hidden layer. @category Networks */
export type Normalization = 'batch' | 'layer' | 'none';
/** Activation applied to a generator's or decoder's output. @category Networks */
export type OutputActivation = 'tanh' | 'sigmoid' | 'linear';

/** @internal */
export const ACTIVATIONS: readonly Activation[] = ['leakyRelu', 'relu', 'elu', 'tanh', 'sigmoid', 'linear'];
/** @internal */
export const NORMALIZATIONS: readonly Normalization[] = ['batch', 'layer', 'none'];
/** @internal */
export const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ['tanh', 'sigmoid', 'linear'];

/** A symbolic tensor flowing through a functional model. @internal */
export type Sym = tfl.SymbolicTensor;

/** Applies `layer` to symbolic input(s), typed. @internal */
export function applyLayer(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/**
 * Validates the config object itself: a plain object with no keys but `known` (a misspelled
 * key throws, naming the closest known one). @internal
 */
export function checkConfig(config: unknown, known: readonly string[], fn: string): asserts config is object {
  if (config === undefined || config === null) {
    throw new ConfigError({ fn, arg: 'config', expected: 'be a config object', received: describe(config) });
  }
  if (typeof config === 'object' && !Array.isArray(config)) {
    for (const key of Object.keys(config)) {
      const meant = Object.prototype.hasOwnProperty.call(SYNONYMS, key) ? SYNONYMS[key] : undefined;
      if (meant !== undefined && known.includes(meant) && !known.includes(key)) {
        throw new ConfigError({
          fn,
          arg: `config.${key}`,
          expected: `be one of the known config fields (${known.join(', ')})`,
          received: 'an unknown key',
          hint: `Did you mean '${meant}'?`,
        });
      }
    }
  }
  assertKnownKeys(config, known, 'config', fn);
}

/**
 * Names other libraries (Keras, PyTorch, tutorials) give to the builders' fields, mapped to
 * ours: too far apart for an edit-distance guess, but what a user coming from them types.
 */
const SYNONYMS: Readonly<Record<string, string>> = {
  hiddenUnits: 'widths',
  hiddenSizes: 'widths',
  hiddenLayers: 'widths',
  hiddenDims: 'widths',
  units: 'widths',
  layers: 'widths',
  filters: 'widths',
  channels: 'widths',
  zDim: 'latentDim',
  noiseDim: 'latentDim',
  latentSize: 'latentDim',
  codeSize: 'latentDim',
  imageShape: 'inputShape',
  nClasses: 'numClasses',
  classes: 'numClasses',
};

/** A tfjs-layers initializer. */
type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** MurmurHash3's 32-bit finalizer (public-domain constants). */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Hands out the initializer seeds of a builder's layers: the k-th seeded layer gets
 * `hash(seed, k)`, so the same builder seed gives identical weights and different seeds give
 * different ones. With no builder seed every method returns `{}` and the layers keep tfjs'
 * default (unseeded) initializers.
 *
 * @internal
 */
export class LayerSeeds {
  private count = 0;

  constructor(private readonly seed: number | undefined) {}

  /** The next layer's seed, an integer in `[0, 2^31)`, or undefined when unseeded. */
  next(): number | undefined {
    if (this.seed === undefined) return undefined;
    const h = fmix32(
      fmix32((this.seed >>> 0) ^ Math.imul(Math.floor(this.seed / 2 ** 32) >>> 0, 0x9e3779b9)) ^ Math.imul(++this.count, 0x27d4eb2f),
    );
    return h & 0x7fffffff;
  }

  /** `kernelInitializer` of a dense or convolution layer: tfjs' default `glorotUniform`, seeded. */
  kernel(): { kernelInitializer?: Initializer } {
    const seed = this.next();
    return seed === undefined ? {} : { kernelInitializer: tfl.initializers.glorotUniform({ seed }) };
  }

  /** `embeddingsInitializer` of an embedding: tfjs' default `randomUniform(-0.05, 0.05)`, seeded. */
  embeddings(): { embeddingsInitializer?: Initializer } {
    const seed = this.next();
    return seed === undefined ? {} : { embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }) };
  }
}

/** Validates a builder's `seed` (a non-negative integer) and returns its layer seeds. @internal */
export function layerSeeds(seed: unknown, fn: string): LayerSeeds {
  if (seed !== undefined) assertNonNegativeInt(seed, 'config.seed', fn);
  return new LayerSeeds(seed as number | undefined);
}

/** Validates an optional model/layer name. @internal */
export function checkName(name: unknown, fn: string): asserts name is string | undefined {
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new ConfigError({ fn, arg: 'config.name', expected: 'be a non-empty string', received: describe(name) });
  }
}

/** Validates an image shape `[height, width, channels]`. @internal */
export function checkImageShape(shape: unknown, arg: string, fn: string): asserts shape is [number, number, number] {
  assertPositiveIntArray(shape, arg, fn, 3);
}

/** Validates a data shape of rank 1 to 3 (`[features]` or `[height, width, channels]`). @internal */
export function checkDataShape(shape: unknown, arg: string, fn: string): asserts shape is number[] {
  assertPositiveIntArray(shape, arg, fn, [1, 2, 3]);
}

/** Asserts that a convolutional builder's `widths` (when given) is not empty. @internal */
export function checkNonEmptyWidths(widths: number[] | undefined, fn: string): void {
  if (widths !== undefined && widths.length === 0) {
    throw new ConfigError({ fn, arg: 'config.widths', expected: 'have at least one entry', received: '[]' });
  }
}

/** Validates a dropout rate in [0, 1). @internal */
export function checkDropout(rate: unknown, arg: string, fn: string): asserts rate is number {
  assertNumber(rate, arg, fn, { min: 0, max: 1, maxExclusive: true });
}

/** Validates a leaky ReLU slope in [0, 1). @internal */
export function checkAlpha(alpha: unknown, arg: string, fn: string): asserts alpha is number {
  assertNumber(alpha, arg, fn, { min: 0, max: 1, maxExclusive: true });
}

/** Validates the common hidden-layer options. @internal */
export function checkHidden(
  config: { activation?: unknown; normalization?: unknown; leakyReluAlpha?: unknown; dropout?: unknown },
  fn: string,
): void {
  if (config.activation !== undefined) assertOneOf(config.activation, ACTIVATIONS, 'config.activation', fn);
  if (config.normalization !== undefined) assertOneOf(config.normalization, NORMALIZATIONS, 'config.normalization', fn);
  if (config.leakyReluAlpha !== undefined) checkAlpha(config.leakyReluAlpha, 'config.leakyReluAlpha', fn);
  if (config.dropout !== undefined) checkDropout(config.dropout, 'config.dropout', fn);
}

/** Validates `numClasses` when present. @internal */
export function checkNumClasses(numClasses: unknown, fn: string): asserts numClasses is number | undefined {
  if (numClasses !== undefined) assertPositiveInt(numClasses, 'config.numClasses', fn);
}

/** Builds the activation layer for a hidden layer. @internal */
export function activationLayer(activation: Activation, leakyReluAlpha: number, name?: string): tfl.layers.Layer {
  if (activation === 'leakyRelu') return tfl.layers.leakyReLU({ alpha: leakyReluAlpha, name });
  return tfl.layers.activation({ activation, name });
}

/** Builds the normalization layer, or null for `'none'`. @internal */
export function normalizationLayer(normalization: Normalization, name?: string): tfl.layers.Layer | null {
  if (normalization === 'batch') return tfl.layers.batchNormalization({ name });
  if (normalization === 'layer') return tfl.layers.layerNormalization({ name });
  return null;
}

/** Applies normalization (if any) then the activation. @internal */
export function normAndActivate(x: Sym, normalization: Normalization, activation: Activation, leakyReluAlpha: number): Sym {
  const norm = normalizationLayer(normalization);
  const y = norm ? applyLayer(norm, x) : x;
  return applyLayer(activationLayer(activation, leakyReluAlpha), y);
}

/** Wraps `layer` in spectral normalization when `on` (its initial `u` seeded from `seeds`). @internal */
export function maybeSpectral(layer: tfl.layers.Layer, on: boolean, seeds: LayerSeeds): tfl.layers.Layer {
  if (!on) return layer;
  const seed = seeds.next();
  return new SpectralNormalization(seed === undefined ? { layer } : { layer, seed });
}

/** Number of times `n` halves to an integer. */
function halvings(n: number): number {
  let count = 0;
  while (n % 2 === 0 && n > 1) {
    n /= 2;
    count++;
  }
  return count;
}

/**
 * Default number of stride-2 stages for an image of `height x width`: halve while both sides
 * halve cleanly and stay at least 4 (28 -> 14 -> 7: 2; 32 -> 4: 3; 64 -> 4: 4).
 *
 * @internal
 */
export function defaultStages(height: number, width: number): number {
  let h = height;
  let w = width;
  let stages = 0;
  while (h % 2 === 0 && w % 2 === 0 && h / 2 >= 4 && w / 2 >= 4) {
    h /= 2;
    w /= 2;
    stages++;
  }
  return stages;
}

/**
 * Asserts that `height x width` halves cleanly `stages` times (at least once) and returns the
 * smallest spatial size.
 *
 * @internal
 */
export function checkHalving(shape: readonly number[], stages: number, arg: string, fn: string, stagesArg: string): [number, number] {
  const [height, width] = shape as [number, number];
  const factor = 2 ** stages;
  if (stages < 1 || height % factor !== 0 || width % factor !== 0) {
    const possible = Math.min(halvings(height), halvings(width));
    throw new ConfigError({
      fn,
      arg,
      expected:
        stages < 1
          ? 'have a height and width that halve cleanly at least once (even sizes such as 28, 32 or 64)'
          : `have a height and width divisible by 2^${stages} = ${factor} (${stages} stride-2 stages, from ${stagesArg})`,
      received: `shape ${formatShape(shape)}`,
      hint:
        possible > 0
          ? `This size halves cleanly ${possible} time(s): use at most ${possible} stage(s) or an image size such as 28, 32 or 64`
          : 'Pad or resize the images to an even size such as 28, 32 or 64',
    });
  }
  return [height / factor, width / factor];
}

/** Default channel widths `[64*2^(n-1), ..., 64]` capped at 512, `n` entries (generator order). @internal */
export function defaultWidths(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.min(64 * 2 ** (n - 1 - i), 512));
}

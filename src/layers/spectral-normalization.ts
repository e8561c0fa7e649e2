/**
 * Spectral normalization (Miyato et al. 2018) as a tfjs-layers wrapper.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ConfigError } from '../errors.js';
import { assertNumber, assertPositiveInt, describe } from '../validation.js';

const FN = 'nets.SpectralNormalization';

/** Layers whose weight matrix the wrapper normalizes, and the attribute that holds it. */
const SUPPORTED: Record<string, string> = {
  Dense: 'kernel',
  Conv1D: 'kernel',
  Conv2D: 'kernel',
  Conv2DTranspose: 'kernel',
  Conv3D: 'kernel',
  Embedding: 'embeddings',
};

/** Arguments of {@link SpectralNormalization}. @category Layers */
export interface SpectralNormalizationArgs {
  /** The layer to wrap: a `dense`, `conv1d`, `conv2d`, `conv2dTranspose`, `conv3d` or `embedding` layer. */
  layer: tfl.layers.Layer;
  /** Power-iteration steps per training call. Default 1 (the paper's choice). */
  powerIterations?: number;
  /** Small constant added to norms before dividing. Default 1e-12. */
  epsilon?: number;
  /** Seed of the random initial `u`. Default: unseeded. */
  seed?: number;
  /** Layer name. Default: derived from the wrapped layer's name. */
  name?: string;
  /** Whether the wrapped layer's weights are trainable. Default: the wrapped layer's setting. */
  trainable?: boolean;
}

/** The gradient-free identity: a value treated as a constant by `tf.grad` (u and v of the paper). */
const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/** `x / (||x||_2 + epsilon)` for a row vector. */
function l2Normalize(x: tf.Tensor2D, epsilon: number): tf.Tensor2D {
  return tf.div(x, tf.add(tf.norm(x), epsilon));
}

/**
 * One or more power-iteration steps (Miyato et al. 2018, Algorithm 1) on the matrix `w`
 * `[n, m]`, starting from `u` `[1, m]`:
 *
 *   v ← l2normalize(u Wᵀ),  u ← l2normalize(v W)
 *
 * Returns the new `u` and `v`, both treated as constants by autodiff.
 *
 * @internal
 */
export function powerIteration(w: tf.Tensor2D, u: tf.Tensor2D, iterations: number, epsilon: number): { u: tf.Tensor2D; v: tf.Tensor2D } {
  return tf.tidy(() => {
    // u Wᵀ as a broadcast multiply and row sum: a [1, m]·[n, m]ᵀ product would take the
    // transposed matMul path, which is slow on wasm.
    const uTimesWT = (uRow: tf.Tensor2D) => tf.reshape(tf.sum(tf.mul(w, uRow), 1), [1, -1]) as tf.Tensor2D;
    let uHat = l2Normalize(u, epsilon);
    let vHat = l2Normalize(uTimesWT(uHat), epsilon);
    for (let i = 0; i < iterations; i++) {
      if (i > 0) vHat = l2Normalize(uTimesWT(uHat), epsilon);
      uHat = l2Normalize(tf.matMul(vHat, w), epsilon);
    }
    return { u: stopGradient(uHat) as tf.Tensor2D, v: stopGradient(vHat) as tf.Tensor2D };
  });
}

/**
 * Spectral normalization of a layer's weight: the wrapped layer runs with `W / σ(W)`, where
 * `σ(W) = vᵀ W u` estimates the largest singular value of the weight reshaped to a matrix
 * `[-1, outputDim]` by power iteration with a persistent vector `u`.
 *
 * `u` is a non-trainable weight (saved and loaded with the model). It is updated only in
 * training calls (`model.apply(x, { training: true })`, `fit`); at inference σ is computed
 * from the stored `u` without updating it, so predictions are deterministic and a saved and
 * reloaded model gives identical outputs. Gradients flow through `W` in both the numerator and
 * σ, with `u` and `v` held constant (as in the paper and PyTorch's `spectral_norm`), so
 * second-order gradients (WGAN-GP, R1) work.
 *
 * Registered as `genblocks>SpectralNormalization` by importing `genblocks`.
 *
 * @see https://arxiv.org/abs/1802.05957 (Miyato et al., Spectral Normalization for GANs)
 * @example
 * ```ts
 * const layer = new nets.SpectralNormalization({ layer: tf.layers.conv2d({ filters: 64, kernelSize: 4, strides: 2 }) });
 * const y = layer.apply(tf.input({ shape: [32, 32, 3] }));
 * ```
 * @category Layers
 */
export class SpectralNormalization extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>SpectralNormalization';

  /** The wrapped layer. */
  readonly layer: tfl.layers.Layer;
  /** Power-iteration steps per training call. */
  readonly powerIterations: number;
  /** Norm stabilizer. */
  readonly epsilon: number;
  private readonly seed: number | undefined;
  private readonly weightAttribute: string;
  private u: tfl.LayerVariable | null = null;

  constructor(args: SpectralNormalizationArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({ fn: FN, arg: 'args', expected: 'be an object with a layer', received: describe(args) });
    }
    const { layer, powerIterations = 1, epsilon = 1e-12, seed, name } = args;
    if (!(layer instanceof tfl.layers.Layer)) {
      throw new ConfigError({ fn: FN, arg: 'config.layer', expected: 'be a tfjs-layers Layer', received: describe(layer) });
    }
    const attribute = SUPPORTED[layer.getClassName()];
    if (attribute === undefined) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.layer',
        expected: `be one of the layers ${Object.keys(SUPPORTED).join(', ')}`,
        received: `a ${layer.getClassName()} layer`,
      });
    }
    assertPositiveInt(powerIterations, 'config.powerIterations', FN);
    assertNumber(epsilon, 'config.epsilon', FN, { min: 0, minExclusive: true });
    if (seed !== undefined) assertNumber(seed, 'config.seed', FN);
    super({ name: name ?? `spectral_normalization_${layer.name}` });
    this.layer = layer;
    this.powerIterations = powerIterations;
    this.epsilon = epsilon;
    this.seed = seed;
    this.weightAttribute = attribute;
    if (args.trainable === false) this.layer.trainable = false;
  }

  /** The wrapped layer's variable holding the weight matrix. */
  private weightVariable(): tfl.LayerVariable {
    return (this.layer as unknown as Record<string, tfl.LayerVariable>)[this.weightAttribute]!;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (!this.layer.built) {
      this.layer.build(inputShape);
      this.layer.built = true;
    }
    const shape = this.weightVariable().shape;
    const outputDim = shape[shape.length - 1]!;
    this.u = this.addWeight(
      'u',
      [1, outputDim],
      'float32',
      tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed }),
      undefined,
      false,
    );
    this.built = true;
  }

  /** Delegates to the wrapped layer (as tfjs-layers' own wrappers do). */
  override get trainable(): boolean {
    // The base constructor reads and writes `trainable` before `layer` is set.
    return this.layer === undefined ? true : this.layer.trainable;
  }

  /** Sets the wrapped layer's `trainable`. */
  override set trainable(value: boolean) {
    if (this.layer !== undefined) this.layer.trainable = value;
  }

  /** The wrapped layer's trainable weights (the kernel before normalization, and the bias). */
  override get trainableWeights(): tfl.LayerVariable[] {
    return this.layer.trainableWeights;
  }

  /** Not supported: throws. */
  override set trainableWeights(_weights: tfl.LayerVariable[]) {
    throw new Error(`${FN}: trainableWeights cannot be set`);
  }

  /** The wrapped layer's non-trainable weights plus the power-iteration vector `u`. */
  override get nonTrainableWeights(): tfl.LayerVariable[] {
    return this.u ? [...this.layer.nonTrainableWeights, this.u] : this.layer.nonTrainableWeights;
  }

  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    this.layer.setFastWeightInitDuringBuild(value);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return this.layer.computeOutputShape(inputShape);
  }

  /**
   * Runs the wrapped layer with its weight divided by σ. In training, the power iteration
   * advances and the new `u` is stored.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const variable = this.weightVariable();
      const w = variable.read();
      const matrix = tf.reshape(w, [-1, w.shape[w.shape.length - 1]!]) as tf.Tensor2D;
      const stored = this.u!.read() as tf.Tensor2D;
      let u: tf.Tensor2D;
      let v: tf.Tensor2D;
      if (kwargs?.['training'] === true) {
        ({ u, v } = powerIteration(matrix, stored, this.powerIterations, this.epsilon));
        this.u!.write(u);
      } else {
        // Inference: v from the stored u, no update (σ = ||u Wᵀ|| for the normalized u).
        ({ u, v } = powerIteration(matrix, stored, 0, this.epsilon));
      }
      // σ(W) = v W uᵀ, differentiable in W with u and v constant.
      const sigma = tf.sum(tf.mul(tf.matMul(v, matrix), u));
      const normalized = tf.div(w, sigma);
      // The wrapped layer reads its weight through LayerVariable.read(); point that read at
      // the normalized weight for the duration of the call, so every layer type keeps its own
      // forward code (fused bias/activation, strides, padding, data format).
      const originalRead = variable.read;
      variable.read = () => normalized;
      try {
        return this.layer.call(inputs, kwargs);
      } finally {
        variable.read = originalRead;
      }
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      layer: { className: this.layer.getClassName(), config: this.layer.getConfig() },
      powerIterations: this.powerIterations,
      epsilon: this.epsilon,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }

  /** Rebuilds the wrapper and its wrapped layer from {@link SpectralNormalization.getConfig}. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { layer: layerConfig, ...rest } = config as { layer: { className: string; config: tf.serialization.ConfigDict } };
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[layerConfig.className];
    if (entry === undefined) {
      throw new ConfigError({
        fn: `${FN}.fromConfig`,
        arg: 'config.layer.className',
        expected: 'name a registered tfjs-layers layer',
        received: `'${layerConfig.className}'`,
      });
    }
    const [layerClass, fromConfig] = entry;
    const layer = fromConfig(layerClass, layerConfig.config) as unknown as tfl.layers.Layer;
    return new cls({ ...rest, layer } as unknown as tf.serialization.ConfigDict);
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>SpectralNormalization` and found again by tf.loadLayersModel in any program whose
// code reaches this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(SpectralNormalization, 'genblocks', 'SpectralNormalization');

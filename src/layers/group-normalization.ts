/**
 * Group normalization (Wu & He 2018), as a function and as a registered layer.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../backends/group-norm-kernel.js';
import { BASE_LAYER_KEYS } from './common.js';
import { normalizeByKernels } from './ops.js';
import { ShapeError } from '../errors.js';
import {
  assertFloatTensor,
  assertKnownKeys,
  assertMinRank,
  assertNumber,
  assertOneOf,
  assertPositiveInt,
  formatShape,
} from '../validation.js';

const FN = 'layers.groupNormalization';
const LAYER = 'layers.GroupNormalization';

/** Options of {@link groupNormalization}. @category Layers */
export interface GroupNormalizationOptions {
  /** Number of channel groups G; must divide the channels. Default 32 (Wu & He 2018). */
  groups?: number;
  /** ε added to the variance. Default 1e-5. */
  epsilon?: number;
  /** Per-channel scale γ `[channels]` (default: 1). */
  gamma?: tf.Tensor;
  /** Per-channel shift β `[channels]` (default: 0). */
  beta?: tf.Tensor;
}

/**
 * Group normalization over the last (channel) axis: the C channels are split into G groups
 * and each example is normalised over its spatial positions and the channels of each group
 * (Wu & He 2018, eq. 1-3):
 *
 * ```text
 * μ_{n,g} = mean over (spatial, c ∈ g) of x,   σ²_{n,g} = variance over the same set
 * y = γ_c · (x - μ_{n,g}) / √(σ²_{n,g} + ε) + β_c
 * ```
 *
 * Unlike batch normalization it does not depend on the batch, so training and inference agree.
 *
 * @param x - `[batch, ...spatial, channels]` (rank ≥ 2), float32.
 * @param options - `groups`, `epsilon`, and the affine `gamma`, `beta`.
 * @returns the normalised tensor, same shape as `x`.
 * @see https://arxiv.org/abs/1803.08494 (Wu & He 2018, Group Normalization)
 * @example
 * ```ts
 * const y = layers.groupNormalization(tf.randomNormal([2, 4, 4, 8]), { groups: 4 });
 * ```
 * @category Layers
 */
export function groupNormalization(x: tf.Tensor, options: GroupNormalizationOptions = {}): tf.Tensor {
  assertFloatTensor(x, 'x', FN);
  assertMinRank(x, 2, 'x', FN);
  assertKnownKeys(options, ['groups', 'epsilon', 'gamma', 'beta'], 'options', FN);
  const { groups = 32, epsilon = 1e-5, gamma, beta } = options;
  assertPositiveInt(groups, 'options.groups', FN);
  assertNumber(epsilon, 'options.epsilon', FN, { min: 0, minExclusive: true });
  const channels = x.shape[x.rank - 1]!;
  if (channels % groups !== 0) {
    throw new ShapeError({
      fn: FN,
      arg: 'x',
      expected: `have a channel count divisible by groups (${groups})`,
      received: `shape ${formatShape(x.shape)}`,
    });
  }
  for (const [name, param] of [
    ['options.gamma', gamma],
    ['options.beta', beta],
  ] as const) {
    if (param === undefined) continue;
    assertFloatTensor(param, name, FN);
    if (param.rank !== 1 || param.shape[0] !== channels) {
      throw new ShapeError({ fn: FN, arg: name, expected: `have shape [${channels}]`, received: `shape ${formatShape(param.shape)}` });
    }
  }
  return tf.tidy(FN, () => {
    const batch = x.shape[0]!;
    const grouped = tf.reshape(x, [batch, -1, groups, channels / groups]);
    if (hasGroupNormKernels(x)) {
      const affine = groupNormKernel(grouped, gamma ?? tf.ones([channels]), beta ?? tf.zeros([channels]), epsilon);
      return tf.reshape(affine, x.shape);
    }
    let y = tf.reshape(standardizeGroups(grouped, epsilon), x.shape);
    if (gamma !== undefined) y = tf.mul(y, gamma);
    if (beta !== undefined) y = tf.add(y, beta);
    return y;
  });
}

/** Whether the active backend has genblocks' group-normalization kernels (wasm) and `x` is float32. */
function hasGroupNormKernels(x: tf.Tensor): boolean {
  const backend = tf.getBackend();
  return x.dtype === 'float32' && tf.getKernel(GROUP_NORM_KERNEL, backend) != null && tf.getKernel(GROUP_NORM_GRAD_KERNEL, backend) != null;
}

/**
 * y = γ · x̂ + β by the group-normalization kernels (`../backends/group-norm-kernel.ts`): one
 * kernel forward and one back (x, γ and β's gradients), in place on the data, instead of the
 * dozens of {@link standardizeGroups} and the affine operations.
 */
function groupNormKernel(grouped: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return normalizeByKernels(GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, grouped, gamma, beta, epsilon);
}

/**
 * x̂ = (x - μ) / √(σ² + ε) over axes 1 and 3 of `[batch, positions, groups, channelsPerGroup]`,
 * with the closed-form gradient of normalization (as for batch norm, Ioffe & Szegedy 2015,
 * §3, over the group's N elements):
 *
 * ```text
 * ∂L/∂x = r · (g - mean(g) - x̂ · mean(g ⊙ x̂)),   g = ∂L/∂x̂, r = 1/√(σ² + ε)
 * ```
 *
 * about half the kernels of differentiating `moments` step by step.
 */
function standardizeGroups(grouped: tf.Tensor, epsilon: number): tf.Tensor {
  const standardize = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(input, [1, 3], true);
    const r = tf.rsqrt(tf.add(variance, epsilon));
    const standardized = tf.mul(tf.sub(input, mean), r);
    save([standardized, r]);
    return {
      value: standardized,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, rSaved] = saved as [tf.Tensor, tf.Tensor];
        const centered = tf.sub(dy, tf.mean(dy, [1, 3], true));
        return tf.mul(rSaved, tf.sub(centered, tf.mul(xHat, tf.mean(tf.mul(dy, xHat), [1, 3], true))));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return standardize(grouped);
}

/** Arguments of {@link GroupNormalization}. @category Layers */
export interface GroupNormalizationArgs {
  /** Number of channel groups; must divide the channels. Default 32. */
  groups?: number;
  /** ε added to the variance. Default 1e-5. */
  epsilon?: number;
  /** Learn a per-channel scale γ and shift β. Default `true`. */
  affine?: boolean;
  /** Layer name. */
  name?: string;
  /** Whether the weights train. Default `true`. */
  trainable?: boolean;
}

let defaultNameCount = 0;

/**
 * {@link groupNormalization} as a layer over the last axis, with learned γ (ones) and β
 * (zeros) when `affine`. tfjs-layers has no group normalization; this one is registered as
 * `genblocks>GroupNormalization`, so models containing it save and load.
 *
 * @see https://arxiv.org/abs/1803.08494 (Wu & He 2018)
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 16] });
 * const y = new layers.GroupNormalization({ groups: 4 }).apply(x);
 * ```
 * @category Layers
 */
export class GroupNormalization extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>GroupNormalization';

  /** Number of groups. */
  readonly groups: number;
  /** ε. */
  readonly epsilon: number;
  /** Whether γ and β are learned. */
  readonly affine: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: GroupNormalizationArgs = {}) {
    assertKnownKeys(args, ['groups', 'epsilon', 'affine', ...BASE_LAYER_KEYS], 'config', LAYER);
    const { groups = 32, epsilon = 1e-5, affine = true, name, trainable } = args;
    assertPositiveInt(groups, 'config.groups', LAYER);
    assertNumber(epsilon, 'config.epsilon', LAYER, { min: 0, minExclusive: true });
    assertOneOf(affine, [true, false] as const, 'config.affine', LAYER);
    super({ name: name ?? `group_normalization_${++defaultNameCount}`, trainable });
    this.groups = groups;
    this.epsilon = epsilon;
    this.affine = affine;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number' || channels % this.groups !== 0) {
      throw new ShapeError({
        fn: LAYER,
        arg: 'inputs',
        expected: `have a channel count divisible by groups (${this.groups})`,
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    if (this.affine) {
      this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
      this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return groupNormalization(x, { groups: this.groups, epsilon: this.epsilon, gamma: this.gamma?.read(), beta: this.beta?.read() });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon, affine: this.affine };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>GroupNormalization` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(GroupNormalization, 'genblocks', 'GroupNormalization');

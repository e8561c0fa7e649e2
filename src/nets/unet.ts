/**
 * The UNet denoiser of diffusion models.
 *
 * @module
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { ConfigError } from '../errors.js';
import { GroupNormalization } from '../layers/group-normalization.js';
import { SiLU } from '../layers/silu.js';
import { SpatialAttention } from '../layers/spatial-attention.js';
import { TimeEmbedding } from '../layers/time-embedding.js';
import { assertNonNegativeInt, assertPositiveInt, assertPositiveIntArray, describe } from '../validation.js';
import { labelInput } from '../layers/label-conditioning.js';
import { applyLayer, checkConfig, checkDropout, checkImageShape, checkName, type Sym } from './common.js';

const FN = 'nets.unet';

/** Config of {@link unet}. @category Networks */
export interface UnetConfig {
  /** Shape of one image `[height, width, channels]`; height and width divisible by 2^(levels - 1). Required. */
  imageShape: [number, number, number] | number[];
  /** Channels of the first level. Default 16 (about 0.28M parameters at 28×28 with the other defaults). */
  baseChannels?: number;
  /**
   * One entry per resolution level: its channels are `baseChannels · multiplier`; each level
   * after the first halves the resolution. Default `[1, 2, 2]` (28 → 14 → 7 for MNIST).
   */
  channelMultipliers?: number[];
  /** Residual blocks per level on the way down (one more on the way up). Default 1. */
  residualBlocks?: number;
  /**
   * Resolutions (feature-map heights) with self-attention after each residual block, e.g.
   * `[7]` or `[14, 7]`; `[]` for none. Default: the lowest resolution. The middle block always
   * has attention unless this is `[]`.
   */
  attentionAt?: number[];
  /** Heads of each attention block. Default 1. */
  attentionHeads?: number;
  /** Groups of every GroupNormalization; must divide every level's channels. Default 8. */
  groups?: number;
  /**
   * Number of classes of a class-conditional model: adds a label input (int32 `[batch, 1]`,
   * ids 0 … numClasses) whose embedding is added to the time embedding. Id `numClasses` is the
   * null label of classifier-free guidance. Default: unconditional.
   */
  numClasses?: number;
  /** Dropout rate inside the residual blocks. Default 0. */
  dropout?: number;
  /** Size of the time embedding (after its MLP). Default `4 · baseChannels`. */
  timeEmbeddingDim?: number;
  /** Seed of the weight initialisation (and dropout). Default: unseeded. */
  seed?: number;
  /** Model name. Default: assigned by tfjs-layers. */
  name?: string;
}

const KNOWN = [
  'imageShape',
  'baseChannels',
  'channelMultipliers',
  'residualBlocks',
  'attentionAt',
  'attentionHeads',
  'groups',
  'numClasses',
  'dropout',
  'timeEmbeddingDim',
  'seed',
  'name',
] as const;

/**
 * Builds the UNet of DDPM (Ho et al. 2020, appendix B, after PixelCNN++) as a plain
 * `tf.LayersModel` with inputs `[x, t]` (`[x, t, labels]` when `numClasses` is set) and an
 * output shaped like `x`:
 *
 * ```text
 * temb = MLP(sinusoidal(t)) (+ Embedding(label))            dense → SiLU → dense
 * resBlock(h) = h' + skip(h),  h' = conv(SiLU(GN(conv(SiLU(GN(h))) + dense(SiLU(temb)))))
 * attention(h) = h + SpatialAttention(GN(h))               at the resolutions in attentionAt
 * down: [resBlock (+ attention)] × residualBlocks, then a stride-2 3×3 conv
 * middle: resBlock, attention, resBlock
 * up: [concat skip, resBlock (+ attention)] × (residualBlocks + 1), then nearest ×2 + 3×3 conv
 * out: conv(SiLU(GN(h)))
 * ```
 *
 * `t` is float32 `[batch, 1]` (the timestep index), `x` `[batch, ...imageShape]`. Works with
 * {@link diffusion.trainingLoss} and {@link diffusion.sample}. Saves and loads with the usual
 * tfjs calls in a process that imported genblocks.
 *
 * @param config - see {@link UnetConfig}; `imageShape` is required.
 * @returns an uncompiled `tf.LayersModel`.
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, appendix B)
 * @see https://arxiv.org/abs/2105.05233 (Dhariwal & Nichol 2021, §3: attention at several resolutions)
 * @example
 * ```ts
 * const model = nets.unet({ imageShape: [28, 28, 1], baseChannels: 32, numClasses: 10 });
 * model.summary();
 * ```
 * @category Networks
 */
export function unet(config: UnetConfig): tfl.LayersModel {
  checkConfig(config, KNOWN, FN);
  const {
    imageShape,
    baseChannels = 16,
    channelMultipliers = [1, 2, 2],
    residualBlocks = 1,
    attentionHeads = 1,
    groups = 8,
    numClasses,
    dropout = 0,
    seed,
    name,
  } = config;
  checkImageShape(imageShape, 'config.imageShape', FN);
  assertPositiveInt(baseChannels, 'config.baseChannels', FN);
  assertPositiveIntArray(channelMultipliers, 'config.channelMultipliers', FN);
  if (channelMultipliers.length === 0) {
    throw new ConfigError({ fn: FN, arg: 'config.channelMultipliers', expected: 'have at least one level', received: '[]' });
  }
  assertPositiveInt(residualBlocks, 'config.residualBlocks', FN);
  assertPositiveInt(attentionHeads, 'config.attentionHeads', FN);
  assertPositiveInt(groups, 'config.groups', FN);
  if (numClasses !== undefined) assertPositiveInt(numClasses, 'config.numClasses', FN);
  checkDropout(dropout, 'config.dropout', FN);
  if (seed !== undefined) assertNonNegativeInt(seed, 'config.seed', FN);
  checkName(name, FN);
  const [height, width, channels] = imageShape;
  const levels = channelMultipliers.length;
  const factor = 2 ** (levels - 1);
  if (height % factor !== 0 || width % factor !== 0) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.imageShape',
      expected: `have height and width divisible by ${factor} (2^(levels - 1) for ${levels} channelMultipliers)`,
      received: describe(imageShape),
    });
  }
  const resolutions = channelMultipliers.map((_, i) => height / 2 ** i);
  const attentionAt = config.attentionAt ?? [resolutions[levels - 1]!];
  if (!Array.isArray(attentionAt) || attentionAt.some((r) => !resolutions.includes(r))) {
    throw new ConfigError({
      fn: FN,
      arg: 'config.attentionAt',
      expected: `list resolutions among ${resolutions.join(', ')}`,
      received: describe(attentionAt),
    });
  }
  for (const multiplier of channelMultipliers) {
    if ((baseChannels * multiplier) % groups !== 0 || (baseChannels * multiplier) % attentionHeads !== 0) {
      throw new ConfigError({
        fn: FN,
        arg: 'config.groups',
        expected: `divide every level's channels (${channelMultipliers.map((m) => m * baseChannels).join(', ')}), as must attentionHeads`,
        received: `groups ${groups}, attentionHeads ${attentionHeads}`,
      });
    }
  }
  const timeDim = config.timeEmbeddingDim ?? 4 * baseChannels;
  assertPositiveInt(timeDim, 'config.timeEmbeddingDim', FN);

  let seedCount = 0;
  const nextSeed = () => (seed === undefined ? undefined : seed + seedCount++);
  const init = () => tfl.initializers.glorotUniform({ seed: nextSeed() });
  const conv = (filters: number, kernelSize = 3, strides = 1) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', kernelInitializer: init() });
  const silu = (h: Sym) => applyLayer(new SiLU(), h);
  const normAct = (h: Sym) => silu(applyLayer(new GroupNormalization({ groups }), h));

  // Time (and label) embedding.
  const x = tfl.input({ shape: imageShape });
  const t = tfl.input({ shape: [1] });
  let temb = applyLayer(new TimeEmbedding({ dim: baseChannels % 2 === 0 ? baseChannels : baseChannels + 1 }), t);
  temb = applyLayer(tfl.layers.dense({ units: timeDim, activation: 'swish', kernelInitializer: init() }), temb);
  temb = applyLayer(tfl.layers.dense({ units: timeDim, kernelInitializer: init() }), temb);
  const inputs = [x, t];
  if (numClasses !== undefined) {
    const label = labelInput();
    inputs.push(label);
    const embedded = applyLayer(
      tfl.layers.embedding({
        inputDim: numClasses + 1,
        outputDim: timeDim,
        embeddingsInitializer: tfl.initializers.randomNormal({ stddev: 1, seed: nextSeed() }),
      }),
      label,
    );
    temb = applyLayer(tfl.layers.add(), [temb, applyLayer(tfl.layers.flatten(), embedded)]);
  }
  const tembActive = silu(temb);

  const resBlock = (input: Sym, outChannels: number): Sym => {
    let h = applyLayer(conv(outChannels), normAct(input));
    const timeShift = applyLayer(
      tfl.layers.reshape({ targetShape: [1, 1, outChannels] }),
      applyLayer(tfl.layers.dense({ units: outChannels, kernelInitializer: init() }), tembActive),
    );
    h = applyLayer(tfl.layers.add(), [h, timeShift]);
    h = normAct(h);
    if (dropout > 0) h = applyLayer(tfl.layers.dropout({ rate: dropout, seed: nextSeed() }), h);
    h = applyLayer(conv(outChannels), h);
    const inChannels = input.shape[input.shape.length - 1];
    const skip = inChannels === outChannels ? input : applyLayer(conv(outChannels, 1), input);
    return applyLayer(tfl.layers.add(), [h, skip]);
  };
  const attention = (input: Sym): Sym => {
    const normalized = applyLayer(new GroupNormalization({ groups }), input);
    return applyLayer(tfl.layers.add(), [input, applyLayer(new SpatialAttention({ heads: attentionHeads, seed: nextSeed() }), normalized)]);
  };

  // Down.
  let h = applyLayer(conv(baseChannels), x);
  const skips: Sym[] = [h];
  channelMultipliers.forEach((multiplier, level) => {
    for (let r = 0; r < residualBlocks; r++) {
      h = resBlock(h, baseChannels * multiplier);
      if (attentionAt.includes(resolutions[level]!)) h = attention(h);
      skips.push(h);
    }
    if (level < levels - 1) {
      h = applyLayer(conv(baseChannels * multiplier, 3, 2), h);
      skips.push(h);
    }
  });
  // Middle.
  const deepest = baseChannels * channelMultipliers[levels - 1]!;
  h = resBlock(h, deepest);
  if (attentionAt.length > 0) h = attention(h);
  h = resBlock(h, deepest);
  // Up.
  for (let level = levels - 1; level >= 0; level--) {
    for (let r = 0; r <= residualBlocks; r++) {
      h = applyLayer(tfl.layers.concatenate(), [h, skips.pop()!]);
      h = resBlock(h, baseChannels * channelMultipliers[level]!);
      if (attentionAt.includes(resolutions[level]!)) h = attention(h);
    }
    if (level > 0) {
      h = applyLayer(tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest' }), h);
      h = applyLayer(conv(baseChannels * channelMultipliers[level]!), h);
    }
  }
  const output = applyLayer(conv(channels), normAct(h));
  return tfl.model({ inputs, outputs: output, name });
}

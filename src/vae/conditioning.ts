/**
 * Label conditioning shared by the VAE encoders and decoders (conditional VAE, Sohn et al.
 * 2015): a learned label embedding concatenated to the features.
 *
 * @module
 * @internal
 */
import { checkLabelConditioning, concatenateLabel, labelInput } from '../layers/label-conditioning.js';
import type { LayerSeeds, Sym } from '../nets/common.js';

/** Conditioning option of the VAE builders. @category VAE */
export interface VaeConditioning {
  /**
   * Number of classes of a conditional VAE. When set, the model takes a second input `label`
   * (int32 class indices `[batch, 1]`; `predict` also accepts `[batch]`) whose learned
   * embedding is concatenated to the encoder's features or the decoder's latent.
   * Default: unconditional.
   */
  numClasses?: number;
  /**
   * Size of the label embedding. Default `numClasses` (as many dimensions as a one-hot code;
   * a learned embedding rather than a fixed one-hot, so that every weight of the model is an
   * ordinary trainable weight).
   */
  labelEmbeddingDim?: number;
}

/** The label inputs (empty when unconditional). @internal */
export function vaeLabelInputs(conditioning: VaeConditioning, fn: string): Sym[] {
  checkLabelConditioning(conditioning, fn);
  return conditioning.numClasses === undefined ? [] : [labelInput()];
}

/** Concatenates the label embedding to `features` when conditional. @internal */
export function withLabel(features: Sym, labels: Sym[], conditioning: VaeConditioning, seeds: LayerSeeds): Sym {
  if (labels.length === 0) return features;
  const { numClasses, labelEmbeddingDim = numClasses } = conditioning;
  return concatenateLabel(features, labels[0]!, numClasses!, labelEmbeddingDim!, seeds);
}

/**
 * The input block shared by the generators: the latent input, and for a class-conditional
 * generator the label input and its embedding concatenated to the latent.
 *
 * @module
 * @internal
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { checkLabelConditioning, concatenateLabel, labelInput } from '../layers/label-conditioning.js';
import type { LayerSeeds, Sym } from './common.js';

/** Conditioning options shared by the generators. @category Networks */
export interface GeneratorConditioning {
  /**
   * Number of classes of a class-conditional generator (Mirza & Osindero 2014). When set, the
   * model takes `[z, label]`, label being int32 class indices `[batch, 1]` (`predict` also
   * accepts `[batch]`), and concatenates a learned label embedding to `z`. Default: unconditional.
   */
  numClasses?: number;
  /** Size of the label embedding. Default 50. */
  labelEmbeddingDim?: number;
}

/** Builds the generator inputs and the vector that feeds the first layer. @internal */
export function generatorInputs(
  latentDim: number,
  conditioning: GeneratorConditioning,
  fn: string,
  seeds: LayerSeeds,
): { inputs: Sym[]; features: Sym } {
  checkLabelConditioning(conditioning, fn);
  const { numClasses, labelEmbeddingDim = 50 } = conditioning;
  const z = tfl.input({ shape: [latentDim] });
  if (numClasses === undefined) return { inputs: [z], features: z };
  const label = labelInput();
  return { inputs: [z, label], features: concatenateLabel(z, label, numClasses, labelEmbeddingDim, seeds) };
}

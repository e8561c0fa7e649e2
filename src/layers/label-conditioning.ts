/**
 * Label conditioning, the one block shared by the conditional generators (Mirza & Osindero
 * 2014), the conditional discriminators' label input and the conditional VAE (Sohn et al.
 * 2015): an int32 label input, its learned embedding, and the embedding concatenated to a
 * feature vector.
 *
 * Internal building blocks of the builders; the public options live with each family
 * (`nets.GeneratorConditioning`, `vae.VaeConditioning`).
 *
 * @module
 * @internal
 */
import * as tfl from '@tensorflow/tfjs-layers';

import { assertPositiveInt } from '../validation.js';

/** A symbolic tensor flowing through a functional model. @internal */
type Sym = tfl.SymbolicTensor;

/** Where a seeded builder's embedding initializer comes from (the builders' per-layer seeds). @internal */
export interface EmbeddingSeeds {
  embeddings(): { embeddingsInitializer?: ReturnType<typeof tfl.initializers.randomUniform> };
}

/**
 * The label input of a conditional model: int32 class indices of shape `[batch, 1]`
 * (`model.predict` also accepts `[batch]`).
 *
 * @internal
 */
export function labelInput(name?: string): Sym {
  return tfl.input({ shape: [1], dtype: 'int32', name });
}

/** A learned label embedding `[batch, 1] -> [batch, dim]`. @internal */
export function labelEmbedding(label: Sym, numClasses: number, dim: number, seeds?: EmbeddingSeeds, name?: string): Sym {
  const embedded = tfl.layers.embedding({ inputDim: numClasses, outputDim: dim, name, ...seeds?.embeddings() }).apply(label) as Sym;
  return tfl.layers.flatten().apply(embedded) as Sym;
}

/** Validates `numClasses` and `labelEmbeddingDim` when present. @internal */
export function checkLabelConditioning(conditioning: { numClasses?: unknown; labelEmbeddingDim?: unknown }, fn: string): void {
  const { numClasses, labelEmbeddingDim } = conditioning;
  if (numClasses !== undefined) assertPositiveInt(numClasses, 'config.numClasses', fn);
  if (labelEmbeddingDim !== undefined) assertPositiveInt(labelEmbeddingDim, 'config.labelEmbeddingDim', fn);
}

/** `[features, embed(label)]`: the label's learned embedding `[batch, dim]` concatenated to `features` `[batch, F]`. @internal */
export function concatenateLabel(features: Sym, label: Sym, numClasses: number, dim: number, seeds?: EmbeddingSeeds): Sym {
  return tfl.layers.concatenate().apply([features, labelEmbedding(label, numClasses, dim, seeds)]) as Sym;
}

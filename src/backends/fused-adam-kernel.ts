/**
 * The contract of the optional one-pass Adam kernel that `train.fusedAdam` runs on backends that
 * register it (genblocks registers it on wasm; elsewhere the optimizer runs `tf.train.adam`'s
 * operations).
 *
 * @module
 */

/**
 * Kernel name. Inputs: `value`, `firstMoment`, `secondMoment`, `gradient` (float32, one shape)
 * and the scalars `oneMinusAccBeta1 = 1 − β1ᵗ`, `oneMinusAccBeta2 = 1 − β2ᵗ`; attributes
 * `beta1`, `beta2`, `epsilon`, `learningRate`, and optionally `decay` (default 1): the value is
 * first multiplied by it (AdamW's decoupled weight decay, `1 − α·λ`); optional input
 * `gradientScale`, a float32 scalar the gradient is first multiplied by (clipping by global
 * norm: `maxNorm / max(‖g‖, maxNorm)`). Outputs: the new value,
 * first moment and second moment, computed with `tf.train.adam`'s float32 operations in its
 * order (after the decay and gradient-scale products, when they are not 1).
 */
export const FUSED_ADAM_KERNEL = 'GenblocksFusedAdam';

/**
 * Kernel name of the same update over several variables in one call (what `train.fusedAdam`
 * runs where the backend registers it: one dispatch per step instead of one per variable).
 * Inputs: `oneMinusAccBeta1`, `oneMinusAccBeta2`, the optional `gradientScale`, and for each
 * variable `i = 0…n−1` its `value${i}`, `firstMoment${i}`, `secondMoment${i}` and `gradient${i}`
 * (float32, one shape per variable); attributes those of {@link FUSED_ADAM_KERNEL} with `decay`
 * an array of `n` factors, one per variable. Outputs: `3n` tensors, for each variable in order
 * its new value, first moment and second moment, equal bit for bit to what
 * {@link FUSED_ADAM_KERNEL} computes for it alone.
 */
export const FUSED_ADAM_MULTI_KERNEL = 'GenblocksFusedAdamMulti';

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

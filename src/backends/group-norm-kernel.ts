/**
 * The contract of the optional group-normalization kernels that `layers.groupNormalization`
 * runs on backends that register them (genblocks registers them on wasm; elsewhere the layer
 * runs `tf.moments` and element-wise operations).
 *
 * @module
 */

/**
 * Forward kernel name. Inputs: `x`, float32 `[batch, positions, groups, channelsPerGroup]`,
 * and `gamma`, `beta`, float32 `[groups · channelsPerGroup]`; attribute `epsilon`. Outputs:
 * `y = γ · x̂ + β` and `x̂ = (x − μ) · r` (shape of `x`), and `r = 1/√(σ² + ε)`
 * (`[batch, 1, groups, 1]`), μ and σ² (biased) over axes 1 and 3 of each (example, group).
 */
export const GROUP_NORM_KERNEL = 'GenblocksGroupNorm';

/**
 * Gradient kernel name. Inputs `dy` and `xHat` (shape of `x`), `r` (`[batch, 1, groups, 1]`),
 * `gamma`. Outputs, with `g = γ · dy` and means over axes 1 and 3:
 * `dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂))`, `dγ = Σ dy ⊙ x̂` and `dβ = Σ dy` over batch and
 * positions (`[channels]`).
 */
export const GROUP_NORM_GRAD_KERNEL = 'GenblocksGroupNormGrad';

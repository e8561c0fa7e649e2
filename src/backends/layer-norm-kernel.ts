/**
 * The contract of the optional layer-normalization kernels that `layers.LayerNorm` and the
 * transformer layers run on backends that register them (genblocks registers them on wasm;
 * elsewhere they run means and element-wise operations, which tfjs differentiates).
 *
 * @module
 */

/**
 * Forward kernel name. Inputs: `x`, float32 `[..., C]`, and `gamma`, `beta`, float32 `[C]`;
 * attribute `epsilon`. Each row of `C` is normalized on its own. Outputs: `y = γ · x̂ + β` and
 * `x̂ = (x − μ) · r` (shape of `x`), and `r = 1/√(σ² + ε)` (`[rows]`), with μ and σ² (biased)
 * the mean and variance of the row.
 */
export const LAYER_NORM_KERNEL = 'GenblocksLayerNorm';

/**
 * Gradient kernel name. Inputs `dy` and `xHat` (shape of `x`), `r` (`[rows]`), `gamma`
 * (`[C]`). Outputs, with `g = γ · dy` and means over each row:
 * `dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂))`, `dγ = Σ dy ⊙ x̂` and `dβ = Σ dy` over the rows
 * (`[C]`).
 */
export const LAYER_NORM_GRAD_KERNEL = 'GenblocksLayerNormGrad';

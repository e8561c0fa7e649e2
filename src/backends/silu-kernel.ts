/**
 * The contract of the optional SiLU gradient kernel that `layers.SiLU` (the UNet's activation)
 * runs on backends that register it (genblocks registers it on wasm; elsewhere tfjs
 * differentiates `x · σ(x)` element-wise).
 *
 * @module
 */

/**
 * Gradient kernel name. Inputs `dy`, `x` and `s = σ(x)` (float32, one shape); output
 * `dx = dy · s · (1 + x · (1 − s))`, the derivative of `x · σ(x)`.
 */
export const SILU_GRAD_KERNEL = 'GenblocksSiluGrad';

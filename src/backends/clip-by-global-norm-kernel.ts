/**
 * The contract of the optional one-dispatch gradient clipping that `train.clipByGlobalNorm` runs
 * on backends that register it (genblocks registers it on wasm; elsewhere the function runs a
 * square, a sum and a product per gradient).
 *
 * @module
 */

/**
 * Kernel name. Inputs: the gradients, float32, under the names `'0'`, `'1'`, … in order;
 * attribute `maxNorm`. Outputs: the global norm `n = √(Σ_i ‖g_i‖²)` (a float32 scalar), then
 * each gradient times `maxNorm / max(n, maxNorm)` (float32), in input order; with the optional
 * attribute `scaleOnly: true`, the norm and the factor `maxNorm / max(n, maxNorm)` only (two
 * float32 scalars), for an optimizer that scales the gradients in its own pass.
 */
export const CLIP_BY_GLOBAL_NORM_KERNEL = 'GenblocksClipByGlobalNorm';

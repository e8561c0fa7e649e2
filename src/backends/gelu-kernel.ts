/**
 * The contract of the optional GELU kernels that the transformer MLP (`layers.TransformerBlock`,
 * `nets.gpt`) runs on backends that register them (genblocks registers them on wasm; elsewhere
 * the MLP runs GELU as element-wise operations and tfjs differentiates those).
 *
 * @module
 */

/**
 * Forward kernel name. Input `x` (float32); outputs GPT-2's tanh-form GELU of the same shape,
 * `y = 0.5 · x · (1 + t)`, and its tanh term `t = tanh(√(2/π) · (x + 0.044715 · x³))` (kept for
 * the gradient).
 */
export const GELU_KERNEL = 'GenblocksGelu';

/**
 * Gradient kernel name. Inputs `dy`, `x` and the forward kernel's `t` (float32, one shape);
 * output `dx = dy · (0.5 · (1 + t) + 0.5 · x · (1 − t²) · √(2/π) · (1 + 3 · 0.044715 · x²))`: the
 * derivative of the forward kernel.
 */
export const GELU_GRAD_KERNEL = 'GenblocksGeluGrad';

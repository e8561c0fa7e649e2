/**
 * The contract of the optional causal-attention kernels that the full-sequence attention core of
 * `layers.CausalSelfAttention`, `layers.TransformerBlock` and `nets.gpt` runs on backends that
 * register them (genblocks registers them on wasm; elsewhere the core runs as products, a mask
 * and a softmax, with its gradient written out in `src/layers/causal-self-attention.ts`).
 *
 * @module
 */

/**
 * Forward kernel name. Input `qkv`, float32 `[B, T, 3C]`: the fused projection's rows, columns
 * `[q | k | v]`, head `h` at columns `h·D` of each part (`C = H·D`); attribute `heads` (H).
 * With `s = 1/√D`, for each batch `b` and head `h`:
 * `P = softmax(s · q kᵀ + M)` (`M` 0 for keys `j ≤ i`, −∞ after) and `O = P v`. Outputs: `O` as
 * merged heads `[B, T, C]`, and `P` `[B, H, T, T]` (0 after the diagonal; kept for the gradient).
 */
export const CAUSAL_ATTENTION_KERNEL = 'GenblocksCausalAttention';

/**
 * Gradient kernel name. Inputs `dy` `[B, T, C]` (the gradient of `O`), `qkv`, and the forward
 * kernel's `out` (`O`) and `probs` (`P`); attribute `heads`. Output `d(qkv)` `[B, T, 3C]`, with
 * `dO` the heads of `dy`:
 * `dv = Pᵀ dO`, `dS = s · P ⊙ (dO vᵀ − rowsum(dO ⊙ O))`, `dq = dS k`, `dk = dSᵀ q`.
 */
export const CAUSAL_ATTENTION_GRAD_KERNEL = 'GenblocksCausalAttentionGrad';

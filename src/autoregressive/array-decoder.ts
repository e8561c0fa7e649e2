/**
 * The key/value-cached forward pass of a {@link nets.gpt} model on plain typed arrays: the
 * weights are read once into `Float32Array`s and each token runs the incremental forward in
 * JavaScript, with no tensor, kernel dispatch or device read per token. At nanoGPT's CPU size
 * (4 layers, width 128) a token is about 0.8 million multiply-adds, which a few tight loops
 * finish faster than the hundred-odd tfjs kernels of the tensor path can be dispatched.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { GptParts } from './cached-decoder.js';

/** One transformer block's weights; each matrix transposed to `[out, in]` so a row is one output's dot product. */
interface BlockArrays {
  heads: number;
  epsilon: number;
  hidden: number;
  norm1Gamma: Float32Array;
  norm1Beta: Float32Array;
  qkv: Float32Array;
  qkvBias: Float32Array;
  projection: Float32Array;
  projectionBias: Float32Array;
  norm2Gamma: Float32Array;
  norm2Beta: Float32Array;
  mlp: Float32Array;
  mlpBias: Float32Array;
  mlpProjection: Float32Array;
  mlpProjectionBias: Float32Array;
}

/** The whole model's weights as typed arrays. */
interface GptArrays {
  tokens: Float32Array;
  positions: Float32Array;
  blocks: BlockArrays[];
  normGamma: Float32Array;
  normBeta: Float32Array;
  normEpsilon: number;
  /** The head `[V, C]`: the token table itself when tied, else the dense kernel transposed. */
  head: Float32Array;
  headBias: Float32Array;
}

/** The variable of `layer` created as `name` (tfjs-layers scopes it as `layerName/name`). */
function weightNamed(layer: tfl.layers.Layer, name: string): tf.Tensor | undefined {
  const variable = layer.weights.find((w) => w.originalName === name || w.originalName.endsWith(`/${name}`));
  return variable?.read();
}

/**
 * `t`'s values, read synchronously: once per reading of the weights (not per token), inside the
 * synchronous `step` API.
 */
function readValues(t: tf.Tensor): Float32Array {
  // eslint-disable-next-line no-restricted-syntax
  return t.dataSync() as Float32Array;
}

/** A copy of `t`'s values into `[length]` (zeros after them; the cpu backend's `dataSync` returns its own buffer). */
function copy(t: tf.Tensor, length = t.size): Float32Array {
  const out = new Float32Array(length);
  out.set(readValues(t));
  return out;
}
/** A copy of an optional bias or shift, zeros `[n]` when absent (so every loop sees the same array type). */
const optionalCopy = (t: tf.Tensor | undefined, n: number): Float32Array => (t === undefined ? new Float32Array(n) : copy(t, n));

/** `n` rounded up to a multiple of 4: every matrix has whole groups of four rows for {@link matVec}. */
const padded = (n: number): number => Math.ceil(n / 4) * 4;

/** `[rows, cols]` row-major → `[cols, rows]` row-major, with zero rows up to a multiple of 4. */
function transposed(t: tf.Tensor): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  const src = readValues(t);
  const out = new Float32Array(rows * padded(cols));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}

/** The final norm's γ, β and ε, or undefined for a norm this path does not reproduce. */
function normArrays(norm: tfl.layers.Layer, width: number): Pick<GptArrays, 'normGamma' | 'normBeta' | 'normEpsilon'> | undefined {
  const config = norm.getConfig();
  if (norm.getClassName() === 'LayerNormalization') {
    // tfjs-layers' layerNormalization: only over the last axis.
    const axis = config['axis'];
    const axes = Array.isArray(axis) ? axis : [axis];
    if (axes.length !== 1 || (axes[0] !== -1 && axes[0] !== 2)) return undefined;
  }
  const epsilon = (norm as unknown as { epsilon?: number }).epsilon ?? config['epsilon'];
  if (typeof epsilon !== 'number') return undefined;
  const gamma = weightNamed(norm, 'gamma');
  return {
    normGamma: gamma === undefined ? new Float32Array(width).fill(1) : copy(gamma),
    normBeta: optionalCopy(weightNamed(norm, 'beta'), width),
    normEpsilon: epsilon,
  };
}

/** Reads the model's weights into typed arrays, or undefined when a layer has a form this path does not reproduce. */
function readArrays(parts: GptParts): GptArrays | undefined {
  const { embedding, blocks, norm, head } = parts;
  const tokens = weightNamed(embedding, 'token_embeddings');
  const positions = weightNamed(embedding, 'position_embeddings');
  if (tokens === undefined || positions === undefined) return undefined;
  const normPart = normArrays(norm, embedding.width);
  if (normPart === undefined) return undefined;
  let headArrays: Pick<GptArrays, 'head' | 'headBias'>;
  if (head === undefined) {
    headArrays = {
      head: copy(tokens, padded(embedding.vocabSize) * embedding.width),
      headBias: new Float32Array(padded(embedding.vocabSize)),
    };
  } else {
    const kernel = weightNamed(head, 'kernel');
    if (kernel === undefined || head.getConfig()['activation'] !== 'linear') return undefined;
    headArrays = { head: transposed(kernel), headBias: optionalCopy(weightNamed(head, 'bias'), padded(embedding.vocabSize)) };
  }
  return {
    tokens: copy(tokens),
    positions: copy(positions),
    blocks: blocks.map((block) => {
      const w = block.blockWeights();
      const [c, hidden] = w.mlpKernel.shape;
      return {
        heads: block.heads,
        epsilon: block.epsilon,
        hidden,
        norm1Gamma: copy(w.norm1Gamma),
        norm1Beta: optionalCopy(w.norm1Beta, c),
        qkv: transposed(w.attention.qkvKernel),
        qkvBias: optionalCopy(w.attention.qkvBias, padded(3 * c)),
        projection: transposed(w.attention.projectionKernel),
        projectionBias: optionalCopy(w.attention.projectionBias, padded(c)),
        norm2Gamma: copy(w.norm2Gamma),
        norm2Beta: optionalCopy(w.norm2Beta, c),
        mlp: transposed(w.mlpKernel),
        mlpBias: optionalCopy(w.mlpBias, padded(hidden)),
        mlpProjection: transposed(w.mlpProjectionKernel),
        mlpProjectionBias: optionalCopy(w.mlpProjectionBias, padded(c)),
      };
    }),
    ...normPart,
    ...headArrays,
  };
}

/**
 * `y[j] = bias[j] + Σᵢ x[i]·w[j·n + i]` for `j < m`: a matrix `[m, n]` (a kernel transposed,
 * `m` a multiple of 4) times a vector, four outputs per pass over `x`, accumulated in float64.
 */
function matVec(x: Float64Array, w: Float32Array, bias: Float32Array, y: Float64Array, m: number, n: number): void {
  for (let j = 0; j < m; j += 4) {
    const r0 = j * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      s0 += xi * w[r0 + i]!;
      s1 += xi * w[r1 + i]!;
      s2 += xi * w[r2 + i]!;
      s3 += xi * w[r3 + i]!;
    }
    y[j] = s0 + bias[j]!;
    y[j + 1] = s1 + bias[j + 1]!;
    y[j + 2] = s2 + bias[j + 2]!;
    y[j + 3] = s3 + bias[j + 3]!;
  }
}

/** `out = γ ⊙ (x − mean) / √(var + ε) + β` over one position (biased variance, as {@link layers.LayerNorm}). */
function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array, epsilon: number, out: Float64Array): void {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  const scale = 1 / Math.sqrt(variance / n + epsilon);
  for (let i = 0; i < n; i++) out[i] = (x[i]! - mean) * scale * gamma[i]! + beta[i]!;
}

/** GELU's tanh form as the tensor path writes it: `x · σ(x · (a + b·x²))`, `a = 2√(2/π)`, `b = 0.044715·a`. */
const GELU_A = 2 * Math.sqrt(2 / Math.PI);
const GELU_B = GELU_A * 0.044715;

/** GELU in place over `x[0 … n−1]`. */
function gelu(x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    x[i] = v / (1 + Math.exp(-v * (GELU_A + GELU_B * v * v)));
  }
}

/**
 * Incremental GPT decoding on typed arrays: the weights of {@link GptParts} read once (and again
 * when a variable of the model is assigned), keys and values in preallocated
 * `Float32Array`s `[layers][heads, blockSize, D]` written in place.
 *
 * @internal
 */
export class ArrayDecoder {
  private arrays: GptArrays;
  /** The model's variables and the data each held when the arrays were read. */
  private readonly variables: tfl.LayerVariable[];
  private dataIds: unknown[];
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  private readonly width: number;
  private readonly blockSize: number;
  private readonly vocabSize: number;
  // Scratch of one position.
  private readonly x: Float64Array;
  private readonly normed: Float64Array;
  private readonly qkv: Float64Array;
  private readonly attended: Float64Array;
  private readonly projected: Float64Array;
  private readonly hidden: Float64Array;
  private readonly scores: Float64Array;
  private readonly output: Float64Array;

  private constructor(
    private readonly parts: GptParts,
    arrays: GptArrays,
    variables: tfl.LayerVariable[],
  ) {
    this.arrays = arrays;
    this.variables = variables;
    this.dataIds = variables.map((v) => v.read().dataId);
    const { width, blockSize, vocabSize } = parts.embedding;
    this.width = width;
    this.blockSize = blockSize;
    this.vocabSize = vocabSize;
    this.keys = parts.blocks.map(() => new Float32Array(blockSize * width));
    this.values = parts.blocks.map(() => new Float32Array(blockSize * width));
    this.x = new Float64Array(width);
    this.normed = new Float64Array(width);
    this.qkv = new Float64Array(padded(3 * width));
    this.attended = new Float64Array(width);
    this.projected = new Float64Array(padded(width));
    this.hidden = new Float64Array(padded(Math.max(...arrays.blocks.map((b) => b.hidden))));
    this.scores = new Float64Array(blockSize);
    this.output = new Float64Array(padded(vocabSize));
  }

  /** A decoder for `parts` of `model`, or undefined when a layer has a form this path does not reproduce. */
  static create(model: tfl.LayersModel, parts: GptParts): ArrayDecoder | undefined {
    const arrays = readArrays(parts);
    return arrays === undefined ? undefined : new ArrayDecoder(parts, arrays, model.weights.slice());
  }

  /** Reads the weights again if any variable of the model was assigned since they were read. */
  private refresh(): void {
    let changed = false;
    for (let i = 0; i < this.variables.length; i++) {
      const id = this.variables[i]!.read().dataId;
      if (id !== this.dataIds[i]) {
        changed = true;
        this.dataIds[i] = id;
      }
    }
    if (changed) this.arrays = readArrays(this.parts) ?? this.arrays;
  }

  /**
   * Feeds token `id` at position `t` (the cache holds positions `0 … t−1`) and writes the
   * logits of the next token into `logits` `[V]`.
   */
  step(id: number, t: number, logits: Float32Array): void {
    this.refresh();
    const { width: c, x, normed, qkv, attended, projected, hidden } = this;
    const { tokens, positions, blocks } = this.arrays;
    for (let i = 0; i < c; i++) x[i] = tokens[id * c + i]! + positions[t * c + i]!;
    for (let l = 0; l < blocks.length; l++) {
      const block = blocks[l]!;
      // x ← x + Wproj · attention(LN₁(x)) over the cached positions 0 … t.
      layerNorm(x, block.norm1Gamma, block.norm1Beta, block.epsilon, normed);
      matVec(normed, block.qkv, block.qkvBias, qkv, padded(3 * c), c);
      this.attend(l, block.heads, t);
      matVec(attended, block.projection, block.projectionBias, projected, padded(c), c);
      for (let i = 0; i < c; i++) x[i] += projected[i]!;
      // x ← x + W₂ GELU(W₁ LN₂(x) + b₁) + b₂.
      layerNorm(x, block.norm2Gamma, block.norm2Beta, block.epsilon, normed);
      matVec(normed, block.mlp, block.mlpBias, hidden, padded(block.hidden), c);
      gelu(hidden, block.hidden);
      matVec(hidden, block.mlpProjection, block.mlpProjectionBias, projected, padded(c), block.hidden);
      for (let i = 0; i < c; i++) x[i] += projected[i]!;
    }
    layerNorm(x, this.arrays.normGamma, this.arrays.normBeta, this.arrays.normEpsilon, normed);
    matVec(normed, this.arrays.head, this.arrays.headBias, this.output, padded(this.vocabSize), c);
    logits.set(this.output.subarray(0, this.vocabSize));
  }

  /**
   * Block `l`'s attention at position `t`: appends the key and value in `qkv` to the cache,
   * then `attended[h] = softmax(q_h k_hᵀ / √D) v_h` over positions `0 … t` for each head `h`.
   */
  private attend(l: number, heads: number, t: number): void {
    const { width: c, qkv, attended, scores } = this;
    const depth = c / heads;
    const scale = 1 / Math.sqrt(depth);
    const keys = this.keys[l]!;
    const values = this.values[l]!;
    for (let h = 0; h < heads; h++) {
      // Head h's rows of keys and values: [blockSize, D] from offset h·blockSize·D.
      const base = h * this.blockSize * depth;
      const q = h * depth;
      const at = base + t * depth;
      for (let d = 0; d < depth; d++) {
        keys[at + d] = qkv[c + q + d]!;
        values[at + d] = qkv[2 * c + q + d]!;
      }
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        const k = base + s * depth;
        let dot = 0;
        for (let d = 0; d < depth; d++) dot += qkv[q + d]! * keys[k + d]!;
        const score = dot * scale;
        scores[s] = score;
        if (score > max) max = score;
      }
      let total = 0;
      for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s]! - max);
      for (let d = 0; d < depth; d++) attended[q + d] = 0;
      for (let s = 0; s <= t; s++) {
        const p = scores[s]! / total;
        const v = base + s * depth;
        for (let d = 0; d < depth; d++) attended[q + d] += p * values[v + d]!;
      }
    }
  }
}

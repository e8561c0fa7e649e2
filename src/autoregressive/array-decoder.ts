/**
 * The key/value-cached forward pass of a {@link nets.gpt} model on typed arrays: the weights are
 * read once into `Float32Array`s and each token runs the incremental forward with no tensor,
 * kernel dispatch or device read. At nanoGPT's CPU size (4 layers, width 128) a token is about
 * 0.8 million multiply-adds, almost all in the five matrix-vector products of each block and
 * the head; those run in a small SIMD WebAssembly module (`mat-vec.wat`) on its own memory,
 * which holds the weights, so the path is the same on every tfjs backend. Layer norms,
 * attention over the cache and GELU are JavaScript. Without wasm SIMD the decoder takes the
 * tensor path.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { GptParts } from './cached-decoder.js';
import { MAT_VEC_WASM_BASE64 } from './mat-vec-binary.js';

/** `n` rounded up to a multiple of 4: every product has whole groups of four outputs. */
const padded = (n: number): number => Math.ceil(n / 4) * 4;

/** A kernel `K` `[n, m]` as the layer stores it (`m` padded to a multiple of 4) and its bias `[m]` (zeros when absent). */
interface Linear {
  kernel: Float32Array;
  bias: Float32Array;
  /** Outputs, padded. */
  m: number;
  /** Inputs. */
  n: number;
}

/** The memory of one instance of `mat-vec.wat`, handed out as `Float32Array`s, and its product. */
interface Heap {
  /** A zeroed `Float32Array` of `length` floats on the instance's memory (16-byte aligned). */
  take(length: number): Float32Array;
  /** `y[j] = bias[j] + Σᵢ x[i]·K[i, j]` for `j < m`, `i < n` (all operands from `take`). */
  matVec(x: Float32Array, linear: Linear, y: Float32Array): void;
}

interface MatVecExports {
  memory: WebAssembly.Memory;
  matVec(x: number, w: number, bias: number, y: number, m: number, n: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
let enabled = true;

/** The compiled `mat-vec.wat`, or null where the engine lacks wasm SIMD. */
function matVecModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const text = atob(MAT_VEC_WASM_BASE64);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A fresh instance whose memory holds `floats` floats (all that `take` will hand out). */
function createHeap(module: WebAssembly.Module, floats: number): Heap {
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as MatVecExports;
  const pages = Math.ceil((floats * 4) / 65536);
  if (pages > 1) exports.memory.grow(pages - 1);
  const buffer = exports.memory.buffer;
  let offset = 0;
  return {
    take(length) {
      const view = new Float32Array(buffer, offset, length);
      offset += padded(length) * 4;
      return view;
    },
    matVec: (x, { kernel, bias, m, n }, y) => exports.matVec(x.byteOffset, kernel.byteOffset, bias.byteOffset, y.byteOffset, m, n),
  };
}

/**
 * Turns the typed-array decoding off (`false`) or back on for decoders created afterwards: with
 * it off they take the tensor engine, as where the engine lacks wasm SIMD. For tests; returns
 * the previous setting.
 *
 * @internal
 */
export function setArrayDecodingEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** One transformer block's weights. */
interface BlockArrays {
  heads: number;
  epsilon: number;
  hidden: number;
  norm1Gamma: Float32Array;
  norm1Beta: Float32Array;
  qkv: Linear;
  projection: Linear;
  norm2Gamma: Float32Array;
  norm2Beta: Float32Array;
  mlp: Linear;
  mlpProjection: Linear;
}

/** The whole model's weights as typed arrays. */
interface GptArrays {
  tokens: Float32Array;
  positions: Float32Array;
  blocks: BlockArrays[];
  normGamma: Float32Array;
  normBeta: Float32Array;
  normEpsilon: number;
  /** The head: `Eᵀ` `[C, V]` when tied, else the dense kernel. */
  head: Linear;
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

/** The final norm's ε, or undefined for a norm this path does not reproduce. */
function normEpsilon(norm: tfl.layers.Layer): number | undefined {
  const config = norm.getConfig();
  if (norm.getClassName() === 'LayerNormalization') {
    // tfjs-layers' layerNormalization: only over the last axis.
    const axis = config['axis'];
    const axes = Array.isArray(axis) ? axis : [axis];
    if (axes.length !== 1 || (axes[0] !== -1 && axes[0] !== 2)) return undefined;
  }
  const epsilon = (norm as unknown as { epsilon?: number }).epsilon ?? config['epsilon'];
  return typeof epsilon === 'number' ? epsilon : undefined;
}

/** Whether this path reproduces every layer of `parts` (else the decoder takes the tensor path). */
function supported(parts: GptParts): boolean {
  const { embedding, norm, head } = parts;
  if (weightNamed(embedding, 'token_embeddings') === undefined || weightNamed(embedding, 'position_embeddings') === undefined) return false;
  if (normEpsilon(norm) === undefined) return false;
  return head === undefined || (weightNamed(head, 'kernel') !== undefined && head.getConfig()['activation'] === 'linear');
}

/** Allocates (zeroed) arrays for the weights of `parts`: the products' operands from `heap.take`. */
function allocate(parts: GptParts, heap: Pick<Heap, 'take'>): GptArrays {
  const { embedding, blocks } = parts;
  const { vocabSize: v, blockSize, width: c } = embedding;
  const linear = (n: number, m: number): Linear => ({
    kernel: heap.take(n * padded(m)),
    bias: heap.take(padded(m)),
    m: padded(m),
    n,
  });
  return {
    tokens: new Float32Array(v * c),
    positions: new Float32Array(blockSize * c),
    blocks: blocks.map((block) => {
      const hidden = block.blockWeights().mlpKernel.shape[1];
      return {
        heads: block.heads,
        epsilon: block.epsilon,
        hidden,
        norm1Gamma: new Float32Array(c),
        norm1Beta: new Float32Array(c),
        qkv: linear(c, 3 * c),
        projection: linear(c, c),
        norm2Gamma: new Float32Array(c),
        norm2Beta: new Float32Array(c),
        mlp: linear(c, hidden),
        mlpProjection: linear(hidden, c),
      };
    }),
    normGamma: new Float32Array(c),
    normBeta: new Float32Array(c),
    normEpsilon: normEpsilon(parts.norm)!,
    head: linear(c, v),
  };
}

/** The operands of one step (on the heap): LN output, qkv, attention output, projection, MLP hidden, logits. */
interface Scratch {
  normed: Float32Array;
  qkv: Float32Array;
  attended: Float32Array;
  projected: Float32Array;
  hidden: Float32Array;
  output: Float32Array;
}

/** Lengths of the step's operands: normed `[C]`, qkv, attended `[C]`, projected, hidden, logits (outputs padded). */
function scratchSizes(parts: GptParts): number[] {
  const { width: c, vocabSize } = parts.embedding;
  const hidden = Math.max(...parts.blocks.map((b) => b.blockWeights().mlpKernel.shape[1]));
  return [c, padded(3 * c), c, padded(c), padded(hidden), padded(vocabSize)];
}

/** Writes `t` (or 1s / 0s when absent) into `dst`. */
function loadVector(dst: Float32Array, t: tf.Tensor | undefined, fill = 0): void {
  if (t === undefined) dst.fill(fill);
  else dst.set(readValues(t));
}

/**
 * Writes a kernel `K` `[n, m]` (`t`, or with `transposed` its transpose `[m, n]`) and its bias
 * into `linear`; padded outputs stay 0.
 */
function loadLinear(linear: Linear, t: tf.Tensor, bias: tf.Tensor | undefined, transposed = false): void {
  const src = readValues(t);
  const { kernel, m: stride, n } = linear;
  const m = transposed ? t.shape[0]! : t.shape[1]!;
  if (transposed) {
    for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) kernel[i * stride + j] = src[j * n + i]!;
  } else {
    for (let i = 0; i < n; i++) kernel.set(src.subarray(i * m, (i + 1) * m), i * stride);
  }
  loadVector(linear.bias.subarray(0, m), bias);
}

/** Reads the current weights of `parts` into `arrays`. */
function load(arrays: GptArrays, parts: GptParts): void {
  const { embedding, blocks, norm, head } = parts;
  const tokens = weightNamed(embedding, 'token_embeddings')!;
  arrays.tokens.set(readValues(tokens));
  arrays.positions.set(readValues(weightNamed(embedding, 'position_embeddings')!));
  blocks.forEach((block, l) => {
    const w = block.blockWeights();
    const a = arrays.blocks[l]!;
    loadVector(a.norm1Gamma, w.norm1Gamma);
    loadVector(a.norm1Beta, w.norm1Beta);
    loadLinear(a.qkv, w.attention.qkvKernel, w.attention.qkvBias);
    loadLinear(a.projection, w.attention.projectionKernel, w.attention.projectionBias);
    loadVector(a.norm2Gamma, w.norm2Gamma);
    loadVector(a.norm2Beta, w.norm2Beta);
    loadLinear(a.mlp, w.mlpKernel, w.mlpBias);
    loadLinear(a.mlpProjection, w.mlpProjectionKernel, w.mlpProjectionBias);
  });
  loadVector(arrays.normGamma, weightNamed(norm, 'gamma'), 1);
  loadVector(arrays.normBeta, weightNamed(norm, 'beta'));
  if (head === undefined) loadLinear(arrays.head, tokens, undefined, true);
  else loadLinear(arrays.head, weightNamed(head, 'kernel')!, weightNamed(head, 'bias'));
}

/** `out = γ ⊙ (x − mean) / √(var + ε) + β` over one position (biased variance, as {@link layers.LayerNorm}). */
function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array, epsilon: number, out: Float32Array): void {
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
function gelu(x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    x[i] = v / (1 + Math.exp(-v * (GELU_A + GELU_B * v * v)));
  }
}

/**
 * A model's weights on the heap of a `mat-vec.wat` instance, with the operands of a step; shared
 * by the decoders of one model (a step is synchronous, so they can share the operands), and
 * read again when a variable of the model has been assigned (an optimizer step, `setWeights`).
 */
class ModelArrays {
  readonly arrays: GptArrays;
  /** Operands of one step. */
  readonly scratch: Scratch;
  /** The model's variables and the data each held when the arrays were read. */
  private readonly variables: tfl.LayerVariable[];
  private readonly dataIds: unknown[];

  constructor(
    model: tfl.LayersModel,
    private readonly parts: GptParts,
    readonly heap: Heap,
  ) {
    this.arrays = allocate(parts, heap);
    const [normed, qkv, attended, projected, hidden, output] = scratchSizes(parts).map((n) => heap.take(n)) as Float32Array[];
    this.scratch = { normed: normed!, qkv: qkv!, attended: attended!, projected: projected!, hidden: hidden!, output: output! };
    this.variables = model.weights.slice();
    this.dataIds = this.variables.map((v) => v.read().dataId);
    load(this.arrays, parts);
  }

  /** Reads the weights again if any variable of the model was assigned since they were read. */
  refresh(): void {
    let changed = false;
    for (let i = 0; i < this.variables.length; i++) {
      const id = this.variables[i]!.read().dataId;
      if (id !== this.dataIds[i]) {
        changed = true;
        this.dataIds[i] = id;
      }
    }
    if (changed) load(this.arrays, this.parts);
  }
}

const modelArrays = new WeakMap<tfl.LayersModel, ModelArrays>();

/**
 * Incremental GPT decoding on typed arrays: the weights of {@link GptParts} read once per model
 * (and again when a variable of the model is assigned), keys and values in preallocated
 * `Float32Array`s `[layers][heads, blockSize, D]` written in place.
 *
 * @internal
 */
export class ArrayDecoder {
  private readonly keys: Float32Array[];
  private readonly values: Float32Array[];
  private readonly width: number;
  private readonly blockSize: number;
  private readonly vocabSize: number;
  /** The residual stream of the position, in float64. */
  private readonly x: Float64Array;
  private readonly scores: Float64Array;
  /** One head's attention output, accumulated in float64. */
  private readonly mix: Float64Array;

  private constructor(
    parts: GptParts,
    private readonly shared: ModelArrays,
  ) {
    const { width, blockSize, vocabSize } = parts.embedding;
    this.width = width;
    this.blockSize = blockSize;
    this.vocabSize = vocabSize;
    this.keys = parts.blocks.map(() => new Float32Array(blockSize * width));
    this.values = parts.blocks.map(() => new Float32Array(blockSize * width));
    this.x = new Float64Array(width);
    this.scores = new Float64Array(blockSize);
    this.mix = new Float64Array(width);
  }

  /**
   * A decoder for `parts` of `model`, or undefined where a layer has a form this path does not
   * reproduce or the engine lacks wasm SIMD.
   */
  static create(model: tfl.LayersModel, parts: GptParts): ArrayDecoder | undefined {
    const module = enabled && typeof WebAssembly === 'object' ? matVecModule() : null;
    if (module === null || !supported(parts)) return undefined;
    let shared = modelArrays.get(model);
    if (shared === undefined) {
      // Count the floats of the weights and operands, then place them all on one instance's memory.
      let floats = 0;
      const take = (n: number) => ((floats += padded(n)), new Float32Array(0));
      allocate(parts, { take });
      scratchSizes(parts).forEach(take);
      shared = new ModelArrays(model, parts, createHeap(module, floats));
      modelArrays.set(model, shared);
    }
    return new ArrayDecoder(parts, shared);
  }

  /**
   * Feeds token `id` at position `t` (the cache holds positions `0 … t−1`) and writes the
   * logits of the next token into `logits` `[V]`.
   */
  step(id: number, t: number, logits: Float32Array): void {
    this.shared.refresh();
    const { heap, arrays, scratch } = this.shared;
    const { normed, qkv, attended, projected, hidden, output } = scratch;
    const { width: c, x } = this;
    const { tokens, positions, blocks, head } = arrays;
    for (let i = 0; i < c; i++) x[i] = tokens[id * c + i]! + positions[t * c + i]!;
    for (let l = 0; l < blocks.length; l++) {
      const block = blocks[l]!;
      // x ← x + Wproj · attention(LN₁(x)) over the cached positions 0 … t.
      layerNorm(x, block.norm1Gamma, block.norm1Beta, block.epsilon, normed);
      heap.matVec(normed, block.qkv, qkv);
      this.attend(l, block.heads, t, qkv, attended);
      heap.matVec(attended, block.projection, projected);
      for (let i = 0; i < c; i++) x[i] += projected[i]!;
      // x ← x + W₂ GELU(W₁ LN₂(x) + b₁) + b₂.
      layerNorm(x, block.norm2Gamma, block.norm2Beta, block.epsilon, normed);
      heap.matVec(normed, block.mlp, hidden);
      gelu(hidden, block.hidden);
      heap.matVec(hidden, block.mlpProjection, projected);
      for (let i = 0; i < c; i++) x[i] += projected[i]!;
    }
    layerNorm(x, arrays.normGamma, arrays.normBeta, arrays.normEpsilon, normed);
    heap.matVec(normed, head, output);
    logits.set(output.subarray(0, this.vocabSize));
  }

  /**
   * Block `l`'s attention at position `t`: appends the key and value in `qkv` to the cache,
   * then writes `attended[h] = softmax(q_h k_hᵀ / √D) v_h` over positions `0 … t` for each head `h`.
   */
  private attend(l: number, heads: number, t: number, qkv: Float32Array, attended: Float32Array): void {
    const { width: c, scores, mix } = this;
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
      mix.fill(0, 0, depth);
      for (let s = 0; s <= t; s++) {
        const p = scores[s]! / total;
        const v = base + s * depth;
        for (let d = 0; d < depth; d++) mix[d] += p * values[v + d]!;
      }
      for (let d = 0; d < depth; d++) attended[q + d] = mix[d]!;
    }
  }
}

/**
 * The key/value-cached forward pass of a {@link nets.gpt} model on typed arrays: the weights are
 * read once into `Float32Array`s and each token runs the incremental forward with no tensor,
 * kernel dispatch or device read. At nanoGPT's CPU size (4 layers, width 128) a token is about
 * 0.8 million multiply-adds, almost all in the matrix-vector products of each block and the
 * head; those, and attention's two products over the key/value cache, run in a small SIMD
 * WebAssembly module (`mat-vec.wat`) on its own memory, which holds the weights and the cache,
 * so the path is the same on every tfjs backend. Layer norms, softmax and GELU are JavaScript.
 * Without wasm SIMD the decoder takes the tensor path.
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
  /** `y[j] = bias[j] + Σᵢ x[i]·w[i·ldw + j]` for `j < m`, `i < n` (all operands from `take`). */
  matVec(x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array, m: number, n: number, ldw: number): void;
  /** `y[r·ldy + j] = bias[j] + Σᵢ x[r·ldx + i]·w[i·ldw + j]` for `r < rows` (a multiple of 4): matVec's floats, 4 rows per weight load. */
  matMat(
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    m: number,
    n: number,
    ldw: number,
    rows: number,
    ldx: number,
    ldy: number,
  ): void;
}

/** `y = bias + x·K` for a {@link Linear}. */
const linear = (heap: Heap, x: Float32Array, { kernel, bias, m, n }: Linear, y: Float32Array): void =>
  heap.matVec(x, kernel, bias, y, m, n, m);

/**
 * `Y = bias + X·K` for a {@link Linear} over `rows` rows of `X` (row length `ldx`) into rows of `Y`
 * (row length `K.m`): groups of 4 rows in matMat, the rest one by one (the same floats either way).
 */
function linearRows(heap: Heap, x: Float32Array, ldx: number, { kernel, bias, m, n }: Linear, y: Float32Array, rows: number): void {
  const grouped = rows - (rows % 4);
  if (grouped > 0) heap.matMat(x, kernel, bias, y, m, n, m, grouped, ldx, m);
  for (let r = grouped; r < rows; r++) heap.matVec(x.subarray(r * ldx), kernel, bias, y.subarray(r * m), m, n, m);
}

interface MatVecExports {
  memory: WebAssembly.Memory;
  matVec(x: number, w: number, bias: number, y: number, m: number, n: number, ldw: number): void;
  matMat(x: number, w: number, bias: number, y: number, m: number, n: number, ldw: number, rows: number, ldx: number, ldy: number): void;
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
    matVec: (x, w, bias, y, m, n, ldw) => exports.matVec(x.byteOffset, w.byteOffset, bias.byteOffset, y.byteOffset, m, n, ldw),
    matMat: (x, w, bias, y, m, n, ldw, rows, ldx, ldy) =>
      exports.matMat(x.byteOffset, w.byteOffset, bias.byteOffset, y.byteOffset, m, n, ldw, rows, ldx, ldy),
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

/** Allocates (zeroed) arrays for the weights of `parts`, all on the heap, in one run of memory. */
function allocate(parts: GptParts, heap: Pick<Heap, 'take'>): GptArrays {
  const { embedding, blocks } = parts;
  const { vocabSize: v, blockSize, width: c } = embedding;
  const take = (n: number) => heap.take(n);
  const linear = (n: number, m: number): Linear => ({ kernel: take(n * padded(m)), bias: take(padded(m)), m: padded(m), n });
  return {
    tokens: take(v * c),
    positions: take(blockSize * c),
    blocks: blocks.map((block) => {
      const hidden = block.blockWeights().mlpKernel.shape[1];
      return {
        heads: block.heads,
        epsilon: block.epsilon,
        hidden,
        norm1Gamma: take(c),
        norm1Beta: take(c),
        qkv: linear(c, 3 * c),
        projection: linear(c, c),
        norm2Gamma: take(c),
        norm2Beta: take(c),
        mlp: linear(c, hidden),
        mlpProjection: linear(hidden, c),
      };
    }),
    normGamma: take(c),
    normBeta: take(c),
    normEpsilon: normEpsilon(parts.norm)!,
    head: linear(c, v),
  };
}

/** One attention head's slice of a block's key/value cache (on the heap). */
interface HeadCache {
  /** The query's slice of the qkv operand `[D]`. */
  query: Float32Array;
  /** Keys, transposed: `[D, S]` (`S` = blockSize padded), column `s` the key of position `s`. */
  keys: Float32Array;
  /** Values `[S, Dp]` (`Dp` = D padded), row `s` the value of position `s`. */
  values: Float32Array;
}

/** Everything a decoder keeps on its heap: the weights, the operands of a step and the cache. */
interface Layout {
  arrays: GptArrays;
  normed: Float32Array;
  qkv: Float32Array;
  attended: Float32Array;
  projected: Float32Array;
  hidden: Float32Array;
  output: Float32Array;
  /** Attention scores, then their exponentials, of one head `[S]`. */
  scores: Float32Array;
  /** One head's attention output `[Dp]`. */
  mixed: Float32Array;
  /** Zeros: the bias of the attention's products. */
  zeros: Float32Array;
  /** Per block, per head. */
  caches: HeadCache[][];
  /** A prefill's operands, one row per position `[blockSize, ·]`: normed inputs `[·, C]`, qkv `[·, 3C]`, attention outputs `[·, C]`, projections `[·, C]`, MLP hidden `[·, hidden]` (row lengths padded). */
  rows: { normed: Float32Array; qkv: Float32Array; attended: Float32Array; projected: Float32Array; hidden: Float32Array };
}

/** Places the weights, operands and cache of `parts` on `heap` (or only counts them, with a counting `take`). */
function layout(parts: GptParts, heap: Pick<Heap, 'take'>): Layout {
  const arrays = allocate(parts, heap);
  const take = (n: number) => heap.take(n);
  const { width: c, vocabSize, blockSize } = parts.embedding;
  const s = padded(blockSize);
  const depths = arrays.blocks.map((b) => padded(c / b.heads));
  const qkv = take(padded(3 * c));
  const hiddenWidth = padded(Math.max(...arrays.blocks.map((b) => b.hidden)));
  return {
    arrays,
    normed: take(c),
    qkv,
    attended: take(c),
    projected: take(padded(c)),
    hidden: take(hiddenWidth),
    output: take(padded(vocabSize)),
    scores: take(s),
    mixed: take(Math.max(...depths)),
    zeros: take(Math.max(s, ...depths)),
    caches: arrays.blocks.map((block, l) => {
      const depth = c / block.heads;
      const keys = take(c * s);
      const values = take(block.heads * s * depths[l]!);
      return Array.from({ length: block.heads }, (_, h) => ({
        query: qkv.subarray(h * depth, (h + 1) * depth),
        keys: keys.subarray(h * depth * s, (h + 1) * depth * s),
        values: values.subarray(h * s * depths[l]!, (h + 1) * s * depths[l]!),
      }));
    }),
    rows: {
      normed: take(blockSize * c),
      qkv: take(blockSize * padded(3 * c)),
      attended: take(blockSize * c),
      projected: take(blockSize * padded(c)),
      hidden: take(blockSize * hiddenWidth),
    },
  };
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

/** Decoders handed back (`release`) per model, whose heaps the model's next decoders reuse. */
const released = new WeakMap<tfl.LayersModel, ArrayDecoder[]>();

/**
 * Incremental GPT decoding on typed arrays: the weights of {@link GptParts}, the step's operands
 * and the key/value cache on the memory of one instance of `mat-vec.wat`. The weights are read
 * from the model's variables once and again when a variable has been assigned (an optimizer
 * step, `setWeights`); a released decoder's heap, weights included, serves the model's next
 * decoder.
 *
 * @internal
 */
export class ArrayDecoder {
  private readonly variables: tfl.LayerVariable[];
  private readonly dataIds: unknown[];
  private readonly width: number;
  private readonly blockSize: number;
  private readonly vocabSize: number;
  /** The residual stream of the position, in float64. */
  private readonly x: Float64Array;
  /** The residual streams of all positions during a prefill `[blockSize, C]` (allocated by the first). */
  private residuals: Float64Array | undefined;

  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly parts: GptParts,
    private readonly heap: Heap,
    private readonly layout: Layout,
  ) {
    const { width, blockSize, vocabSize } = parts.embedding;
    this.width = width;
    this.blockSize = blockSize;
    this.vocabSize = vocabSize;
    this.x = new Float64Array(width);
    this.variables = model.weights.slice();
    this.dataIds = this.variables.map((v) => v.read().dataId);
    load(layout.arrays, parts);
  }

  /**
   * A decoder for `parts` of `model`, or undefined where a layer has a form this path does not
   * reproduce or the engine lacks wasm SIMD (or, unless `always`, the path is switched off).
   */
  static create(model: tfl.LayersModel, parts: GptParts, always = false): ArrayDecoder | undefined {
    const module = (enabled || always) && typeof WebAssembly === 'object' ? matVecModule() : null;
    if (module === null || !supported(parts)) return undefined;
    const reused = released.get(model)?.pop();
    if (reused !== undefined) return reused;
    // Count the floats of the weights, operands and cache, then place them on one instance's memory.
    let floats = 0;
    layout(parts, { take: (n) => ((floats += padded(n)), new Float32Array(0)) });
    const heap = createHeap(module, floats);
    return new ArrayDecoder(model, parts, heap, layout(parts, heap));
  }

  /** Hands the heap back for the model's next decoder; this decoder must not be used afterwards. */
  release(): void {
    const list = released.get(this.model) ?? [];
    if (list.length < 2) list.push(this);
    released.set(this.model, list);
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
    if (changed) load(this.layout.arrays, this.parts);
  }

  /**
   * Feeds token `id` at position `t` (the cache holds positions `0 … t−1`) and writes the
   * logits of the next token into `logits` `[V]`.
   */
  step(id: number, t: number, logits: Float32Array): void {
    this.refresh();
    this.embed(id, t, this.x);
    for (let l = 0; l < this.layout.arrays.blocks.length; l++) this.block(l, t);
    this.head(logits);
  }

  /**
   * Feeds `ids` at positions `0 … T−1` into an empty cache (a prefill) and writes the logits of
   * the token after the last into `logits` `[V]`. Layer by layer over all positions: each
   * projection is one matrix product over the positions (matMat: each weight read once per 4
   * positions instead of once per position), attention position by position over the cache as
   * in a step; in the last block only the keys and values of the earlier positions (nothing
   * reads their outputs). Every float is computed as `T` steps compute it, so the logits and the
   * cache equal theirs exactly.
   */
  prefill(ids: ArrayLike<number>, logits: Float32Array): void {
    this.refresh();
    const { heap, width: c, x } = this;
    const { arrays, rows, qkv, attended } = this.layout;
    const count = ids.length;
    const residuals = (this.residuals ??= new Float64Array(this.blockSize * c));
    for (let t = 0; t < count; t++) this.embed(ids[t]!, t, residuals.subarray(t * c, (t + 1) * c));
    const q3 = padded(3 * c);
    const cp = padded(c);
    for (let l = 0; l < arrays.blocks.length; l++) {
      const block = arrays.blocks[l]!;
      // The last block's output is read only at the last position.
      const first = l === arrays.blocks.length - 1 ? count - 1 : 0;
      const active = count - first;
      const row = (t: number) => residuals.subarray(t * c, (t + 1) * c);
      for (let t = 0; t < count; t++)
        layerNorm(row(t), block.norm1Gamma, block.norm1Beta, block.epsilon, rows.normed.subarray(t * c, (t + 1) * c));
      linearRows(heap, rows.normed, c, block.qkv, rows.qkv, count);
      for (let t = 0; t < count; t++) {
        qkv.set(rows.qkv.subarray(t * q3, t * q3 + 3 * c));
        if (t < first) {
          this.store(l, t);
          continue;
        }
        this.attend(l, t);
        rows.attended.set(attended, (t - first) * c);
      }
      linearRows(heap, rows.attended, c, block.projection, rows.projected, active);
      for (let t = first; t < count; t++) {
        const r = row(t);
        const p = rows.projected.subarray((t - first) * cp);
        for (let i = 0; i < c; i++) r[i] += p[i]!;
        layerNorm(r, block.norm2Gamma, block.norm2Beta, block.epsilon, rows.normed.subarray((t - first) * c, (t - first + 1) * c));
      }
      const hp = padded(block.hidden);
      linearRows(heap, rows.normed, c, block.mlp, rows.hidden, active);
      for (let t = 0; t < active; t++) gelu(rows.hidden.subarray(t * hp), block.hidden);
      linearRows(heap, rows.hidden, hp, block.mlpProjection, rows.projected, active);
      for (let t = first; t < count; t++) {
        const r = row(t);
        const p = rows.projected.subarray((t - first) * cp);
        for (let i = 0; i < c; i++) r[i] += p[i]!;
      }
    }
    x.set(residuals.subarray((count - 1) * c, count * c));
    this.head(logits);
  }

  /** `x` ← the token embedding of `id` plus the position embedding of `t`. */
  private embed(id: number, t: number, x: Float64Array): void {
    const { tokens, positions } = this.layout.arrays;
    const c = this.width;
    for (let i = 0; i < c; i++) x[i] = tokens[id * c + i]! + positions[t * c + i]!;
  }

  /** Block `l` at position `t` on the residual stream `x` (its keys and values appended to the cache). */
  private block(l: number, t: number): void {
    const { heap, layout: operands, width: c, x } = this;
    const { arrays, normed, qkv, attended, projected, hidden } = operands;
    const block = arrays.blocks[l]!;
    // x ← x + Wproj · attention(LN₁(x)) over the cached positions 0 … t.
    layerNorm(x, block.norm1Gamma, block.norm1Beta, block.epsilon, normed);
    linear(heap, normed, block.qkv, qkv);
    this.attend(l, t);
    linear(heap, attended, block.projection, projected);
    for (let i = 0; i < c; i++) x[i] += projected[i]!;
    // x ← x + W₂ GELU(W₁ LN₂(x) + b₁) + b₂.
    layerNorm(x, block.norm2Gamma, block.norm2Beta, block.epsilon, normed);
    linear(heap, normed, block.mlp, hidden);
    gelu(hidden, block.hidden);
    linear(heap, hidden, block.mlpProjection, projected);
    for (let i = 0; i < c; i++) x[i] += projected[i]!;
  }

  /** The logits `[V]` of the residual stream `x` after the last block: the final norm and the head. */
  private head(logits: Float32Array): void {
    const { arrays, normed, output } = this.layout;
    layerNorm(this.x, arrays.normGamma, arrays.normBeta, arrays.normEpsilon, normed);
    linear(this.heap, normed, arrays.head, output);
    logits.set(output.subarray(0, this.vocabSize));
  }

  /** Appends the key and value of block `l` in `qkv` to its cache at position `t`. */
  private store(l: number, t: number): void {
    const c = this.width;
    const { qkv, caches } = this.layout;
    const heads = caches[l]!;
    const depth = c / heads.length;
    const stride = padded(this.blockSize);
    const valueStride = padded(depth);
    for (let h = 0; h < heads.length; h++) {
      const { keys, values } = heads[h]!;
      const q = h * depth;
      for (let d = 0; d < depth; d++) {
        keys[d * stride + t] = qkv[c + q + d]!;
        values[t * valueStride + d] = qkv[2 * c + q + d]!;
      }
    }
  }

  /**
   * Block `l`'s attention at position `t`: appends the key and value in `qkv` to the cache,
   * then writes `attended[h] = softmax(q_h k_hᵀ / √D) v_h` over positions `0 … t` for each
   * head `h` (the two products on the heap, the softmax here).
   */
  private attend(l: number, t: number): void {
    const { heap, width: c } = this;
    const { attended, scores, mixed, zeros, caches } = this.layout;
    const heads = caches[l]!;
    const depth = c / heads.length;
    const stride = padded(this.blockSize);
    const valueStride = padded(depth);
    const scale = 1 / Math.sqrt(depth);
    this.store(l, t);
    for (let h = 0; h < heads.length; h++) {
      const { query, keys, values } = heads[h]!;
      const q = h * depth;
      // scores[s] = q · k_s for s ≤ t, then exp((scores[s] − max) / √D).
      heap.matVec(query, keys, zeros, scores, padded(t + 1), depth, stride);
      let max = -Infinity;
      for (let s = 0; s <= t; s++) if (scores[s]! > max) max = scores[s]!;
      let total = 0;
      for (let s = 0; s <= t; s++) total += scores[s] = Math.exp((scores[s]! - max) * scale);
      // mixed[d] = Σ_s exp_s · v_s[d], normalised by the total.
      heap.matVec(scores, values, zeros, mixed, valueStride, t + 1, valueStride);
      for (let d = 0; d < depth; d++) attended[q + d] = mixed[d]! / total;
    }
  }
}

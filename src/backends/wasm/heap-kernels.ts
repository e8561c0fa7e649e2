/**
 * genblocks' own SIMD kernels (`heap-kernels.wat`), instantiated on the tfjs wasm backend's
 * linear memory so that they read and write tensors where they lie on its heap.
 *
 * XNNPACK's fully-connected operator (what the stock wasm `BatchMatMul` calls) copies its right
 * operand into a packed layout before every product with a tensor it has not seen: about 6 ns
 * per element here, so re-packing a 784x1024 weight matrix after each optimizer step costs more
 * than the product itself, and every backward product packs a fresh activation. The `gemm`
 * here reads both operands where they lie, transposed or not (4x8 register tiles,
 * `v128.load32_splat` of A, rows of B; a transposed B is transposed panel by panel into its
 * scratch), or A packed by `packA` into blocks of 4 rows (one pointer per block in the k loop),
 * at the speed of XNNPACK's kernel on a packed operand. `sqrt`, `leakyRelu`, `greater`,
 * `select` and `tanh` are single SIMD passes where the stock kernels are scalar loops; `adam` is a whole
 * Adam update in one pass (see `train.fusedAdam`); `groupNorm` and `groupNormGrad` are group
 * normalization's passes (see `group-norm.ts`); `transpose` and `copyRuns` move a transpose's
 * elements (see `transpose.ts`); `causalAttention` and its gradient are the attention core of
 * a transformer block (see `causal-attention.ts`).
 *
 * The module is about 5 KiB, which browsers compile synchronously even on the main thread.
 * Where the engine supports relaxed SIMD (Chromium; Node 20 only behind
 * `--experimental-wasm-relaxed-simd`), an assembly whose gemm uses `f32x4.relaxed_madd` (fused
 * multiply-adds) runs instead.
 * On the threaded build's shared heap (genblocks' Node threads) the same assembly (relaxed or
 * plain) importing a shared memory runs, and large calls are split across a pool of
 * `threads − 1` worker threads running that assembly on the same heap (`heap-pool.ts`): a gemm
 * by blocks of output columns or rows, the element-wise kernels and Adam by ranges, group
 * normalization by examples, transposes by matrices or blocks of rows, attention by (batch,
 * head) pairs. No thread
 * changes another's summation order (the reduction dimension is never split), so results are
 * bit-identical to one thread. Unavailable (the callers keep the stock paths) when the
 * backend's memory cannot be reached (the threaded build started by tfjs itself, in a browser)
 * or the engine lacks wasm SIMD.
 *
 * @module
 */
import { HEAP_KERNELS_RELAXED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './heap-kernels-binary.js';
import { HeapPool, MAX_CHUNKS, type PanelArgument, type PoolOp } from './heap-pool.js';
import { disposeOnThrow } from './scope.js';
import { sizeOf, type WasmBackend, type WasmKernelFunc } from './types.js';

/** The exports of `heap-kernels.wat`. Pointers are byte offsets on the heap, strides in elements. */
export interface HeapKernels {
  /**
   * `C(i, j) = bias[j] + Σ_k A(i, k)·B(k, j)` for `M % 4 == 0`, `N % 8 == 0`, with
   * `A(i, k) = a[⌊i/4⌋·sab + (i mod 4)·sai + k·sak]` (`sab = 4·sai` for plain strides: a
   * row-major or transposed A; `sab = 4·K, sai = 1, sak = 4` for A packed by
   * {@link HeapKernels.packA}), `B(k, j) = b[k·sbk + j·sbj]` (rows of B, or a transposed B, read
   * where they lie), `C(i, j) = c[i·sci + j·scj]`; each output summed from its bias (or 0) over
   * `k = 0..K−1` in order. `bias` is 0 for none; `panel`, 0 or scratch space for `K·8` floats,
   * where each `K x 8` panel of B is copied contiguously before the row blocks of A pass it (worth
   * it from 8 rows on; required when `sbj ≠ 1`). With worker threads each thread needs its own
   * panel: `panel` must then have room for `K·8·heapKernelThreads(backend)` floats.
   */
  gemm(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    N: number,
    K: number,
    sab: number,
    sai: number,
    sak: number,
    sbk: number,
    sbj: number,
    sci: number,
    scj: number,
    panel: number,
  ): void;
  /**
   * `count` gemms (arguments as {@link HeapKernels.gemm}) whose `a`, `b`, `c` advance by
   * `strideA`, `strideB`, `strideC` bytes from one to the next (a batch of equal products).
   */
  gemmBatch(
    count: number,
    strideA: number,
    strideB: number,
    strideC: number,
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    N: number,
    K: number,
    sab: number,
    sai: number,
    sak: number,
    sbk: number,
    sbj: number,
    sci: number,
    scj: number,
    panel: number,
  ): void;
  /**
   * `A(i, k) = a[i·sai + k·sak]` (`M x K`, any `M`) written at `out` as `⌈M/4⌉` blocks of `K`
   * groups of 4 floats, `out[b·4K + 4k + l] = A(4b + l, k)`, rows from `M` on zero: the layout
   * {@link HeapKernels.gemm} reads with one pointer per row block (`sab = 4·K, sai = 1, sak = 4`).
   */
  packA(a: number, sai: number, sak: number, M: number, K: number, out: number): void;
  /** `out[i] = √x[i]` for `i < n`. */
  sqrt(x: number, out: number, n: number): void;
  /** `out[i] = x[i] < 0 ? alpha·x[i] : x[i]` for `i < n`. */
  leakyRelu(x: number, out: number, n: number, alpha: number): void;
  /** `out[i] = a[i] > b[i·bStep] ? 1 : 0` (bytes) for `i < n`; `bStep` 1 (same shapes) or 0 (scalar `b`). */
  greater(a: number, b: number, out: number, n: number, bStep: number): void;
  /** `out[i] = condition[i] ? t[i] : e[i]` for 4-byte elements and byte conditions, `i < n`. */
  select(condition: number, t: number, e: number, out: number, n: number): void;
  /** `out[i] = erf(x[i])` for `i < n` (Abramowitz & Stegun 7.1.26, as the cpu backend; error ≤ 1.5e-7). */
  erf(x: number, out: number, n: number): void;
  /** `out[i] = tanh(x[i])` for `i < n` (Eigen's rational approximation, error ≤ 3.9e-7). */
  tanh(x: number, out: number, n: number): void;
  /** GPT-2's tanh-form GELU of the first `n − n mod 4` elements, and its tanh term (the caller computes the rest). */
  gelu(x: number, out: number, tanhOut: number, n: number): void;
  /** `dy ·` GELU's derivative at `x` given its tanh term, for the first `n − n mod 4` elements (as {@link HeapKernels.gelu}). */
  geluGrad(dy: number, x: number, tanh: number, out: number, n: number): void;
  /** Layer norm of `rows` rows of `C` values (`C % 4 == 0`): writes y, x̂ and r (see `heap-kernels.wat`). */
  layerNorm(x: number, gamma: number, beta: number, y: number, xHat: number, r: number, rows: number, C: number, epsilon: number): void;
  /** Layer norm's gradient (`C % 4 == 0`): writes dx and adds to dGamma, dBeta (zeroed by the caller). */
  layerNormGrad(
    dy: number,
    xHat: number,
    r: number,
    gamma: number,
    dx: number,
    dGamma: number,
    dBeta: number,
    rows: number,
    C: number,
  ): void;
  /**
   * `out[b·cols + j] = Σ_i x[(b·rows + i)·cols + j]`: the row sums of `batch` matrices
   * `[rows, cols]`, each column accumulated from 0 in order of `i` (see `sum-columns.ts`).
   */
  sumRows(x: number, out: number, batch: number, rows: number, cols: number): void;
  /** `out[i] = dy[i]·s[i]·(1 + x[i]·(1 − s[i]))` for `i < n`: SiLU's gradient given `s = σ(x)` (see `silu.ts`). */
  siluGrad(dy: number, x: number, s: number, out: number, n: number): void;
  /** `rows` runs of `run` 4-byte elements from `x` (run `r` at element `r·sx`) to `out` (at `r·so`), bit copies (see `concat.ts`). */
  copyStrided(x: number, sx: number, out: number, so: number, rows: number, run: number): void;
  /** `out[k·run + j] = x[idx[k]·run + j]` for `k < count`, `j < run`, `idx` int32 (bit copies; see `resize-nearest-neighbor.ts`). */
  gatherRuns(x: number, out: number, idx: number, count: number, run: number): void;
  /** `dx[idx[k]·run + j] += dy[k·run + j]` for `k < count` in order, `j < run`: the adjoint of `gatherRuns`. */
  scatterAddRuns(dy: number, dx: number, idx: number, count: number, run: number): void;
  /** `Σ x[i]²` over `n` floats (four float32 lanes, summed at the end). */
  sumSquares(x: number, n: number): number;
  /** `out[i] = x[i] · s` over `n` floats. */
  scale(x: number, out: number, n: number, s: number): void;
  /**
   * `out(i, j) = A(i, j) op B(i, j)` over a contiguous `M x N` output, `A(i, j) = a[i·sa + j·ta]`,
   * `B(i, j) = b[i·sb + j·tb]` (`ta`, `tb` 0 or 1); `op` 0 add, 1 sub, 2 mul, 3 div, 4 squared
   * difference, 5 max, 6 min, 7 copy of A.
   */
  binary(op: number, M: number, N: number, a: number, sa: number, ta: number, b: number, sb: number, tb: number, out: number): void;
  /**
   * Group normalization of `batch` examples `x` `[P, G·S]` (`G·S % 4 == 0`): `y = γ·x̂ + β`,
   * `x̂ = (x − μ)·r`, `r[n·G + g] = 1/√(σ² + ε)` per (example, group); `scratch`: `3·G·S` floats
   * (per thread, as `gemm`'s panel).
   */
  groupNorm(
    x: number,
    gamma: number,
    beta: number,
    y: number,
    xHat: number,
    r: number,
    scratch: number,
    batch: number,
    P: number,
    G: number,
    S: number,
    epsilon: number,
  ): void;
  /**
   * Its gradient: `dx = r·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂))` per (example, group), and per
   * example the per-channel `Σ dy` and `Σ dy·x̂` into `partial` `[batch, 2, G·S]`; `scratch`:
   * `3·G·S` floats (per thread).
   */
  groupNormGrad(
    dy: number,
    xHat: number,
    r: number,
    gamma: number,
    dx: number,
    partial: number,
    scratch: number,
    batch: number,
    P: number,
    G: number,
    S: number,
  ): void;
  /**
   * `batch` matrices of `R x C` 4-byte elements at `x` written transposed (`C x R` each) at
   * `out`: `out[m·R·C + c·R + r] = x[m·R·C + r·C + c]` (bit copies, any `R`, `C`).
   */
  transpose(x: number, out: number, batch: number, R: number, C: number): void;
  /**
   * One `R x C` matrix of 4-byte elements at `x` (rows `ldx` elements apart) written transposed
   * at `out` (rows `ldo` apart): `out[c·ldo + r] = x[r·ldx + c]` (bit copies, any `R`, `C`).
   */
  transposeStrided(x: number, out: number, R: number, C: number, ldx: number, ldo: number): void;
  /**
   * `n0·n1·n2·n3` runs of `run` 4-byte elements written one after another at `out`, run
   * `(i0, i1, i2, i3)` read from element `i0·s0 + i1·s1 + i2·s2 + i3·s3` of `x` (bit copies).
   */
  copyRuns(
    x: number,
    out: number,
    run: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
  ): void;
  /**
   * One Adam step over `n` parameters `w` (moments `m`, `v`, gradient `g`) into fresh outputs
   * `ow`, `om`, `ov`, in `tf.train.adam`'s order of float32 operations; `c1 = 1 − β1ᵗ`,
   * `c2 = 1 − β2ᵗ`; the gradient is first multiplied by `gradientScale` (clipping) and the
   * value by `decay` (AdamW), both in float32 (1: unchanged). Returns `Σ (x − x)` over the new values and second moments: 0 when every
   * value written is finite, NaN otherwise (a non-finite first moment makes the value
   * non-finite).
   */
  adam(
    w: number,
    m: number,
    v: number,
    g: number,
    ow: number,
    om: number,
    ov: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    c1: number,
    c2: number,
    epsilon: number,
    negLearningRate: number,
    gradientScale: number,
    decay: number,
  ): number;
  /**
   * Several {@link HeapKernels.adam} calls, `calls[i]` the 18 arguments of one (the parameters of
   * one variable), and what each returned (its finiteness sum). On one thread, the calls in order;
   * with worker threads, every call cut into ranges that are shared out in one pool job (instead
   * of one job per variable). Each element's update is the same wherever it runs, so the results
   * are those of the calls one by one, bit for bit.
   */
  adamMany(calls: readonly (readonly number[])[]): number[];
  /**
   * Causal self-attention of the pairs `first … first + count − 1` (pair `b·H + h`: batch `b`,
   * head `h`) read in place from the fused projection's rows `qkv` `[B·T, 3·H·D]` (`D % 4 == 0`):
   * the weights `P = softmax(s·q kᵀ)` over keys `j ≤ i` (0 after) at `probs` `[B·H, T, T]` and
   * the output `P v` at `out` `[B·T, H·D]` (merged heads). `scratch`: `(D + 4)·Tp` floats, `Tp`
   * = `T` rounded up to a multiple of 8 (per thread, as `gemm`'s panel). See `causal-attention.ts`.
   */
  causalAttention(
    qkv: number,
    out: number,
    probs: number,
    scratch: number,
    first: number,
    count: number,
    T: number,
    H: number,
    D: number,
    scale: number,
  ): void;
  /**
   * The gradient of {@link HeapKernels.causalAttention} for the same pairs, given `dy` (`[B·T,
   * H·D]`), the forward's `out` and `probs`: `dqkv` `[B·T, 3·H·D]` (every element written).
   * `scratch`: `D·Tp + Tr·Tp + Tr` floats, `Tr` = `T` rounded up to a multiple of 4 (per thread).
   */
  causalAttentionGrad(
    qkv: number,
    out: number,
    probs: number,
    dy: number,
    dqkv: number,
    scratch: number,
    first: number,
    count: number,
    T: number,
    H: number,
    D: number,
    scale: number,
  ): void;
}

/**
 * Scratch floats per thread of {@link HeapKernels.causalAttention} (`forward`) and of its
 * gradient (`backward`) for sequences of `T` positions and heads of `D` features.
 */
export function attentionScratch(T: number, D: number): { forward: number; backward: number } {
  const padded = Math.ceil(T / 8) * 8;
  const rows = Math.ceil(T / 4) * 4;
  return { forward: (D + 4) * padded, backward: D * padded + rows * padded + rows };
}

/** Rows of A from which the heap `gemm` is given a panel, to copy each panel of B contiguously first. */
export const PANEL_MIN_ROWS = 8;

/** The permutation of `rank` axes that swaps the last two (a batched matrix transpose). */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * The assemblies of `heap-kernels.wat`: for a plain memory, with the relaxed-SIMD gemm, and the
 * same two importing a shared memory (the threaded build's heap; made from the first two by
 * {@link withSharedMemory}, not shipped twice).
 */
type Variant = 'plain' | 'relaxed' | 'shared' | 'sharedRelaxed';
const BINARIES: Record<Variant, () => Uint8Array<ArrayBuffer>> = {
  plain: () => decode(HEAP_KERNELS_WASM_BASE64),
  relaxed: () => decode(HEAP_KERNELS_RELAXED_WASM_BASE64),
  shared: () => withSharedMemory(decode(HEAP_KERNELS_WASM_BASE64)),
  sharedRelaxed: () => withSharedMemory(decode(HEAP_KERNELS_RELAXED_WASM_BASE64)),
};

/** Unsigned LEB128, the wasm binary format's integers. */
function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Reads an unsigned LEB128 at `bytes[pos]`: its value and the position after it. */
function readLeb128(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/**
 * The heap-kernel module `bytes`, whose only import is `(import "env" "memory" (memory 1))`,
 * importing `(memory 1 65536 shared)` instead: the memory limits' flag 0 becomes 3 (shared, with
 * a maximum) followed by the maximum, 65536 pages, and the import section's size grows by the
 * bytes added. The result is what wabt assembles from the source with that import, byte for byte
 * (checked in `heap-kernels-binary.test.ts`). Throws on any other import section. @internal
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let pos = 8; // magic and version
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, start] = readLeb128(bytes, pos + 1);
    const end = start + size;
    if (id === 2) {
      const [count, first] = readLeb128(bytes, start);
      let p = first;
      for (let i = 0; i < 2; i++) {
        const [length, after] = readLeb128(bytes, p);
        p = after + length;
      }
      const kind = bytes[p];
      const flag = bytes[p + 1];
      const [minimum, afterMin] = readLeb128(bytes, p + 2);
      if (count !== 1 || kind !== 2 || flag !== 0 || afterMin !== end) {
        throw new Error('withSharedMemory: expected one import, a memory without maximum');
      }
      const content = [...bytes.subarray(start, p + 1), 3, ...leb128(minimum), ...leb128(65536)];
      const out = new Uint8Array(new ArrayBuffer(bytes.length - (end - pos) + 1 + leb128(content.length).length + content.length));
      out.set(bytes.subarray(0, pos), 0);
      out.set([2, ...leb128(content.length), ...content], pos);
      out.set(bytes.subarray(end), pos + 1 + leb128(content.length).length + content.length);
      return out;
    }
    pos = end;
  }
  throw new Error('withSharedMemory: the module has no import section');
}
const compiled: Partial<Record<Variant, WebAssembly.Module | null>> = {};
const variants = new WeakMap<WebAssembly.Memory, Variant>();
const instances = new WeakMap<WebAssembly.Memory, HeapKernels | null>();
let enabled = true;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The compiled module of one assembly, or `null` where the engine rejects it. */
function compile(kind: Variant): WebAssembly.Module | null {
  if (compiled[kind] === undefined) {
    try {
      const bytes = BINARIES[kind]();
      compiled[kind] = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled[kind] = null;
    }
  }
  return compiled[kind];
}

/**
 * The backend's linear memory: exported by the single-threaded build (`asm.memory`); the
 * threaded build imports its shared memory, which genblocks' Node threads record as
 * `wasmMemory` on the module (`node-threads.ts`).
 */
function memoryOf(backend: WasmBackend): WebAssembly.Memory | null {
  const wasm = (backend as unknown as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = wasm?.asm?.memory ?? wasm?.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

const isShared = (memory: WebAssembly.Memory): boolean =>
  typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;

/** The module's own exports: {@link HeapKernels} less the batch loops, which are JavaScript. */
type HeapExports = Omit<HeapKernels, 'gemmBatch' | 'adamMany'>;

/** The module's exports with `gemmBatch` and `adamMany` as loops over `gemm` and `adam`: the kernels on one thread. */
function oneThread(exports: HeapExports): HeapKernels {
  const gemm = exports.gemm;
  const adam = exports.adam as (...args: number[]) => number;
  return {
    ...exports,
    gemmBatch(count, strideA, strideB, strideC, a, b, c, ...rest) {
      for (let i = 0; i < count; i++) gemm(a + i * strideA, b + i * strideB, c + i * strideC, ...rest);
    },
    adamMany: (calls) => calls.map((args) => adam(...args)),
  };
}

/** genblocks' heap kernels on `backend`'s memory, or `null` where they cannot run. */
export function heapKernels(backend: WasmBackend): HeapKernels | null {
  if (!enabled) return null;
  const memory = memoryOf(backend);
  if (memory == null) return null;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    // The relaxed-SIMD gemm (fused multiply-adds) where the engine validates it, else plain SIMD.
    const candidates: Variant[] = isShared(memory) ? ['sharedRelaxed', 'shared'] : ['relaxed', 'plain'];
    kernels = null;
    for (const variant of candidates) {
      const module = compile(variant);
      if (module == null) continue;
      try {
        const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeapExports;
        const local = oneThread(exports);
        kernels = isShared(memory) ? threaded(local, startPool(backend, module, memory)) : local;
        variants.set(memory, variant);
        break;
      } catch {
        kernels = null;
      }
    }
    instances.set(memory, kernels);
  }
  return kernels;
}

/** The worker pool of one shared heap: `pool` once started, `null` before, or without one. */
interface PoolState {
  pool: HeapPool | null;
  /** Settles when the pool has started (or could not): the threads a call may use then. */
  ready: Promise<number>;
}
const pools = new WeakMap<WebAssembly.Memory, PoolState>();
let threadsEnabled = true;
/** The running pools (for {@link setHeapPoolSpin}), and the spin they start with. */
const livePools = new Set<HeapPool>();
let poolSpin: HeapPoolSpin = {};

/** XNNPACK's thread count on `backend` (1 on the single-threaded build). */
function backendThreads(backend: WasmBackend): number {
  const tfjs = (backend as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm?.tfjs;
  return tfjs?.getThreadsCount?.() ?? 1;
}

/**
 * Starts, in the background, the worker pool for the shared heap `memory` of `backend`: as many
 * threads as XNNPACK's pool, `threads − 1` of them workers. Calls before it is ready run on the
 * calling thread (with the same results). The pool stops when the backend is disposed
 * (`tf.removeBackend`); a pool that cannot start leaves the kernels on one thread, with a warning.
 */
function startPool(backend: WasmBackend, module: WebAssembly.Module, memory: WebAssembly.Memory): PoolState {
  const threads = backendThreads(backend);
  const state: PoolState = { pool: null, ready: Promise.resolve(1) };
  pools.set(memory, state);
  // Node only: a page's main thread may not block in Atomics.wait, and has no worker_threads.
  const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (threads < 2 || !inNode) return state;
  let disposed = false;
  const owner = backend as unknown as { dispose?: () => void };
  const dispose = owner.dispose;
  if (typeof dispose === 'function') {
    // On this backend instance only: its removal also stops the pool.
    owner.dispose = function (this: unknown) {
      disposed = true;
      if (state.pool != null) livePools.delete(state.pool);
      state.pool?.terminate();
      return dispose.call(this);
    };
  }
  const spin = {
    ...(poolSpin.workerMs === undefined ? {} : { spinMs: poolSpin.workerMs }),
    ...(poolSpin.callerMs === undefined ? {} : { callerSpinMs: poolSpin.callerMs }),
  };
  state.ready = HeapPool.start(module, memory, threads, spin).then(
    (pool) => {
      if (disposed) pool.terminate();
      else {
        state.pool = pool;
        livePools.add(pool);
      }
      return pool.threads;
    },
    (e: unknown) => {
      console.warn(
        `heapKernels: worker threads for the heap kernels could not start (${(e as Error).message}); they run on the calling thread`,
      );
      return 1;
    },
  );
  return state;
}

/**
 * Resolves once the heap kernels' worker threads on `backend` have started (or could not), with
 * the threads a heap-kernel call may use: 1 on the single-threaded build. Kernel calls made
 * earlier run on the calling thread, with the same results.
 */
export async function heapKernelsReady(backend: WasmBackend): Promise<number> {
  const memory = memoryOf(backend);
  if (memory == null || heapKernels(backend) == null) return 1;
  await pools.get(memory)?.ready;
  return heapKernelThreads(backend);
}

/** Threads a heap-kernel call on `backend` may use now (the calling thread included). */
export function heapKernelThreads(backend: WasmBackend): number {
  const memory = memoryOf(backend);
  const pool = memory == null ? null : (pools.get(memory)?.pool ?? null);
  return threadsEnabled && pool != null ? pool.threads : 1;
}

/**
 * Turns the heap kernels' worker threads off (`false`: every call on the calling thread) or back
 * on. For tests and A/B benchmarks; returns the previous setting.
 */
export function setHeapThreadsEnabled(on: boolean): boolean {
  const previous = threadsEnabled;
  threadsEnabled = on;
  return previous;
}

/** How long the heap pool's threads spin before blocking (see {@link setHeapPoolSpin}). */
export interface HeapPoolSpin {
  /** The workers, for the next job (`HeapPoolOptions.spinMs`, default 0: block at once). */
  workerMs?: number;
  /** The calling thread, for the workers' last chunks (`HeapPoolOptions.callerSpinMs`, default 0.5). */
  callerMs?: number;
}

/**
 * Sets how long the heap pool's threads spin before they block, for the running pools and those
 * started later. For A/B benchmarks; returns the previous settings.
 */
export function setHeapPoolSpin(spin: HeapPoolSpin): Required<HeapPoolSpin> {
  const running = [...livePools][0];
  const previous = {
    workerMs: poolSpin.workerMs ?? running?.spinMs ?? 0,
    callerMs: poolSpin.callerMs ?? running?.callerSpinMs ?? 0.5,
  };
  poolSpin = { ...poolSpin, ...spin };
  for (const pool of livePools) {
    if (spin.workerMs !== undefined) pool.spinMs = spin.workerMs;
    if (spin.callerMs !== undefined) pool.callerSpinMs = spin.callerMs;
  }
  return previous;
}

/**
 * Least work per thread before a call is split: multiply-adds of a gemm, elements of an
 * element-wise pass. Below it, waking a worker (an `Atomics.notify` and a futex wake-up, tens
 * of microseconds on a busy machine) costs about as much as the part it would take.
 */
const GEMM_MIN_FLOPS_PER_THREAD = 1 << 21;
const ELEMENTWISE_MIN_PER_THREAD = 1 << 15;
/** `packA` (about 0.1-0.3 ns per element): split from 2^17 elements per thread. */
const PACK_MIN_PER_THREAD = 1 << 17;
/** Adam (and AdamW's decay): a GPT's 128x384 matrices (49 152 parameters) are split. */
const ADAM_MIN_PER_THREAD = 1 << 13;
/**
 * Chunks per thread. Chunks are claimed by whichever thread is free, so a thread that wakes late
 * or shares its core (with XNNPACK's workers, which spin a while after each operator) takes fewer;
 * and the calling thread, done with its last chunk, waits on average half a chunk for the others'
 * last: with 8, a GPT step's 80-odd products (about 1 to 3 ms each on one thread) leave about
 * 3 ms of such waiting per step where 4 left about 6.
 */
const CHUNKS_PER_THREAD = 8;
/** Element-wise ranges start at multiples of this many elements (64-byte lines, SIMD groups). */
const ALIGN = 16;

/** `n` units cut into `parts` ranges `[start, count]` of multiples of `align`, as even as possible. */
function ranges(n: number, parts: number, align: number): [number, number][] {
  const units = Math.ceil(n / align);
  const out: [number, number][] = [];
  let start = 0;
  for (let t = 0; t < parts; t++) {
    const end = Math.min(n, Math.round((units * (t + 1)) / parts) * align);
    if (end > start) out.push([start, end - start]);
    start = end;
  }
  return out;
}

/**
 * How many chunks a call with `work` units over `units` divisible parts is cut into: 1 below two
 * threads' minimum work, else up to {@link CHUNKS_PER_THREAD} per thread.
 */
function chunksFor(pool: HeapPool | null, work: number, minPerThread: number, units: number): number {
  if (pool == null || !threadsEnabled) return 1;
  const threads = Math.min(pool.threads, Math.floor(work / minPerThread));
  return threads < 2 ? 1 : Math.min(units, threads * CHUNKS_PER_THREAD, MAX_CHUNKS);
}

/**
 * The chunks a {@link HeapKernels.copyRuns} call over `extents` (its `n0`…`n3`, input element
 * strides `strides`, runs of `runLength` elements) is cut into for at most `count` parts: each
 * `[from, to, n0, n1, n2, n3]`, the element offsets of its first run in `x` and in `out` and the
 * extents it copies (its runs written one after another from `to`). Along the outermost axis of
 * extent over 1; when that axis has fewer indices than `count` (the 3 of attention's head split),
 * each of its indices along the next axis too, with `min(extent, max(1, ⌊count / outer⌋))` parts
 * per index, so that there are never more than `count` chunks (nor, with `count ≤ MAX_CHUNKS`,
 * more than the pool's table holds). Every output element is in exactly one chunk.
 *
 * @internal
 */
export function copyRunsChunks(extents: readonly number[], strides: readonly number[], runLength: number, count: number): number[][] {
  const axis = extents.findIndex((n) => n > 1);
  if (axis < 0 || count <= 1) return [[0, 0, ...extents]];
  // Output elements per index along each axis: the runs of the axes inside it.
  const inner = extents.map((_, d) => extents.slice(d + 1).reduce((p, n) => p * n, 1) * runLength);
  const split = extents[axis]! >= count || axis === extents.length - 1 ? [axis] : [axis, axis + 1];
  const outer = split.length === 1 ? [0] : Array.from({ length: extents[axis]! }, (_, i) => i);
  const d = split[split.length - 1]!;
  // At most `count` chunks in all (outer.length < count when there are two axes).
  const parts = Math.min(extents[d]!, Math.max(1, Math.floor(count / outer.length)));
  return outer.flatMap((i) =>
    ranges(extents[d]!, parts, 1).map(([j0, k]) => {
      const n = extents.slice();
      if (split.length === 2) n[axis] = 1;
      n[d] = k;
      return [i * strides[axis]! + j0 * strides[d]!, i * inner[axis]! + j0 * inner[d]!, ...n];
    }),
  );
}

/**
 * `local` with each kernel split across `state`'s pool once it runs (see the module comment):
 * gemm by output columns (blocks of 8), or rows (blocks of 4) when it has few columns, each
 * thread with its own panel; `gemmBatch` by batch entries; the element-wise kernels and Adam by
 * ranges (rows or columns for `binary`).
 */
function threaded(local: HeapKernels, state: PoolState): HeapKernels {
  /** Runs the chunks (on the pool when there are several); what each returned, in order. */
  const run = (op: PoolOp, fn: (...args: number[]) => unknown, chunks: (readonly number[])[], panel?: PanelArgument): number[] => {
    if (chunks.length === 1) return [Number(fn(...chunks[0]!) ?? 0)];
    return state.pool!.run(op, fn, chunks, panel);
  };
  /** The scratch argument of `gemmBatch`: one K x 8 panel per thread. */
  const panelOf = (K: number): PanelArgument => ({ arg: 18, stride: K * 32 });
  const gemm: HeapKernels['gemm'] = (...args) => {
    const [a, b, c, bias, M, N, K, sab, sai, sak, sbk, sbj, sci, scj, panel] = args;
    const tilesM = M / 4;
    const tilesN = N / 8;
    const count = chunksFor(state.pool, M * N * K, GEMM_MIN_FLOPS_PER_THREAD, Math.max(tilesM, tilesN));
    if (count === 1) return local.gemm(...args);
    // Columns keep each panel of B on one thread; rows when there are too few columns.
    const chunks =
      tilesN >= Math.min(count, tilesM)
        ? ranges(tilesN, Math.min(count, tilesN), 1).map(([j0, cols]) => [
            ...[1, 0, 0, 0, a, b + 32 * j0 * sbj, c + 32 * j0 * scj, bias === 0 ? 0 : bias + 32 * j0],
            ...[M, 8 * cols, K, sab, sai, sak, sbk, sbj, sci, scj, panel],
          ])
        : ranges(tilesM, Math.min(count, tilesM), 1).map(([i0, rows]) => [
            ...[1, 0, 0, 0, a + 4 * i0 * sab, b, c + 16 * i0 * sci, bias],
            ...[4 * rows, N, K, sab, sai, sak, sbk, sbj, sci, scj, panel],
          ]);
    run('gemmBatch', local.gemmBatch, chunks, panelOf(K));
  };
  const elementwise = (op: PoolOp & keyof HeapKernels, n: number, chunk: (start: number, count: number) => number[]): void => {
    const count = chunksFor(state.pool, n, ELEMENTWISE_MIN_PER_THREAD, Math.ceil(n / ALIGN));
    const fn = local[op] as (...args: number[]) => void;
    run(
      op,
      fn,
      ranges(n, count, ALIGN).map(([start, k]) => chunk(start, k)),
    );
  };
  const unary =
    (op: 'sqrt' | 'erf' | 'tanh') =>
    (x: number, out: number, n: number): void =>
      elementwise(op, n, (s, k) => [x + 4 * s, out + 4 * s, k]);
  return {
    gemm,
    gemmBatch(count, strideA, strideB, strideC, a, b, c, bias, M, N, K, ...strides) {
      const chunks = chunksFor(state.pool, count * M * N * K, GEMM_MIN_FLOPS_PER_THREAD, count);
      if (chunks === 1 || count < state.pool!.threads) {
        // Too few entries to share out: each product split on its own (when large enough).
        for (let i = 0; i < count; i++) gemm(a + i * strideA, b + i * strideB, c + i * strideC, bias, M, N, K, ...strides);
        return;
      }
      run(
        'gemmBatch',
        local.gemmBatch,
        ranges(count, chunks, 1).map(([i0, k]) => [
          ...[k, strideA, strideB, strideC, a + i0 * strideA, b + i0 * strideB, c + i0 * strideC, bias],
          ...[M, N, K, ...strides],
        ]),
        panelOf(K),
      );
    },
    // By blocks of 4 rows (copies: the split changes no value), from a larger size than the
    // element-wise passes: a GPT step's A (768 x 128, 12 µs) packs faster than a pool round trip.
    packA(a, sai, sak, M, K, out) {
      const blocks = Math.ceil(M / 4);
      const count = chunksFor(state.pool, M * K, PACK_MIN_PER_THREAD, blocks);
      run(
        'packA',
        local.packA,
        ranges(blocks, count, 1).map(([b0, k]) => [a + 16 * b0 * sai, sai, sak, Math.min(4 * k, M - 4 * b0), K, out + 16 * b0 * K]),
      );
    },
    sqrt: unary('sqrt'),
    erf: unary('erf'),
    tanh: unary('tanh'),
    gelu: (x, out, tanhOut, n) => elementwise('gelu', n, (s, k) => [x + 4 * s, out + 4 * s, tanhOut + 4 * s, k]),
    geluGrad: (dy, x, tanh, out, n) => elementwise('geluGrad', n, (s, k) => [dy + 4 * s, x + 4 * s, tanh + 4 * s, out + 4 * s, k]),
    leakyRelu: (x, out, n, alpha) => elementwise('leakyRelu', n, (s, k) => [x + 4 * s, out + 4 * s, k, alpha]),
    greater: (a, b, out, n, bStep) => elementwise('greater', n, (s, k) => [a + 4 * s, b + 4 * s * bStep, out + s, k, bStep]),
    select: (condition, t, e, out, n) => elementwise('select', n, (s, k) => [condition + s, t + 4 * s, e + 4 * s, out + 4 * s, k]),
    // By ranges (a lower minimum than the other element-wise kernels: seven streams per element);
    // each chunk returns the finiteness sum of what it wrote (0 when all finite, else NaN), and
    // their sum is the whole update's.
    adam(w, m, v, g, ow, om, ov, n, ...scalars) {
      const count = chunksFor(state.pool, n, ADAM_MIN_PER_THREAD, Math.ceil(n / ALIGN));
      if (count === 1) return local.adam(w, m, v, g, ow, om, ov, n, ...scalars);
      const chunks = ranges(n, count, ALIGN).map(([s, k]) => [...[w, m, v, g, ow, om, ov].map((p) => p + 4 * s), k, ...scalars]);
      return run('adam', local.adam as (...args: number[]) => number, chunks).reduce((sum, check) => sum + check, 0);
    },
    // One pool job for all the variables (a job per variable costs a wake-up of the workers
    // each): every call cut into ranges of about total / chunks elements (small ones whole),
    // largest first so that the small ones even out the threads' shares at the end; more
    // ranges than the pool's table holds run as several jobs.
    adamMany(calls) {
      const total = calls.reduce((sum, args) => sum + args[7]!, 0);
      const count = chunksFor(state.pool, total, ADAM_MIN_PER_THREAD, Math.ceil(total / ALIGN));
      if (count === 1) return local.adamMany(calls);
      const target = total / count;
      const pieces = calls.flatMap((args, call) => {
        const n = args[7]!;
        return ranges(n, Math.max(1, Math.min(Math.round(n / target), Math.ceil(n / ALIGN))), ALIGN).map(([s, k]) => ({
          call,
          args: [...args.slice(0, 7).map((p) => p + 4 * s), k, ...args.slice(8)],
        }));
      });
      pieces.sort((x, y) => y.args[7]! - x.args[7]!);
      const checks = calls.map(() => 0);
      for (let first = 0; first < pieces.length; first += MAX_CHUNKS) {
        const job = pieces.slice(first, first + MAX_CHUNKS);
        const results = run(
          'adam',
          local.adam as (...args: number[]) => number,
          job.map((piece) => piece.args),
        );
        job.forEach((piece, i) => (checks[piece.call]! += results[i]!));
      }
      return checks;
    },
    scale: (x, out, n, factor) => {
      const count = chunksFor(state.pool, n, ADAM_MIN_PER_THREAD, Math.ceil(n / ALIGN));
      run(
        'scale',
        local.scale,
        ranges(n, count, ALIGN).map(([s, k]) => [x + 4 * s, out + 4 * s, k, factor]),
      );
    },
    // By rows (each row normalized on its own). The gradient is not split: it sums dγ, dβ over
    // the rows in row order, which a split would change.
    layerNorm(x, gamma, beta, y, xHat, r, rows, C, epsilon) {
      const count = chunksFor(state.pool, rows * C, ELEMENTWISE_MIN_PER_THREAD, rows);
      const at = (r0: number) => 4 * r0 * C;
      run(
        'layerNorm',
        local.layerNorm,
        ranges(rows, count, 1).map(([r0, k]) => [x + at(r0), gamma, beta, y + at(r0), xHat + at(r0), r + 4 * r0, k, C, epsilon]),
      );
    },
    layerNormGrad: local.layerNormGrad,
    sumSquares: local.sumSquares,
    // Not split: memory-bound passes over a few megabytes (a second thread gains little).
    sumRows: local.sumRows,
    siluGrad: local.siluGrad,
    copyStrided: local.copyStrided,
    gatherRuns: local.gatherRuns,
    scatterAddRuns: local.scatterAddRuns,
    // Copies (results independent of the split): by matrices of a batch, by blocks of 4 rows of
    // one matrix (columns of its transpose), or along the outermost axis copyRuns loops over.
    transpose(x, out, batch, R, C) {
      const size = 4 * R * C;
      const count = chunksFor(state.pool, batch * R * C, ELEMENTWISE_MIN_PER_THREAD, batch * Math.ceil(R / 4));
      if (count === 1) return local.transpose(x, out, batch, R, C);
      if (batch >= count) {
        const chunks = ranges(batch, count, 1).map(([m0, k]) => [x + m0 * size, out + m0 * size, k, R, C]);
        return run('transpose', local.transpose, chunks);
      }
      // Fewer matrices than chunks: each matrix by blocks of rows (where it is large enough).
      for (let m = 0; m < batch; m++) {
        const parts = chunksFor(state.pool, R * C, ELEMENTWISE_MIN_PER_THREAD, Math.ceil(R / 4));
        const chunks = ranges(R, parts, 4).map(([r0, rows]) => [x + m * size + 4 * r0 * C, out + m * size + 4 * r0, rows, C, C, R]);
        run('transposeStrided', local.transposeStrided, chunks);
      }
    },
    transposeStrided: local.transposeStrided,
    copyRuns(x, out, runLength, n0, n1, n2, n3, s0, s1, s2, s3) {
      const extents = [n0, n1, n2, n3];
      const strides = [s0, s1, s2, s3];
      const total = n0 * n1 * n2 * n3;
      const count = total <= 1 ? 1 : chunksFor(state.pool, total * runLength, ELEMENTWISE_MIN_PER_THREAD, total);
      if (count === 1) return local.copyRuns(x, out, runLength, n0, n1, n2, n3, s0, s1, s2, s3);
      const chunks = copyRunsChunks(extents, strides, runLength, count).map(([from, to, ...n]) => [
        ...[x + 4 * from!, out + 4 * to!, runLength],
        ...n,
        ...strides,
      ]);
      run('copyRuns', local.copyRuns, chunks);
    },
    // By examples (each example's result is computed alone: the split changes no sum).
    groupNorm(x, gamma, beta, y, xHat, r, scratch, batch, P, G, S, epsilon) {
      const C = G * S;
      const count = chunksFor(state.pool, batch * P * C, ELEMENTWISE_MIN_PER_THREAD, batch);
      const at = (n0: number) => 4 * n0 * P * C;
      run(
        'groupNorm',
        local.groupNorm as (...args: number[]) => void,
        ranges(batch, count, 1).map(([n0, k]) => [
          x + at(n0),
          gamma,
          beta,
          y + at(n0),
          xHat + at(n0),
          r + 4 * n0 * G,
          scratch,
          k,
          P,
          G,
          S,
          epsilon,
        ]),
        { arg: 6, stride: 12 * C },
      );
    },
    groupNormGrad(dy, xHat, r, gamma, dx, partial, scratch, batch, P, G, S) {
      const C = G * S;
      const count = chunksFor(state.pool, batch * P * C, ELEMENTWISE_MIN_PER_THREAD, batch);
      const at = (n0: number) => 4 * n0 * P * C;
      run(
        'groupNormGrad',
        local.groupNormGrad as (...args: number[]) => void,
        ranges(batch, count, 1).map(([n0, k]) => [
          dy + at(n0),
          xHat + at(n0),
          r + 4 * n0 * G,
          gamma,
          dx + at(n0),
          partial + 8 * n0 * C,
          scratch,
          k,
          P,
          G,
          S,
        ]),
        { arg: 6, stride: 12 * C },
      );
    },
    // By (batch, head) pairs: each pair is computed by one thread, in the same order whichever.
    causalAttention(qkv, out, probs, scratch, first, count, T, H, D, scale) {
      const chunks = chunksFor(state.pool, count * T * T * D, GEMM_MIN_FLOPS_PER_THREAD, count);
      run(
        'causalAttention',
        local.causalAttention,
        ranges(count, chunks, 1).map(([p0, k]) => [qkv, out, probs, scratch, first + p0, k, T, H, D, scale]),
        { arg: 3, stride: 4 * attentionScratch(T, D).forward },
      );
    },
    causalAttentionGrad(qkv, out, probs, dy, dqkv, scratch, first, count, T, H, D, scale) {
      const chunks = chunksFor(state.pool, 2 * count * T * T * D, GEMM_MIN_FLOPS_PER_THREAD, count);
      run(
        'causalAttentionGrad',
        local.causalAttentionGrad,
        ranges(count, chunks, 1).map(([p0, k]) => [qkv, out, probs, dy, dqkv, scratch, first + p0, k, T, H, D, scale]),
        { arg: 5, stride: 4 * attentionScratch(T, D).backward },
      );
    },
    binary(op, M, N, a, sa, ta, b, sb, tb, out) {
      const count = chunksFor(state.pool, M * N, ELEMENTWISE_MIN_PER_THREAD, M === 1 ? Math.ceil(N / ALIGN) : M);
      if (count > 1 && M > 1) {
        // By rows.
        const chunks = ranges(M, count, 1).map(([i0, rows]) => [
          op,
          rows,
          N,
          a + 4 * i0 * sa,
          sa,
          ta,
          b + 4 * i0 * sb,
          sb,
          tb,
          out + 4 * i0 * N,
        ]);
        return run('binary', local.binary, chunks);
      }
      if (count > 1) {
        // One row: by columns.
        const chunks = ranges(N, count, ALIGN).map(([j0, cols]) => [
          op,
          1,
          cols,
          a + 4 * j0 * ta,
          sa,
          ta,
          b + 4 * j0 * tb,
          sb,
          tb,
          out + 4 * j0,
        ]);
        return run('binary', local.binary, chunks);
      }
      local.binary(op, M, N, a, sa, ta, b, sb, tb, out);
    },
  };
}

/**
 * Which assembly of the heap kernels runs on `backend`: `'relaxed'` (gemm with relaxed-SIMD
 * fused multiply-adds, where the engine supports relaxed SIMD), `'plain'`, `'sharedRelaxed'` or
 * `'shared'` (the same two on the threaded build's heap), or `null` where they cannot run.
 */
export function heapKernelsVariant(backend: WasmBackend): Variant | null {
  const memory = memoryOf(backend);
  if (memory == null || heapKernels(backend) == null) return null;
  return variants.get(memory) ?? null;
}

/**
 * Turns the heap kernels off (`false`) or back on: with them off, every kernel takes its
 * XNNPACK path. For tests and A/B benchmarks; returns the previous setting.
 */
export function setHeapKernelsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** Byte offset of `t`'s data on the wasm heap. */
export function heapPointer(backend: WasmBackend, t: Parameters<WasmBackend['typedArrayFromHeap']>[0]): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/**
 * A float32 element-wise kernel computed by one heap kernel `run(kernels, x, out, n)` (pointers
 * on the heap), falling back to the stock kernel `original` for other dtypes or without the heap
 * kernels.
 */
export function makeUnaryHeapKernel(
  original: WasmKernelFunc,
  run: (kernels: HeapKernels, x: number, out: number, n: number) => void,
): WasmKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const x = inputs.x!;
    const kernels = heapKernels(backend);
    if (x.dtype !== 'float32' || kernels == null) return original(args);
    const out = backend.makeOutput(x.shape, 'float32');
    disposeOnThrow(backend, [out], () => run(kernels, heapPointer(backend, x), heapPointer(backend, out), sizeOf(x.shape)));
    return out;
  };
}

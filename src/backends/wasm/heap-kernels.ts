/**
 * genblocks' own SIMD kernels (`heap-kernels.wat`), instantiated on the tfjs wasm backend's
 * linear memory so that they read and write tensors where they lie on its heap.
 *
 * XNNPACK's fully-connected operator (what the stock wasm `BatchMatMul` calls) copies its right
 * operand into a packed layout before every product with a tensor it has not seen: about 6 ns
 * per element here, so re-packing a 784x1024 weight matrix after each optimizer step costs more
 * than the product itself, and every backward product packs a fresh activation. The `gemm`
 * here reads both operands in place (4x8 register tiles, `v128.load32_splat` of A, rows of B),
 * at the speed of XNNPACK's kernel on a packed operand. `sqrt`, `leakyRelu`, `greater`,
 * `select` and `tanh` are single SIMD passes where the stock kernels are scalar loops; `adam` is a whole
 * Adam update in one pass (see `train.fusedAdam`).
 *
 * The module is about 4 KiB, which browsers compile synchronously even on the main thread.
 * Where the engine supports relaxed SIMD (Chromium; Node 20 only behind
 * `--experimental-wasm-relaxed-simd`), an assembly whose gemm uses `f32x4.relaxed_madd` (fused
 * multiply-adds) runs instead.
 * On the threaded build's shared heap a second assembly of the same source, importing a shared
 * memory, runs; the kernels run on the calling (main) thread while XNNPACK's pool is idle, so
 * they use one core. Unavailable (the callers keep the stock paths) when the backend's memory
 * cannot be reached (the threaded build started by tfjs itself, in a browser) or the engine
 * lacks wasm SIMD.
 *
 * @module
 */
import { HEAP_KERNELS_RELAXED_WASM_BASE64, HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './heap-kernels-binary.js';
import { sizeOf, type WasmBackend, type WasmKernelFunc } from './types.js';

/** The exports of `heap-kernels.wat`. Pointers are byte offsets on the heap, strides in elements. */
export interface HeapKernels {
  /**
   * `C(i, j) = bias[j] + Σ_k A(i, k)·B(k, j)` for `M % 4 == 0`, `N % 8 == 0`, with
   * `A(i, k) = a[i·sai + k·sak]`, `B(k, j) = b[k·ldb + j]`, `C(i, j) = c[i·sci + j·scj]`;
   * `bias` is 0 for none; `panel`, 0 or scratch space for `K·8` floats, where each `K x 8` panel
   * of B is copied contiguously before the row blocks of A pass it (worth it from 8 rows on).
   */
  gemm(
    a: number,
    b: number,
    c: number,
    bias: number,
    M: number,
    N: number,
    K: number,
    sai: number,
    sak: number,
    ldb: number,
    sci: number,
    scj: number,
    panel: number,
  ): void;
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
  /**
   * `out(i, j) = A(i, j) op B(i, j)` over a contiguous `M x N` output, `A(i, j) = a[i·sa + j·ta]`,
   * `B(i, j) = b[i·sb + j·tb]` (`ta`, `tb` 0 or 1); `op` 0 add, 1 sub, 2 mul, 3 div, 4 squared
   * difference, 5 max, 6 min, 7 copy of A.
   */
  binary(op: number, M: number, N: number, a: number, sa: number, ta: number, b: number, sb: number, tb: number, out: number): void;
  /**
   * One Adam step over `n` parameters `w` (moments `m`, `v`, gradient `g`) into fresh outputs
   * `ow`, `om`, `ov`, in `tf.train.adam`'s order of float32 operations; `c1 = 1 − β1ᵗ`,
   * `c2 = 1 − β2ᵗ`. Returns `Σ (x − x)` over the new values and second moments: 0 when every
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
  ): number;
}

/** The assemblies of `heap-kernels.wat`: for a plain memory, with relaxed-SIMD gemm, for a shared memory. */
type Variant = 'plain' | 'relaxed' | 'shared';
const BINARIES: Record<Variant, string> = {
  plain: HEAP_KERNELS_WASM_BASE64,
  relaxed: HEAP_KERNELS_RELAXED_WASM_BASE64,
  shared: HEAP_KERNELS_SHARED_WASM_BASE64,
};
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
      const bytes = decode(BINARIES[kind]);
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

/** genblocks' heap kernels on `backend`'s memory, or `null` where they cannot run. */
export function heapKernels(backend: WasmBackend): HeapKernels | null {
  if (!enabled) return null;
  const memory = memoryOf(backend);
  if (memory == null) return null;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    // The relaxed-SIMD gemm (fused multiply-adds) where the engine validates it, else plain SIMD.
    const candidates: Variant[] = isShared(memory) ? ['shared'] : ['relaxed', 'plain'];
    kernels = null;
    for (const variant of candidates) {
      const module = compile(variant);
      if (module == null) continue;
      try {
        kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeapKernels;
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

/**
 * Which assembly of the heap kernels runs on `backend`: `'relaxed'` (gemm with relaxed-SIMD
 * fused multiply-adds, where the engine supports relaxed SIMD), `'plain'`, `'shared'` (the
 * threaded build's heap), or `null` where they cannot run.
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
    run(kernels, heapPointer(backend, x), heapPointer(backend, out), sizeOf(x.shape));
    return out;
  };
}

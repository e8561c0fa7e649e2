/**
 * `Transpose` for wasm when the innermost axis stays innermost (attention's head split and
 * merge, `[B, T, 3, H, D] → [3, B, H, T, D]` and `[B, H, T, D] → [B, T, H, D]`), as runs of
 * that axis copied on the heap. The stock kernel moves such tensors element by element through
 * its general index loop (about 150 ns per element measured, 60% of a causal self-attention
 * forward+backward). Axes of extent 1 are dropped and input axes that stay adjacent are merged
 * first, so the copy loop sees the fewest axes:
 *
 *     out[i_{p(0)}, …, i_{p(r−1)}] = x[i₀, …, i_{r−1}],   runs of x's last axis when p(r−1) = r−1
 *
 * Matrix transposes and batches of them (`[R, C] → [C, R]` and `[B, R, C] → [B, C, R]` after
 * merging: the `kᵀ` of batched products, the copies of `A` and `B` that transposed products
 * make) are copied in blocks. With 4-byte elements (float32, int32) both forms run as
 * genblocks' heap kernels (`copyRuns`, up to four outer axes, and `transpose`, 4 x 4 SIMD
 * blocks); the JavaScript loops below (8 x 8 blocks, a `subarray` per long run) remain for bool
 * tensors and where the heap kernels cannot run. Measured per element at a GPT step's shapes
 * (one thread): a 2-D `[768, 384]` transpose 1.6 ns on the stock kernel, 0.6 ns here; the head
 * split `[12, 64, 3, 4, 32]` 1.9 ns in the JavaScript loop, 0.24 ns here; `kᵀ` `[48, 64, 32]`
 * 5.1 ns in the JavaScript blocks, 0.34 ns here. Other transposes that move the innermost axis
 * and string tensors go to the stock kernel.
 *
 * @module
 */
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, sizeOf, type WasmKernelFunc } from './types.js';

/** Outer axes (all but the run's) that the heap kernel `copyRuns` loops over. */
const COPY_RUNS_AXES = 4;

/** Runs shorter than this are copied element by element (a subarray per run costs more). */
const SHORT_RUN = 16;

/**
 * `shape` and `perm` with extent-1 axes dropped and adjacent axes that stay adjacent merged:
 * the same data movement on the fewest axes.
 */
export function simplifyTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  // Groups of input axes that appear consecutively, in order, in the output.
  const groups: number[][] = [];
  for (const a of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] === a - 1 && kept.indexOf(a - 1) === kept.indexOf(a) - 1) last.push(a);
    else groups.push([a]);
  }
  // Number the groups by their position in the input.
  const byInput = [...groups].sort((g, h) => g[0]! - h[0]!);
  return {
    shape: byInput.map((g) => g.reduce((p, a) => p * shape[a]!, 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** Wraps the stock wasm `Transpose` (input `x`, attr `perm`). */
export function makeTranspose(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const perm = attr<number[]>(attrs, 'perm');
    if (x.dtype === 'string') return stock(args);
    const { shape, perm: p } = simplifyTranspose(x.shape, perm);
    const rank = shape.length;
    const swapsLastTwo = rank === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1;
    const swapsTwo = rank === 2 && p[0] === 1;
    const kernels = x.dtype === 'float32' || x.dtype === 'int32' ? heapKernels(backend) : null;
    const keepsRuns = rank >= 2 && p[rank - 1] === rank - 1;
    if (rank >= 2 && !keepsRuns && !swapsLastTwo && !(swapsTwo && kernels != null)) return stock(args);
    const out = backend.makeOutput(
      perm.map((a) => x.shape[a]!),
      x.dtype,
    );
    const n = sizeOf(x.shape);
    if (n === 0) return out;
    if (kernels != null && (swapsTwo || swapsLastTwo)) {
      const [batch, R, C] = (swapsTwo ? [1, ...shape] : shape) as [number, number, number];
      // `out` freed if the kernel throws (a worker failing), as below.
      disposeOnThrow(backend, [out], () => kernels.transpose(heapPointer(backend, x), heapPointer(backend, out), batch, R, C));
      return out;
    }
    if (kernels != null && keepsRuns && rank - 1 <= COPY_RUNS_AXES) {
      // Output axis j walks input axis p[j]; unused outer axes have extent 1.
      const inStrides = new Array<number>(rank);
      inStrides[rank - 1] = 1;
      for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1]! * shape[d + 1]!;
      const pad = COPY_RUNS_AXES - (rank - 1);
      const extents = [...new Array<number>(pad).fill(1), ...p.slice(0, -1).map((a) => shape[a]!)];
      const strides = [...new Array<number>(pad).fill(0), ...p.slice(0, -1).map((a) => inStrides[a]!)];
      disposeOnThrow(backend, [out], () =>
        kernels.copyRuns(
          heapPointer(backend, x),
          heapPointer(backend, out),
          shape[rank - 1]!,
          extents[0]!,
          extents[1]!,
          extents[2]!,
          extents[3]!,
          strides[0]!,
          strides[1]!,
          strides[2]!,
          strides[3]!,
        ),
      );
      return out;
    }
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    if (rank < 2) {
      ov.set(xv.subarray(0, n));
      return out;
    }
    if (swapsLastTwo) {
      // A batch of matrix transposes ([B, R, C] → [B, C, R]), 8 x 8 blocks at a time.
      const [batch, R, C] = shape as [number, number, number];
      for (let m = 0; m < batch; m++) {
        const base = m * R * C;
        for (let r0 = 0; r0 < R; r0 += 8) {
          const r1 = Math.min(R, r0 + 8);
          for (let c0 = 0; c0 < C; c0 += 8) {
            const c1 = Math.min(C, c0 + 8);
            for (let c = c0; c < c1; c++) {
              for (let r = r0; r < r1; r++) ov[base + c * R + r] = xv[base + r * C + c]!;
            }
          }
        }
      }
      return out;
    }
    const run = shape[rank - 1]!;
    const inStrides = new Array<number>(rank);
    inStrides[rank - 1] = 1;
    for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1]! * shape[d + 1]!;
    // Odometer over the output's outer axes; output axis j walks input axis p[j].
    const outShape = p.map((a) => shape[a]!);
    const steps = p.map((a) => inStrides[a]!);
    const index = new Array<number>(rank - 1).fill(0);
    let src = 0;
    for (let o = 0; o < n; o += run) {
      if (run < SHORT_RUN) for (let k = 0; k < run; k++) ov[o + k] = xv[src + k]!;
      else ov.set(xv.subarray(src, src + run), o);
      let d = rank - 2;
      while (d >= 0) {
        src += steps[d]!;
        if (++index[d]! < outShape[d]!) break;
        src -= steps[d]! * outShape[d]!;
        index[d--] = 0;
      }
    }
    return out;
  };
}

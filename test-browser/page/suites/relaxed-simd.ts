/**
 * Relaxed SIMD: genblocks' heap `gemm` assembled with `f32x4.relaxed_madd` (fused multiply-adds)
 * against the plain-SIMD assembly, both instantiated here on a private memory, interleaved.
 * Where the engine validates the relaxed module (Chromium does), the check reports both rates
 * and the gain; results are asserted against a float64 product, times are only reported.
 */
import { HEAP_KERNELS_RELAXED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from '../../../src/backends/wasm/heap-kernels-binary.js';
import { assert, check } from '../harness.js';

type Gemm = (...args: number[]) => void;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The module's `gemm` on `memory`, trying memories of growing size until the import fits. */
function instantiate(bytes: Uint8Array<ArrayBuffer>): { gemm: Gemm; memory: WebAssembly.Memory } {
  const module = new WebAssembly.Module(bytes);
  let last: unknown;
  for (const pages of [256, 1024, 4096, 16384]) {
    try {
      const memory = new WebAssembly.Memory({ initial: pages });
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      return { gemm: instance.exports['gemm'] as Gemm, memory };
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

export async function relaxedSimdChecks(): Promise<void> {
  await check('heap gemm: relaxed-SIMD fused multiply-adds against plain SIMD (256x256x256)', () => {
    const relaxedBytes = decode(HEAP_KERNELS_RELAXED_WASM_BASE64);
    if (!WebAssembly.validate(relaxedBytes)) return { relaxedSimd: 'not supported by this engine' };
    const n = 256;
    const floats = n * n;
    const [a, b, c, panel] = [1024, 1024 + 4 * floats, 1024 + 8 * floats, 1024 + 12 * floats];
    const variants = { plain: instantiate(decode(HEAP_KERNELS_WASM_BASE64)), relaxed: instantiate(relaxedBytes) };
    let seed = 7;
    const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const A = Float64Array.from({ length: floats }, random);
    const B = Float64Array.from({ length: floats }, random);
    const times: Record<'plain' | 'relaxed', number[]> = { plain: [], relaxed: [] };
    for (const { memory } of Object.values(variants)) {
      new Float32Array(memory.buffer, a, floats).set(A);
      new Float32Array(memory.buffer, b, floats).set(B);
    }
    for (let round = 0; round < 23; round++) {
      for (const name of ['plain', 'relaxed'] as const) {
        const start = performance.now();
        // Row-major A and B: sab = 4·sai, sai = n, sak = 1; sbk = n, sbj = 1; C rows of n.
        variants[name].gemm(a, b, c, 0, n, n, n, 4 * n, n, 1, n, 1, n, 1, panel);
        if (round >= 3) times[name].push(performance.now() - start);
      }
    }
    // Both products against float64 on a corner of C (inputs rounded to float32 first).
    const A32 = Float32Array.from(A);
    const B32 = Float32Array.from(B);
    for (const [name, { memory }] of Object.entries(variants)) {
      const C = new Float32Array(memory.buffer, c, floats);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 8; j++) {
          let expected = 0;
          for (let k = 0; k < n; k++) expected += A32[i * n + k]! * B32[k * n + j]!;
          assert(
            Math.abs(C[i * n + j]! - expected) <= 1e-4 * Math.max(1, Math.abs(expected)),
            `${name} C[${i}][${j}] = ${C[i * n + j]}, float64 ${expected}`,
          );
        }
      }
    }
    const median = (xs: number[]) => xs.sort((p, q) => p - q)[xs.length >> 1]!;
    const gflops = (ms: number) => Number(((2 * n * n * n) / ms / 1e6).toFixed(1));
    const plainMs = median(times.plain);
    const relaxedMs = median(times.relaxed);
    return { plainGflops: gflops(plainMs), relaxedGflops: gflops(relaxedMs), gain: Number((plainMs / relaxedMs).toFixed(2)) };
  });
}

/**
 * A/B of the heap `gemm` at a GPT training step's products: the kernels of another revision
 * (default `main`: its `heap-kernels-binary.ts`, read with `git show`) called as its
 * `batch-mat-mul.ts` called them (a Transpose pass for `transposeA` and for a batched
 * `transposeB`, zero-padded copies off the 4x8 tiles), against this checkout's (A packed by
 * `packA`, transposed operands read where they lie). Both plain-SIMD assemblies run on one
 * thread, each on a memory of its own, interleaved rep by rep in one process; the times are the
 * calling process's CPU time (`process.cpuUsage`, one thread busy), medians over the reps. Each
 * product is checked bit for bit against the other revision's. The step total weighs each shape
 * by its calls per step (`scripts/profile-gpt-kernels.ts 1 10 --shapes`, nanoGPT's CPU
 * configuration: 4 layers, width 128, block 64, batch 12).
 *
 *   node --import ./bench/loader/register.mjs scripts/ab-gemm.ts [reps = 21] [--old REV] [--misalign]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const oldRev = argv.includes('--old') ? argv[argv.indexOf('--old') + 1]! : 'main';
const reps = Number(argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--old') ?? 21);
/** `--misalign`: the gemm's panel 8 bytes off a 16-byte boundary (as tfjs-backend-wasm's malloc may place it). */
const PANEL_OFFSET = argv.includes('--misalign') ? 8 : 0;

/** The plain assembly's base64 from the text of a `heap-kernels-binary.ts`. */
function plainBinary(source: string): Uint8Array<ArrayBuffer> {
  const match = /HEAP_KERNELS_WASM_BASE64 =\n([^;]*);/.exec(source);
  if (match == null) throw new Error('ab-gemm: no HEAP_KERNELS_WASM_BASE64 in heap-kernels-binary.ts');
  return new Uint8Array(Buffer.from([...match[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]).join(''), 'base64'));
}
const BINARY = 'src/backends/wasm/heap-kernels-binary.ts';
const oldBytes = plainBinary(execFileSync('git', ['show', `${oldRev}:${BINARY}`], { encoding: 'utf8', maxBuffer: 1 << 26 }));
const newBytes = plainBinary(readFileSync(new URL(`../${BINARY}`, import.meta.url), 'utf8'));

type Kernels = Record<string, (...args: number[]) => void>;
interface Heap {
  kernels: Kernels;
  f32: Float32Array;
  alloc: (floats: number) => number;
  reset: () => void;
}
function heap(bytes: Uint8Array<ArrayBuffer>): Heap {
  const memory = new WebAssembly.Memory({ initial: 2048 });
  const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Kernels;
  let top = 1024;
  return {
    kernels,
    f32: new Float32Array(memory.buffer),
    alloc: (floats) => {
      const p = top;
      top += Math.ceil((4 * floats) / 64) * 64 + 64;
      return p;
    },
    reset: () => void (top = 1024),
  };
}
const oldHeap = heap(oldBytes);
const newHeap = heap(newBytes);

/** A GPT step's product: `batch` x op(A) [M, K] · op(B) [K, N], and its calls per step. */
interface Case {
  M: number;
  K: number;
  N: number;
  batch: number;
  ta: boolean;
  tb: boolean;
  calls: number;
}
const c = (M: number, K: number, N: number, calls: number, form = 'NN', batch = 1): Case => ({
  M,
  K,
  N,
  batch,
  ta: form[0] === 'T',
  tb: form[1] === 'T',
  calls,
});
const CASES: Case[] = [
  c(768, 128, 512, 8),
  c(768, 512, 128, 8),
  c(768, 128, 384, 4),
  c(768, 384, 128, 4),
  c(768, 128, 128, 8),
  c(128, 768, 512, 4, 'TN'),
  c(512, 768, 128, 4, 'TN'),
  c(128, 768, 384, 4, 'TN'),
  c(128, 768, 128, 4, 'TN'),
  c(64, 64, 32, 8, 'NN', 48),
  c(64, 64, 32, 8, 'TN', 48),
  c(64, 32, 64, 8, 'NT', 48),
  c(4, 768, 128, 8),
  c(4, 768, 384, 4),
  c(4, 768, 512, 4),
  c(768, 128, 98, 1),
  c(98, 768, 128, 1, 'TN'),
  c(768, 98, 128, 1),
];

let seed = 7;
const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

/**
 * The old revision's products as its batch-mat-mul.ts made them: `gemm(a, b, c, bias, M, N, K,
 * sai, sak, ldb, sci, scj, panel)` on rows of B, a Transpose pass for a transposed A (2-D) or a
 * transposed B (batched), zero-padded copies of A's rows and B's columns off the tiles.
 */
function oldProduct(h: Heap, t: Case, a: number, b: number, out: number): () => void {
  const { M, K, N, batch, ta, tb } = t;
  const k = h.kernels;
  const padM = Math.ceil(M / 4) * 4;
  const padN = Math.ceil(N / 8) * 8;
  const left = h.alloc(batch * padM * K);
  const right = h.alloc(batch * K * padN);
  const result = h.alloc(padM * padN);
  const panel = h.alloc(K * 8 + 4) + PANEL_OFFSET;
  const f = h.f32;
  return () => {
    if (batch > 1) {
      // Batched: A in place (transposed or not), a transposed B through one batched transpose.
      if (tb) k.transpose!(b, right, batch, N, K);
      for (let i = 0; i < batch; i++) {
        const [sai, sak] = ta ? [1, M] : [K, 1];
        k.gemm!(a + 4 * i * M * K, (tb ? right : b) + 4 * i * K * N, out + 4 * i * M * N, 0, M, N, K, sai, sak, N, N, 1, panel);
      }
      return;
    }
    let pa = a;
    if (ta) {
      k.transpose!(a, left, 1, K, M);
      pa = left;
    }
    if (padM !== M) {
      if (pa !== left) f.copyWithin(left / 4, pa / 4, pa / 4 + M * K);
      f.fill(0, left / 4 + M * K, left / 4 + padM * K);
      pa = left;
    }
    let pb = b;
    if (padN !== N) {
      for (let r = 0; r < K; r++) {
        f.copyWithin(right / 4 + r * padN, b / 4 + r * N, b / 4 + r * N + N);
        f.fill(0, right / 4 + r * padN + N, right / 4 + (r + 1) * padN);
      }
      pb = right;
    }
    const padded = padM !== M || padN !== N;
    k.gemm!(pa, pb, padded ? result : out, 0, padM, padN, K, K, 1, padN, padN, 1, padM >= 8 ? panel : 0);
    if (padded) for (let i = 0; i < M; i++) f.copyWithin(out / 4 + i * N, result / 4 + i * padN, result / 4 + i * padN + N);
  };
}

/** This checkout's products as its batch-mat-mul.ts makes them. */
function newProduct(h: Heap, t: Case, a: number, b: number, out: number): () => void {
  const { M, K, N, batch, ta, tb } = t;
  const k = h.kernels;
  const padM = Math.ceil(M / 4) * 4;
  const padN = Math.ceil(N / 8) * 8;
  const [sai, sak] = ta ? [1, M] : [K, 1];
  const [sbk, sbj] = tb ? [1, K] : [N, 1];
  const packed = h.alloc(padM * K);
  const right = h.alloc(K * padN);
  const result = h.alloc(padM * padN);
  const panel = h.alloc(K * 8 + 4) + PANEL_OFFSET;
  const f = h.f32;
  return () => {
    if (batch > 1) {
      for (let i = 0; i < batch; i++)
        k.gemm!(a + 4 * i * M * K, b + 4 * i * K * N, out + 4 * i * M * N, 0, M, N, K, 4 * sai, sai, sak, sbk, sbj, N, 1, panel);
      return;
    }
    const pack = padM !== M || padM >= 8;
    if (pack) k.packA!(a, sai, sak, M, K, packed);
    let [pb, sbk2, sbj2] = [b, sbk, sbj];
    if (padN !== N) {
      for (let r = 0; r < K; r++) {
        f.copyWithin(right / 4 + r * padN, b / 4 + r * N, b / 4 + r * N + N);
        f.fill(0, right / 4 + r * padN + N, right / 4 + (r + 1) * padN);
      }
      [pb, sbk2, sbj2] = [right, padN, 1];
    }
    const [pa, sab, sai2, sak2] = pack ? [packed, 4 * K, 1, 4] : [a, 4 * sai, sai, sak];
    const padded = padM !== M || padN !== N;
    k.gemm!(pa, pb, padded ? result : out, 0, padM, padN, K, sab, sai2, sak2, sbk2, sbj2, padN, 1, padM >= 8 || sbj2 !== 1 ? panel : 0);
    if (padded) for (let i = 0; i < M; i++) f.copyWithin(out / 4 + i * N, result / 4 + i * padN, result / 4 + i * padN + N);
  };
}

console.log(`heap gemm A/B: ${oldRev} against this checkout, one thread, ${reps} interleaved reps, median process CPU time`);
let oldStep = 0;
let newStep = 0;
let allSame = true;
for (const t of CASES) {
  const { M, K, N, batch } = t;
  const sizes = [batch * M * K, batch * K * N];
  // The same operands on both heaps.
  const data = sizes.map((n) => Float32Array.from({ length: n }, random));
  const run = (h: Heap, make: typeof oldProduct) => {
    h.reset();
    const [a, b] = sizes.map((n, i) => {
      const p = h.alloc(n);
      h.f32.set(data[i]!, p / 4);
      return p;
    }) as [number, number];
    const out = h.alloc(batch * M * N);
    return { fn: make(h, t, a, b, out), out };
  };
  const o = run(oldHeap, oldProduct);
  const n = run(newHeap, newProduct);
  for (let w = 0; w < 5; w++) {
    o.fn();
    n.fn();
  }
  const same = oldHeap.f32.subarray(o.out / 4, o.out / 4 + batch * M * N).every((v, i) => Object.is(v, newHeap.f32[n.out / 4 + i]));
  allSame &&= same;
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < reps; r++) {
    for (const [i, fn] of [o.fn, n.fn].entries()) {
      const t0 = cpuNs();
      fn();
      times[i]!.push(cpuNs() - t0);
    }
  }
  const [to, tn] = times.map(median) as [number, number];
  oldStep += t.calls * to;
  newStep += t.calls * tn;
  const flops = 2 * batch * M * N * K;
  const form = `${t.ta ? 'T' : 'N'}${t.tb ? 'T' : 'N'}`;
  console.log(
    `${batch > 1 ? `${batch}x ` : ''}${M}x${K}x${N} ${form} (${t.calls}/step): ` +
      `old ${(to / 1e6).toFixed(3)} ms ${(flops / to).toFixed(1)} GFLOP/s, new ${(tn / 1e6).toFixed(3)} ms ${(flops / tn).toFixed(1)} GFLOP/s, ` +
      `${(to / tn).toFixed(2)}x${same ? '' : '  RESULTS DIFFER'}`,
  );
}
console.log(
  `products of one GPT step (weighted by calls): old ${(oldStep / 1e6).toFixed(2)} ms, new ${(newStep / 1e6).toFixed(2)} ms, ` +
    `${(oldStep / newStep).toFixed(2)}x; results ${allSame ? 'bit-identical' : 'DIFFER'}`,
);

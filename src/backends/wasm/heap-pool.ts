/**
 * Worker threads for genblocks' heap kernels on the threaded wasm build's shared heap (Node).
 *
 * The heap kernels are a wasm module of their own, so they cannot use the tfjs module's XNNPACK
 * thread pool (its `pthreadpool` functions are not exported). This pool is a second, small one:
 * `threads − 1` `worker_threads` workers, each instantiating the same compiled module against
 * the same shared `WebAssembly.Memory`. A call is cut into chunks by the caller
 * (`heap-kernels.ts`: blocks of output columns or rows of a gemm, ranges of an element-wise
 * pass), a few per thread; the calling thread writes them into a table after a small control
 * block (a `SharedArrayBuffer` apart from the heap), bumps a sequence number, wakes the workers
 * with `Atomics.notify`, runs the first chunk, and then every thread claims the next chunk with
 * `Atomics.add` until none is left, so a worker that wakes late or shares its core runs fewer.
 * The calling thread then waits with `Atomics.wait` (Node's main thread may block) until every
 * chunk is done; it never waits for a worker that has nothing left to claim. Waking a thread
 * whose core has gone idle (a halted virtual CPU) may take as long as a GPT step's smaller jobs,
 * so the calling thread first spins for as long as its own longest chunk took (a worker's last
 * chunk usually ends within that; {@link HeapPoolOptions.callerSpinMs}), and the workers can
 * spin for the next job ({@link HeapPoolOptions.spinMs}, off by default: on a machine busy with
 * other processes that takes cores they need, measured a GPT step 1.3x slower with 1 ms). Which thread runs a chunk never changes its result. XNNPACK's operators and these
 * kernels never overlap in time: both run synchronously on the calling thread's behalf.
 *
 * Failures surface instead of hanging: a chunk that throws in a worker (a wasm trap) is reported
 * through a `MessagePort` read synchronously (`receiveMessageOnPort`) and rethrown as a
 * {@link BackendError}; a worker that does not finish within the time limit (or exits) makes the
 * call throw, and the pool is shut down, so later calls run on the calling thread alone. Workers
 * are `unref()`ed (a script that ends exits) and terminated by {@link HeapPool.terminate}.
 *
 * @module
 */
import { BackendError } from '../../errors.js';

/** Control block, as Int32 indices. */
const SEQ = 0; // bumped by the calling thread for every job
const DONE = 1; // chunks of the current job finished
const FAILED = 2; // 0, or 1 + the index of the first worker whose chunk threw
const QUIT = 3; // 1: workers leave their loop
const OP = 4; // the job: index into POOL_OPS,
const ARGC = 5; // its argument count,
const PANEL_ARG = 6; // the argument that is a scratch pointer (−1: none),
const PANEL_STRIDE = 7; // and the bytes between one thread's scratch and the next
/**
 * The claim word: `job << 14 | count << 7 | next`, the job's sequence number (16 bits), its
 * number of chunks and the next chunk to claim. Claims are compare-and-swaps on the whole word,
 * so a worker that wakes after its job has ended (and the next may be being written) cannot
 * claim anything: only a claimed, unfinished chunk keeps a job, and its arguments, current.
 */
const CLAIM = 8;
/** Microseconds the workers spin for the next job before they block (see {@link HeapPoolOptions.spinMs}). */
const SPIN_US = 9;
const CONTROL_BYTES = 64;
/** The chunk table after the control block: `MAX_CHUNKS` rows of `CHUNK_WORDS` float64 arguments. */
export const MAX_CHUNKS = 64;
/** Arguments per chunk the table holds: the most any pool operation takes (`adam`: 18). */
export const CHUNK_WORDS = 19;
/** After the table: each chunk's return value (float64; 0 for kernels that return nothing). */
const RESULTS_BYTES = MAX_CHUNKS * 8;
const TABLE_BYTES = MAX_CHUNKS * CHUNK_WORDS * 8;

/**
 * Operations a worker runs, by index. `gemmBatch(count, strideA, strideB, strideC, ...gemm)`
 * runs `count` gemms whose `a`, `b`, `c` pointers advance by the strides (bytes); the others
 * are the module's exports.
 */
export const POOL_OPS = [
  'gemmBatch',
  'sqrt',
  'leakyRelu',
  'greater',
  'select',
  'erf',
  'tanh',
  'binary',
  'gelu',
  'geluGrad',
  'groupNorm',
  'groupNormGrad',
  'transpose',
  'transposeStrided',
  'copyRuns',
  'adam',
  'scale',
  'layerNorm',
  'packA',
  'causalAttention',
  'causalAttentionGrad',
] as const;
export type PoolOp = (typeof POOL_OPS)[number];

/** The worker script (CommonJS, evaluated: no file to locate, no `blob:` URL). */
const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, index, port, ops } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control, 0, ${CONTROL_BYTES / 4});
const table = new Float64Array(control, ${CONTROL_BYTES}, ${MAX_CHUNKS * CHUNK_WORDS});
const results = new Float64Array(control, ${CONTROL_BYTES + TABLE_BYTES}, ${MAX_CHUNKS});
const gemm = kernels.gemm;
function gemmBatch(count, sa, sb, sc, a, b, c, bias, M, N, K, sab, sai, sak, sbk, sbj, sci, scj, panel) {
  for (let i = 0; i < count; i++) gemm(a + i * sa, b + i * sb, c + i * sc, bias, M, N, K, sab, sai, sak, sbk, sbj, sci, scj, panel);
}
const run = ops.map((name) => (name === 'gemmBatch' ? gemmBatch : kernels[name]));
// Read before announcing readiness: the calling thread bumps SEQ only once every worker is ready.
let seen = Atomics.load(ctrl, ${SEQ});
parentPort.postMessage('ready');
// The next chunk of job \`job\` (claimed), or -1 when it has none left or is over.
function claim(job) {
  for (;;) {
    const word = Atomics.load(ctrl, ${CLAIM});
    if (word >>> 14 !== job || (word & 127) >= ((word >>> 7) & 127)) return -1;
    if (Atomics.compareExchange(ctrl, ${CLAIM}, word, word + 1) === word) return word & 127;
  }
}
for (;;) {
  // Spin before sleeping (when asked to): the next job usually comes within a millisecond.
  const until = performance.now() + Atomics.load(ctrl, ${SPIN_US}) / 1000;
  while (Atomics.load(ctrl, ${SEQ}) === seen && performance.now() < until);
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (Atomics.load(ctrl, ${QUIT}) !== 0) break;
  const job = seen & 0xffff;
  for (let i = claim(job); i >= 0; i = claim(job)) {
    // Claimed: the job stays current until this chunk is counted done.
    const count = (Atomics.load(ctrl, ${CLAIM}) >>> 7) & 127;
    try {
      const args = Array.from(table.subarray(i * ${CHUNK_WORDS}, i * ${CHUNK_WORDS} + ctrl[${ARGC}]));
      const panelArg = ctrl[${PANEL_ARG}];
      if (panelArg >= 0 && args[panelArg] !== 0) args[panelArg] += ctrl[${PANEL_STRIDE}] * (index + 1);
      const ret = run[ctrl[${OP}]].apply(null, args);
      results[i] = typeof ret === 'number' ? ret : 0;
    } catch (e) {
      if (Atomics.compareExchange(ctrl, ${FAILED}, 0, index + 1) === 0) port.postMessage(String((e && e.message) || e));
    }
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === count) Atomics.notify(ctrl, ${DONE});
  }
}
`;

type WorkerThreads = typeof import('node:worker_threads');

/** See {@link HeapPoolOptions.spinMs}. */
const DEFAULT_SPIN_MS = 0;
/** See {@link HeapPoolOptions.callerSpinMs}. */
const DEFAULT_CALLER_SPIN_MS = 0.5;

const importNode = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

/** Options of {@link HeapPool.start}. */
export interface HeapPoolOptions {
  /**
   * Least time (ms) the calling thread waits for the workers after its own chunks, before the
   * call fails with a {@link BackendError}; the limit is also at least 50 times the time the
   * calling thread spent on its chunks. Default 10 000.
   */
  timeoutMs?: number;
  /** Whether the calling thread runs chunks too (default `true`; `false` in tests of the workers). */
  callerClaims?: boolean;
  /**
   * How long (ms) a worker spins for the next job after one, and the calling thread for the
   * workers' last chunks, before blocking in `Atomics.wait`. Default 0: block at once.
   */
  spinMs?: number;
  /**
   * Most time (ms) the calling thread spins for the workers' last chunks after its own, before
   * blocking in `Atomics.wait`: as long as its longest chunk of the call took, up to this.
   * Default 0.5; 0 blocks at once.
   */
  callerSpinMs?: number;
}

/** The scratch argument of a job: thread `t` adds `t · stride` bytes to it (where it is not 0). */
export interface PanelArgument {
  /** Position of the scratch pointer among a chunk's arguments. */
  arg: number;
  /** Bytes from one thread's scratch to the next (thread 0 is the calling thread). */
  stride: number;
}

/**
 * Throws a {@link BackendError} unless every chunk has the same number of arguments (the workers
 * read one count) and at most {@link CHUNK_WORDS}: a longer chunk would run into the next chunk's
 * row of the table and silently change its arguments (`gemmBatch` takes 19 today). Checked on
 * every call, also one the calling thread runs alone (a pool shut down or busy).
 *
 * @internal
 */
export function assertChunkArguments(op: PoolOp, chunks: readonly (readonly number[])[]): void {
  const count = chunks[0]?.length ?? 0;
  for (const chunk of chunks) {
    if (chunk.length > CHUNK_WORDS || chunk.length !== count) {
      throw new BackendError(
        'heapKernels',
        `heapKernels: a pool call of ${op} takes at most ${CHUNK_WORDS} arguments per chunk, the same in every chunk, received chunks of ${[...new Set(chunks.map((c) => c.length))].join(' and ')}`,
      );
    }
  }
}

/** `threads − 1` workers running heap-kernel chunks on a shared memory; see the module comment. */
export class HeapPool {
  /** Threads a call may use: the calling thread plus the workers (1 once shut down). */
  threads: number;
  /** Why the pool was shut down, or `null` while it runs. */
  closed: string | null = null;
  /** See {@link HeapPoolOptions.callerSpinMs}; may be changed while the pool runs. */
  callerSpinMs = DEFAULT_CALLER_SPIN_MS;
  /** See {@link HeapPoolOptions.spinMs}; may be changed while the pool runs. */
  get spinMs(): number {
    return Atomics.load(this.control, SPIN_US) / 1000;
  }
  set spinMs(ms: number) {
    Atomics.store(this.control, SPIN_US, Math.round(ms * 1000));
  }
  private readonly control: Int32Array;
  private readonly table: Float64Array;
  private readonly results: Float64Array;
  private busy = false;

  private constructor(
    private readonly wt: WorkerThreads,
    private readonly workers: import('node:worker_threads').Worker[],
    private readonly ports: import('node:worker_threads').MessagePort[],
    buffer: SharedArrayBuffer,
    private readonly timeoutMs: number,
    private readonly callerClaims: boolean,
  ) {
    this.threads = workers.length + 1;
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.table = new Float64Array(buffer, CONTROL_BYTES, MAX_CHUNKS * CHUNK_WORDS);
    this.results = new Float64Array(buffer, CONTROL_BYTES + TABLE_BYTES, MAX_CHUNKS);
    for (const w of workers) {
      w.on('error', (e: Error) => this.shutDown(`a worker thread failed: ${e.message}`, true));
      w.on('exit', (code: number) => this.shutDown(`a worker thread exited with code ${code}`, true));
    }
  }

  /**
   * Starts `threads − 1` workers instantiating `module` (the heap kernels assembled for a shared
   * memory) on `memory`; resolves once every worker is ready. Node only.
   */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads: number,
    options: HeapPoolOptions = {},
  ): Promise<HeapPool> {
    const wt = (await importNode('node:worker_threads')) as WorkerThreads;
    const count = threads - 1;
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + TABLE_BYTES + RESULTS_BYTES);
    const workers: import('node:worker_threads').Worker[] = [];
    const ports: import('node:worker_threads').MessagePort[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const { port1, port2 } = new wt.MessageChannel();
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: buffer, index, port: port2, ops: POOL_OPS },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      workers.push(worker);
      ports.push(port1);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before it was ready`)));
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    const pool = new HeapPool(wt, workers, ports, buffer, options.timeoutMs ?? 10_000, options.callerClaims ?? true);
    pool.spinMs = options.spinMs ?? DEFAULT_SPIN_MS;
    pool.callerSpinMs = options.callerSpinMs ?? DEFAULT_CALLER_SPIN_MS;
    return pool;
  }

  /**
   * Runs `op` once per chunk of arguments in `chunks` (at most {@link MAX_CHUNKS}), each chunk
   * claimed by whichever thread is free first (the calling thread runs its chunks through
   * `local`), and returns when all are done. `panel`: the argument that points to per-thread
   * scratch space. Returns what each chunk's kernel returned, in chunk order (0 for kernels
   * that return nothing). Throws a {@link BackendError} when a chunk throws in a worker or a
   * worker does not finish in time.
   */
  run(op: PoolOp, local: (...args: number[]) => unknown, chunks: readonly (readonly number[])[], panel?: PanelArgument): number[] {
    const value = (ret: unknown): number => (typeof ret === 'number' ? ret : 0);
    assertChunkArguments(op, chunks);
    if (this.closed != null || this.busy || chunks.length < 2) return chunks.map((chunk) => value(local(...chunk)));
    if (chunks.length > MAX_CHUNKS) throw new Error(`HeapPool.run: at most ${MAX_CHUNKS} chunks, received ${chunks.length}`);
    const { control, table } = this;
    const count = chunks.length;
    chunks.forEach((chunk, i) => table.set(chunk, i * CHUNK_WORDS));
    control[OP] = POOL_OPS.indexOf(op);
    control[ARGC] = chunks[0]!.length;
    control[PANEL_ARG] = panel?.arg ?? -1;
    control[PANEL_STRIDE] = panel?.stride ?? 0;
    Atomics.store(control, DONE, 0);
    Atomics.store(control, FAILED, 0);
    const seq = (Atomics.load(control, SEQ) + 1) | 0;
    const job = seq & 0xffff;
    // Chunk 0 is the calling thread's without a claim: it starts while the workers wake up.
    Atomics.store(control, CLAIM, (job << 14) | (count << 7) | (this.callerClaims ? 1 : 0));
    Atomics.store(control, SEQ, seq);
    Atomics.notify(control, SEQ);
    const claim = (): number => {
      for (;;) {
        const word = Atomics.load(control, CLAIM);
        if ((word & 127) >= count) return -1;
        if (Atomics.compareExchange(control, CLAIM, word, word + 1) === word) return word & 127;
      }
    };
    this.busy = true;
    const start = performance.now();
    let localError: unknown = null;
    let longestChunk = 0;
    if (this.callerClaims) {
      for (let i = 0; i >= 0; i = claim()) {
        // After an error the remaining chunks are claimed and counted, not run.
        if (localError == null) {
          const t0 = performance.now();
          try {
            this.results[i] = value(local(...chunks[i]!));
          } catch (e) {
            localError = e;
          }
          longestChunk = Math.max(longestChunk, performance.now() - t0);
        }
        Atomics.add(control, DONE, 1);
      }
    }
    const limit = Math.max(this.timeoutMs, 50 * (performance.now() - start));
    const deadline = performance.now() + limit;
    // A worker's last chunk usually ends within a chunk's time of ours: spin that long (at most
    // callerSpinMs) before sleeping; longer, and the worker has likely lost its core.
    const spin = Math.max(Atomics.load(control, SPIN_US) / 1000, Math.min(this.callerSpinMs, longestChunk));
    const spinUntil = performance.now() + spin;
    try {
      // Only chunks are waited for: a worker that wakes after the last one was claimed has none.
      for (;;) {
        const done = Atomics.load(control, DONE);
        if (done === count) break;
        const now = performance.now();
        if (now < spinUntil) continue;
        const left = deadline - now;
        if (left <= 0) {
          const why = `a worker thread did not finish its part of ${op} within ${Math.round(limit)} ms`;
          this.shutDown(why);
          throw new BackendError(
            'heapKernels',
            `heapKernels: ${why}; the heap kernels run on the calling thread from now on, and this call's result is lost`,
          );
        }
        Atomics.wait(control, DONE, done, left);
      }
    } finally {
      this.busy = false;
    }
    if (localError != null) throw localError;
    const failed = Atomics.load(control, FAILED);
    if (failed !== 0) {
      const message = this.wt.receiveMessageOnPort(this.ports[failed - 1]!)?.message as string | undefined;
      throw new BackendError('heapKernels', `heapKernels: worker thread ${failed} failed running ${op}: ${message ?? 'unknown error'}`);
    }
    return Array.from(this.results.subarray(0, count));
  }

  /** Stops the workers; later calls run on the calling thread. */
  terminate(): void {
    this.shutDown('terminated');
  }

  private shutDown(why: string, warn = false): void {
    if (this.closed != null) return;
    this.closed = why;
    if (warn) console.warn(`heapKernels: ${why}; the heap kernels run on the calling thread from now on`);
    this.threads = 1;
    Atomics.store(this.control, QUIT, 1);
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
  }
}

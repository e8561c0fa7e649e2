/**
 * Worker threads for genblocks' heap kernels on the threaded wasm build's shared heap (Node).
 *
 * The heap kernels are a wasm module of their own, so they cannot use the tfjs module's XNNPACK
 * thread pool (its `pthreadpool` functions are not exported). This pool is a second, small one:
 * `threads − 1` `worker_threads` workers, each instantiating the same compiled module against
 * the same shared `WebAssembly.Memory`. A call is cut into shares by the caller
 * (`heap-kernels.ts`: output columns or rows of a gemm, ranges of an element-wise pass); the
 * calling thread writes each worker's share into its slot of a small control block (a
 * `SharedArrayBuffer` apart from the heap), bumps a sequence number, wakes the workers with
 * `Atomics.notify`, runs its own share, and waits on a pending counter with `Atomics.wait`
 * (Node's main thread may block). XNNPACK's operators and these kernels never overlap in time:
 * both run synchronously on the calling thread's behalf, so the two pools take turns on the
 * cores.
 *
 * Failures surface instead of hanging: a share that throws in a worker (a wasm trap) is reported
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
const PENDING = 1; // workers that have not finished the current job
const FAILED = 2; // 0, or 1 + the index of the first worker whose share threw
const QUIT = 3; // 1: workers leave their loop
const CONTROL_BYTES = 64;
/** Float64 words per worker slot: `[op, argument count, ...arguments]`. */
const SLOT = 32;
const NO_WORK = -1;

/**
 * Operations a worker runs, by index. `gemmBatch(count, strideA, strideB, strideC, ...gemm)`
 * runs `count` gemms whose `a`, `b`, `c` pointers advance by the strides (bytes); the others
 * are the module's exports.
 */
export const POOL_OPS = ['gemmBatch', 'sqrt', 'leakyRelu', 'greater', 'select', 'erf', 'tanh', 'binary', 'adam'] as const;
export type PoolOp = (typeof POOL_OPS)[number];

/** The worker script (CommonJS, evaluated: no file to locate, no `blob:` URL). */
const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, index, port, ops } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control, 0, ${CONTROL_BYTES / 4});
const slot = new Float64Array(control, ${CONTROL_BYTES} + index * ${SLOT * 8}, ${SLOT});
const gemm = kernels.gemm;
function gemmBatch(count, sa, sb, sc, a, b, c, bias, M, N, K, sai, sak, ldb, sci, scj, panel) {
  for (let i = 0; i < count; i++) gemm(a + i * sa, b + i * sb, c + i * sc, bias, M, N, K, sai, sak, ldb, sci, scj, panel);
}
const run = ops.map((name) => (name === 'gemmBatch' ? gemmBatch : kernels[name]));
// Read before announcing readiness: the calling thread bumps SEQ only once every worker is ready.
let seen = Atomics.load(ctrl, ${SEQ});
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  if (Atomics.load(ctrl, ${QUIT}) !== 0) break;
  const op = slot[0];
  if (op !== ${NO_WORK}) {
    try {
      run[op].apply(null, slot.subarray(2, 2 + slot[1]));
    } catch (e) {
      port.postMessage(String((e && e.message) || e));
      Atomics.compareExchange(ctrl, ${FAILED}, 0, index + 1);
    }
  }
  if (Atomics.sub(ctrl, ${PENDING}, 1) === 1) Atomics.notify(ctrl, ${PENDING});
}
`;

type WorkerThreads = typeof import('node:worker_threads');

const importNode = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

/** Options of {@link HeapPool.start}. */
export interface HeapPoolOptions {
  /**
   * Least time (ms) the calling thread waits for the workers after its own share, before the
   * call fails with a {@link BackendError}; the limit is also at least 50 times the calling
   * thread's own share. Default 10 000.
   */
  timeoutMs?: number;
}

/** `threads − 1` workers running heap-kernel shares on a shared memory; see the module comment. */
export class HeapPool {
  /** Threads a call may use: the calling thread plus the workers (1 once shut down). */
  threads: number;
  /** Why the pool was shut down, or `null` while it runs. */
  closed: string | null = null;
  private readonly control: Int32Array;
  private readonly slots: Float64Array[];
  private busy = false;

  private constructor(
    private readonly wt: WorkerThreads,
    private readonly workers: import('node:worker_threads').Worker[],
    private readonly ports: import('node:worker_threads').MessagePort[],
    buffer: SharedArrayBuffer,
    private readonly timeoutMs: number,
  ) {
    this.threads = workers.length + 1;
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.slots = workers.map((_, i) => new Float64Array(buffer, CONTROL_BYTES + i * SLOT * 8, SLOT));
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
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + count * SLOT * 8);
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
    return new HeapPool(wt, workers, ports, buffer, options.timeoutMs ?? 10_000);
  }

  /**
   * Runs `op` with `shares[t]` as its arguments on thread `t`: `shares[0]` on the calling thread
   * (through `local`), the others on the workers (a missing share: the worker idles), and
   * returns when all are done. Throws a {@link BackendError} when a worker's share throws or a
   * worker does not finish in time.
   */
  run(op: PoolOp, local: (...args: number[]) => void, shares: readonly (readonly number[] | undefined)[]): void {
    if (this.closed != null || this.busy) {
      for (const share of shares) if (share) local(...share);
      return;
    }
    const opIndex = POOL_OPS.indexOf(op);
    this.slots.forEach((slot, w) => {
      const share = shares[w + 1];
      if (share == null) {
        slot[0] = NO_WORK;
        return;
      }
      slot[0] = opIndex;
      slot[1] = share.length;
      slot.set(share, 2);
    });
    const control = this.control;
    Atomics.store(control, FAILED, 0);
    Atomics.store(control, PENDING, this.workers.length);
    Atomics.add(control, SEQ, 1);
    Atomics.notify(control, SEQ);
    this.busy = true;
    const start = performance.now();
    let localError: unknown = null;
    try {
      if (shares[0]) local(...shares[0]);
    } catch (e) {
      localError = e;
    }
    const limit = Math.max(this.timeoutMs, 50 * (performance.now() - start));
    const deadline = performance.now() + limit;
    try {
      for (;;) {
        const pending = Atomics.load(control, PENDING);
        if (pending === 0) break;
        const left = deadline - performance.now();
        if (left <= 0) {
          const why = `a worker thread did not finish its share of ${op} within ${Math.round(limit)} ms`;
          this.shutDown(why);
          throw new BackendError(
            'heapKernels',
            `heapKernels: ${why}; the heap kernels run on the calling thread from now on, and this call's result is lost`,
          );
        }
        Atomics.wait(control, PENDING, pending, left);
      }
    } finally {
      this.busy = false;
    }
    if (localError != null) throw localError;
    const failed = Atomics.load(control, FAILED);
    if (failed !== 0) {
      const message = this.wt.receiveMessageOnPort(this.ports[failed - 1]!)?.message as string | undefined;
      throw new BackendError(
        'heapKernels',
        `heapKernels: worker thread ${failed} failed running its share of ${op}: ${message ?? 'unknown error'}`,
      );
    }
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

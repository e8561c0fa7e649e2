/**
 * Starting tfjs-backend-wasm's threaded build in Node without touching any global object.
 *
 * tfjs 4.22 refuses threads in Node (`flags_wasm.ts`: tfjs issue 3830): its `init` hands
 * Emscripten the pthread worker script as a `blob:` URL, which Node's `worker_threads` rejects,
 * and the threaded factory itself assigns `global.Worker`. genblocks instead builds the
 * Emscripten module itself and registers a `wasm` backend factory that wraps it in the package's
 * own `BackendWasm` (so every registered wasm kernel, stock or genblocks', runs unchanged):
 *
 * - the package's un-bundled threaded factory (`wasm-out/tfjs-backend-wasm-threaded-simd.js`)
 *   is evaluated as a function whose `global` and `Worker` are parameters: its
 *   `global.Worker = …` lands on a private object, and its `new Worker(url)` makes a
 *   `worker_threads.Worker` that evaluates the package's worker script (a string it ships);
 *   each worker then loads the same factory file by path (`mainScriptUrlOrBlob`);
 * - the wasm module caps its pool at half the logical cores it is told about
 *   (`backend.cc`: `emscripten_num_logical_cores() / 2`), so the `instantiateWasm` hook gives
 *   the module, through its own import object, `2 · threads` as the core count;
 * - once the pool runs, its workers are `unref()`ed, so a script that ends exits normally.
 *
 * Nothing global is replaced: `URL`, `Blob`, `Worker`, `os.cpus` and `Object.prototype` keep
 * their identity (tested). The tfjs registry's `wasm` factory is replaced before the backend is
 * first initialized.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';

/** The parts of `@tensorflow/tfjs-backend-wasm`'s exports used here. */
interface WasmPackage {
  setThreadsCount?: (n: number) => void;
  BackendWasm?: new (module: unknown) => tf.KernelBackend;
}

/** The Emscripten module of the threaded build (the fields used here and by `BackendWasm`). */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => unknown;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  tfjs?: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const importNode = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

const WASM = 'wasm';
/** tfjs-backend-wasm's registration priority (its `base.ts`). */
const WASM_PRIORITY = 2;

/** Unrefs every pthread worker of `module` so that they never keep Node's event loop alive. */
function unrefWorkers(module: EmscriptenModule): void {
  for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref();
}

/** `i32.const 1000000`: pthreadpool's spin-wait count (`PTHREADPOOL_SPIN_WAIT_ITERATIONS`). */
const SPIN_CONST = [0x41, 0xc0, 0x84, 0x3d];
/** The spin-wait count genblocks gives the pool instead (a multiple of 5: the loops are unrolled by 5). */
const SPIN_WAIT_ITERATIONS = 1000;

/**
 * pthreadpool's threads spin for 1,000,000 atomic loads (about a millisecond) before they sleep
 * on a futex, waiting for the next operation or for each other. Where the process has its cores
 * to itself that hides the wake-up latency; where it does not (a busy machine, several
 * processes, or Node's own threads), the spinning threads take the cores that the waited-for
 * thread needs, and a model of small operations ran 4 to 10 times slower on 2 threads than on 1
 * (measured on a loaded 2-core machine). The three spin loops of tfjs-backend-wasm 4.22's
 * threaded build each start from `i32.const 1000000` and count down by 5; this rewrites that
 * constant to `iterations` (same byte length: a padded LEB128), and leaves the binary unchanged
 * unless it finds exactly those three.
 */
export function shortenSpinWaits(bytes: Uint8Array<ArrayBuffer>, iterations: number): Uint8Array<ArrayBuffer> {
  if (!(Number.isInteger(iterations) && iterations > 0 && iterations % 5 === 0 && iterations < 2 ** 21)) return bytes;
  const at: number[] = [];
  for (let i = bytes.indexOf(SPIN_CONST[0]!); i >= 0; i = bytes.indexOf(SPIN_CONST[0]!, i + 1)) {
    if (bytes[i + 1] === SPIN_CONST[1] && bytes[i + 2] === SPIN_CONST[2] && bytes[i + 3] === SPIN_CONST[3]) at.push(i);
  }
  if (at.length !== 3) return bytes;
  const patched = Uint8Array.from(bytes);
  // Three-byte LEB128 of `iterations` (< 2²¹), padded with continuation bits.
  const leb = [(iterations & 0x7f) | 0x80, ((iterations >> 7) & 0x7f) | 0x80, (iterations >> 14) & 0x7f];
  for (const i of at) patched.set(leb, i + 1);
  return patched;
}

/**
 * Registers, in place of tfjs-backend-wasm's own, a `wasm` backend factory that starts the
 * threaded SIMD build with `threads` XNNPACK threads in Node (see the module comment). Call
 * before the wasm backend is first initialized; `tf.setBackend('wasm')` then starts it. Returns
 * a function that puts tfjs-backend-wasm's own factory back (for the single-thread fallback).
 */
export async function registerThreadedWasm(fn: string, wasmPackage: unknown, threads: number): Promise<() => void> {
  const pkg = wasmPackage as WasmPackage | null;
  if (pkg?.setThreadsCount == null || pkg.BackendWasm == null) {
    throw new BackendError(fn, `${fn}: option 'threads' could not reach setThreadsCount and BackendWasm of @tensorflow/tfjs-backend-wasm`);
  }
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new BackendError(fn, `${fn}: option 'threads' needs WebAssembly SIMD, which this runtime lacks`);
  }
  const { createRequire } = (await importNode('node:module')) as typeof import('node:module');
  const path = (await importNode('node:path')) as typeof import('node:path');
  const fs = (await importNode('node:fs')) as typeof import('node:fs');
  const { Worker } = (await importNode('node:worker_threads')) as typeof import('node:worker_threads');

  const require = createRequire(path.join(process.cwd(), 'noop.js'));
  const root = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const factoryFile = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const wasmFile = path.join(root, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
  const { wasmWorkerContents } = require(path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The worker script is exported as a template literal, whose "\n" escapes became newlines.
  const workerSource = wasmWorkerContents.replace(/\n/g, '\\n');

  /** A pthread worker: the package's worker script, evaluated (no file, no blob: URL). */
  class PthreadWorker extends Worker {
    constructor() {
      super(workerSource, { eval: true });
    }
  }
  const factorySource = fs.readFileSync(factoryFile, 'utf8');
  const privateGlobal: Record<string, unknown> = Object.create(globalThis) as Record<string, unknown>;
  const factoryRequire = createRequire(factoryFile);
  const evaluate = new Function(
    'global',
    'Worker',
    'require',
    '__filename',
    '__dirname',
    'module',
    'exports',
    'define',
    `${factorySource}\nreturn WasmBackendModuleThreadedSimd;`,
  ) as (...args: unknown[]) => Factory;
  const factory = evaluate(
    privateGlobal,
    PthreadWorker,
    factoryRequire,
    factoryFile,
    path.dirname(factoryFile),
    { exports: {} },
    undefined,
    undefined,
  );
  const wasmBytes = shortenSpinWaits(new Uint8Array(fs.readFileSync(wasmFile)), SPIN_WAIT_ITERATIONS);

  const start = async (): Promise<tf.KernelBackend> => {
    let memory: unknown;
    const module = await factory({
      locateFile: (file: string, prefix: string) => (file.endsWith('.wasm') ? wasmFile : prefix + file),
      mainScriptUrlOrBlob: factoryFile,
      instantiateWasm: (
        imports: { env: Record<string, unknown> },
        receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) => {
        // The module's own import object (not a global): report 2·threads logical cores.
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        memory = imports.env.memory;
        void WebAssembly.compile(wasmBytes).then(async (compiled) =>
          receive(await WebAssembly.instantiate(compiled, imports as WebAssembly.Imports), compiled),
        );
        return {};
      },
    });
    // The shared heap, for genblocks' heap kernels (the threaded build imports its memory).
    (module as { wasmMemory?: unknown }).wasmMemory ??= memory;
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    pkg.setThreadsCount!(threads);
    const backend = new pkg.BackendWasm!(module);
    unrefWorkers(module);
    return backend;
  };

  const stockFactory = tf.findBackendFactory(WASM);
  tf.removeBackend(WASM);
  tf.registerBackend(WASM, start, WASM_PRIORITY);
  return () => {
    tf.removeBackend(WASM);
    if (stockFactory != null) tf.registerBackend(WASM, stockFactory, WASM_PRIORITY);
  };
}

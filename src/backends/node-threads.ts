/**
 * Starting tfjs-backend-wasm's threaded build in Node (experimental).
 *
 * tfjs 4.22 refuses threads in Node (`flags_wasm.ts`: tfjs issue 3830) because its threaded
 * build starts each pthread worker from a `blob:` URL, which Node's `worker_threads` rejects,
 * and hands the workers the Emscripten factory as a Blob they cannot import. This module makes
 * it start, the approach of the unmerged tfjs PR 8059 applied from outside:
 *
 * - the worker script (shipped in the package as a string) is written to a temporary file, with
 *   one line appended that makes the worker import the package's unbundled factory file;
 * - **during initialization only**, `URL.createObjectURL` returns that file's path for the worker
 *   Blob, and `os.cpus()` reports at least `2 · threads` cores when the machine has fewer (the
 *   wasm module caps its pool at half the logical cores). Both are restored before
 *   {@link withNodeThreads} returns, so nothing stays patched.
 *
 * The pre-spawned worker threads keep Node's event loop alive: call `tf.removeBackend('wasm')`
 * (which terminates them) or `process.exit()` when done, or the process will not exit.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';

type WasmPackage = { setThreadsCount?: (n: number) => void };

const importNode = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

/**
 * Runs `init` (which must initialize the wasm backend) with the threaded SIMD build enabled
 * for `threads` threads in Node, then removes every temporary patch.
 */
export async function withNodeThreads<T>(fn: string, wasmPackage: unknown, threads: number, init: () => Promise<T>): Promise<T> {
  const setThreadsCount = (wasmPackage as WasmPackage | null)?.setThreadsCount;
  if (setThreadsCount == null) {
    throw new BackendError(fn, `${fn}: option 'threads' could not reach setThreadsCount of @tensorflow/tfjs-backend-wasm`);
  }
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new BackendError(fn, `${fn}: option 'threads' needs WebAssembly SIMD, which this runtime lacks`);
  }
  const { createRequire } = (await importNode('node:module')) as typeof import('node:module');
  const path = (await importNode('node:path')) as typeof import('node:path');
  const fs = (await importNode('node:fs')) as typeof import('node:fs');
  const os = ((await importNode('node:os')) as { default: typeof import('node:os') }).default;

  const require = createRequire(path.join(process.cwd(), 'noop.js'));
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const factoryFile = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genblocks-wasm-threads-'));
  const workerFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  // Inside the worker (its own globals), the factory Blob it receives resolves to the real file.
  fs.writeFileSync(workerFile, `${wasmWorkerContents.replace(/\n/g, '\\n')}\n;URL.createObjectURL = function () { return ${JSON.stringify(factoryFile)}; };\n`);

  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  URL.createObjectURL = (obj: Blob | MediaSource): string =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : originalCreateObjectURL(obj as Blob);
  const cores = originalCpus().length;
  if (cores < 2 * threads) {
    os.cpus = () => {
      const real = originalCpus();
      return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
    };
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  try {
    return await init();
  } finally {
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
    // The pool's workers have loaded their script once the backend is ready.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `backends.use`: one call that loads, activates and prepares a tfjs backend for training.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, BackendError } from '../errors.js';
import { assertKnownKeys, describe } from '../validation.js';
import { describeBackend, type BackendDescription } from './describe.js';
import { enableTraining } from './enable-training.js';
import { registerThreadedWasm } from './node-threads.js';
import { heapKernelsReady } from './wasm/heap-kernels.js';
import type { WasmBackend } from './wasm/types.js';

/** The backends {@link use} knows, plus `'auto'`. @category Backends */
export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu' | 'tensorflow' | 'auto';

/** Options of {@link use}. @category Backends */
export interface UseOptions {
  /**
   * wasm only: where the `.wasm` binaries are (a folder prefix ending in `/`, or a map from file
   * name to URL), as tfjs-backend-wasm's `setWasmPaths`. Default: next to the package's own
   * script, which is what Node needs. In a bundled page the package cannot be imported by name
   * at run time: call `setWasmPaths` from `@tensorflow/tfjs-backend-wasm` yourself before
   * `use('wasm')` (passing this option there throws a `BackendError` that says so).
   */
  wasmPaths?: string | Record<string, string>;
  /** Install the training kernels (default `true`); `false` only activates the backend. */
  training?: boolean;
  /**
   * wasm in Node only: run tfjs-backend-wasm's threaded SIMD build with this many XNNPACK
   * threads (1 to 8), or `'auto'`: every logical core (up to 8) when the machine has more than
   * one and the wasm backend has not started yet, else one thread. Default `'auto'`; `1` opts
   * out (tfjs-backend-wasm's own single-threaded build). tfjs 4.22 does not support threads in
   * Node; genblocks builds the threaded Emscripten module itself and registers it as the `wasm`
   * backend, without replacing any global (`URL`, `Worker`, `os.cpus` keep their identity), and
   * its worker threads do not keep the process alive. A number other than 1 must be given
   * before the wasm backend is first initialized. When the threaded build cannot start, `use`
   * warns and runs one thread. In a browser only `undefined`, `'auto'` and `1` are accepted and
   * change nothing: there tfjs chooses (see `setThreadsCount` of tfjs-backend-wasm). genblocks'
   * own SIMD heap kernels (gemm, element-wise, fused Adam) run on the shared heap too, large
   * calls split across the threads by a small worker pool of their own.
   */
  threads?: number | 'auto';
  /** Install the kernels on a tfjs-core other than 4.22.x (default `false`). */
  allowUntestedTfjs?: boolean;
}

/** npm packages that provide each backend (tried in order). */
export const BACKEND_PACKAGES: Readonly<Record<Exclude<BackendName, 'auto'>, readonly string[]>> = {
  wasm: ['@tensorflow/tfjs-backend-wasm'],
  cpu: ['@tensorflow/tfjs-backend-cpu'],
  webgl: ['@tensorflow/tfjs-backend-webgl'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu'],
  tensorflow: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
};

const NAMES = ['wasm', 'cpu', 'webgl', 'webgpu', 'tensorflow', 'auto'] as const;

/** Order tried by `'auto'`: native TensorFlow, then GPU backends (browser), then wasm, then cpu. */
const AUTO_ORDER: readonly Exclude<BackendName, 'auto'>[] = ['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'];

type WasmModule = { setWasmPaths?: (p: string | Record<string, string>) => void };

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** A non-literal `import()` so bundlers do not try to resolve optional peers. */
const importPackage = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);

/**
 * Makes sure the package of backend `name` is loaded (it registers the backend on import).
 * Returns the module when genblocks imported it, `null` when the backend was already registered.
 */
async function loadBackendPackage(fn: string, name: Exclude<BackendName, 'auto'>): Promise<unknown> {
  if (tf.findBackendFactory(name) != null) return null;
  const packages = BACKEND_PACKAGES[name];
  const failures: string[] = [];
  for (const pkg of packages) {
    try {
      const mod = await importPackage(pkg);
      if (tf.findBackendFactory(name) != null) return mod;
      failures.push(`${pkg} loaded but registered no '${name}' backend (two copies of @tensorflow/tfjs-core?)`);
    } catch (e) {
      failures.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const hint = isNode() || name !== 'tensorflow' ? `npm install ${packages[0]}` : `the '${name}' backend runs in Node only`;
  throw new BackendError(
    fn,
    `${fn}: backend '${name}' needs the package ${packages.join(' or ')}, which could not be loaded (${failures.join('; ')}). Install it (${hint}), or import it yourself before calling ${fn}.`,
  );
}

/** In Node, points tfjs-backend-wasm at its own `dist/` folder unless the caller chose paths. */
async function locateWasmFiles(mod: unknown, wasmPaths: UseOptions['wasmPaths']): Promise<void> {
  const setWasmPaths = (mod as WasmModule | null)?.setWasmPaths;
  if (setWasmPaths == null) return;
  if (wasmPaths !== undefined) {
    setWasmPaths(wasmPaths);
    return;
  }
  if (!isNode()) return;
  try {
    const { createRequire } = (await importPackage('node:module')) as typeof import('node:module');
    const { dirname, join } = (await importPackage('node:path')) as typeof import('node:path');
    const { existsSync } = (await importPackage('node:fs')) as typeof import('node:fs');
    const require = createRequire(join(process.cwd(), 'noop.js'));
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    if (existsSync(join(dist, 'tfjs-backend-wasm-simd.wasm'))) setWasmPaths(dist + '/');
  } catch {
    // Not resolvable from the working directory: the package's own script location is used.
  }
}

const WASM_NAME = 'wasm';

/** XNNPACK threads of the initialized wasm backend (active or not), `null` before it first starts. */
function runningWasmThreads(): number | null {
  const backend = tf.engine().registry[WASM_NAME] as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | undefined;
  return backend == null ? null : (backend.wasm?.tfjs?.getThreadsCount?.() ?? 1);
}

/** Logical cores of this machine (Node). */
async function logicalCores(): Promise<number> {
  const os = ((await importPackage('node:os')) as { default: typeof import('node:os') }).default;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Starts wasm with `threads` threads in Node (see `node-threads.ts`); when the threaded build
 * cannot start, warns and starts tfjs-backend-wasm's own single-threaded build instead.
 */
async function startThreaded(fn: string, mod: unknown, threads: number, start: () => Promise<boolean>): Promise<boolean> {
  let restore: (() => void) | null = null;
  try {
    restore = await registerThreadedWasm(fn, mod, threads);
    if (await start()) return true;
    throw new Error('tf.setBackend returned false');
  } catch (e) {
    if (restore == null && e instanceof BackendError) throw e;
    restore?.();
    console.warn(`${fn}: the threaded wasm build could not start (${(e as Error).message}); using one thread`);
    return start();
  }
}

async function activate(fn: string, name: Exclude<BackendName, 'auto'>, options: UseOptions): Promise<void> {
  let mod = await loadBackendPackage(fn, name);
  if (name === WASM_NAME && tf.engine().registry[WASM_NAME] == null) {
    // A package the host imported itself resolves to the cached module: its setWasmPaths and
    // setThreadsCount are the ones that configure the registered backend.
    mod ??= await importPackage(BACKEND_PACKAGES.wasm[0]!).catch(() => null);
    if (options.wasmPaths !== undefined && (mod as WasmModule | null)?.setWasmPaths == null) {
      // In a bundled page the package cannot be imported by name at run time, so its
      // setWasmPaths is out of reach: say so rather than silently ignoring the option.
      throw new BackendError(
        fn,
        `${fn}: option 'wasmPaths' could not be applied: @tensorflow/tfjs-backend-wasm cannot be imported by name here (a bundled page?). ` +
          `Call setWasmPaths(...) from @tensorflow/tfjs-backend-wasm yourself before ${fn}('wasm'), and leave 'wasmPaths' out`,
      );
    }
    await locateWasmFiles(mod, options.wasmPaths);
  }
  const start = async (): Promise<boolean> => {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok;
  };
  let ok: boolean;
  try {
    if (name !== WASM_NAME) {
      ok = await start();
    } else if (!isNode()) {
      // In a browser tfjs chooses the thread count (cross-origin isolated pages run threads).
      if (options.threads !== undefined && options.threads !== 'auto' && options.threads !== 1) {
        throw new BackendError(
          fn,
          `${fn}: option 'threads' is for Node; in a browser, serve the page cross-origin isolated and call setThreadsCount from @tensorflow/tfjs-backend-wasm`,
        );
      }
      ok = await start();
    } else {
      const running = runningWasmThreads();
      let threads: number;
      if (options.threads === undefined || options.threads === 'auto') {
        // The default: every logical core (up to 8) where there are several, for a wasm backend
        // that has not started yet (and does not take user-chosen .wasm paths); a running
        // backend is kept as it is.
        const fresh = running == null && options.wasmPaths === undefined;
        threads = fresh ? Math.min(8, await logicalCores()) : (running ?? 1);
      } else {
        threads = options.threads;
      }
      if (threads === (running ?? 1)) {
        ok = await start();
      } else if (running != null) {
        throw new BackendError(
          fn,
          `${fn}: option 'threads' must be given before the wasm backend is first initialized (it already runs with ${running} thread(s), asked for ${threads})`,
        );
      } else {
        ok = await startThreaded(fn, mod, threads, start);
      }
    }
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError(fn, `${fn}: backend '${name}' failed to initialize: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(
      fn,
      `${fn}: backend '${name}' failed to initialize (tf.setBackend returned false; see the warning tfjs printed)`,
    );
  }
}

/**
 * Loads, activates and prepares a tfjs backend for training, and describes it.
 *
 * Imports the backend's package when it is not registered yet (`@tensorflow/tfjs-backend-wasm`,
 * `-cpu`, `-webgl`, `-webgpu`, or `@tensorflow/tfjs-node` for `'tensorflow'`; all optional peers),
 * calls `tf.setBackend`, waits for it, then installs the training kernels with
 * {@link enableTraining}. `'auto'` takes the first backend that starts among `tensorflow`,
 * `webgl`, `webgpu` (browser only), `wasm` and `cpu`. In a browser bundle, import the backend
 * package yourself (dynamic imports of optional peers are not bundled); `use` then finds it.
 *
 * @param name `'wasm' | 'cpu' | 'webgl' | 'webgpu' | 'tensorflow' | 'auto'`.
 * @param options See {@link UseOptions}.
 * @returns The active backend: name, SIMD, thread count, kernels genblocks added and replaced.
 * @throws {@link BackendError} naming the package to install when it is missing, or when the
 *   backend fails to start; {@link ArgumentError} for an unknown name.
 * @example
 * ```ts
 * import { backends } from 'genblocks';
 *
 * const info = await backends.use('wasm');
 * // In Node on a machine with several cores, the threaded build: threads = cores (up to 8).
 * console.log(info); // { name: 'wasm', simd: true, threads: 2, added: [...], replaced: [...] }
 * ```
 * @category Backends
 */
export async function use(name: BackendName, options: UseOptions = {}): Promise<BackendDescription> {
  const fn = 'backends.use';
  if (typeof name !== 'string' || !(NAMES as readonly string[]).includes(name)) {
    throw new ArgumentError({ fn, arg: 'name', expected: `be one of ${NAMES.map((n) => `'${n}'`).join(', ')}`, received: describe(name) });
  }
  assertKnownKeys(options, ['wasmPaths', 'training', 'threads', 'allowUntestedTfjs'], 'options', fn);
  if (
    options.threads !== undefined &&
    options.threads !== 'auto' &&
    !(Number.isInteger(options.threads) && options.threads >= 1 && options.threads <= 8)
  ) {
    throw new ArgumentError({
      fn,
      arg: 'options.threads',
      expected: "be an integer from 1 to 8 or 'auto'",
      received: describe(options.threads),
    });
  }
  if (name === 'auto') {
    const errors: string[] = [];
    for (const candidate of AUTO_ORDER) {
      if (isNode() && (candidate === 'webgl' || candidate === 'webgpu')) continue;
      try {
        return await use(candidate, options);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    throw new BackendError(fn, `${fn}: no backend could start ('auto' tried ${AUTO_ORDER.join(', ')}): ${errors.join(' | ')}`);
  }
  await activate(fn, name, options);
  if (options.training !== false) {
    enableTraining(name, { allowUntestedTfjs: options.allowUntestedTfjs ?? false });
    // The heap kernels' worker threads start in the background and answer through the event
    // loop: a training loop that never yields to it (one that only awaits `data()`, which wasm
    // resolves at once) would otherwise run every heap kernel on the calling thread.
    if (name === WASM_NAME) await heapKernelsReady(tf.backend() as unknown as WasmBackend);
  }
  return describeBackend();
}

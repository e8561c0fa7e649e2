/**
 * The one internal entry of genblocks, for the repository's own benchmarks (`bench/`) and tests:
 * the pieces they need that are not part of the public API. Not published (no `package.json`
 * `exports` entry, not in the API reference) and free to change in any release; code outside
 * this repository uses `genblocks` and `genblocks/node` only.
 *
 * - `installWasmKernels` / `uninstallWasmKernels`: put genblocks' wasm kernels in and take them
 *   out again, so that a benchmark times the stock kernel and genblocks' interleaved in one
 *   process (users call `backends.use('wasm')` or `backends.enableTraining()`).
 * - `heapKernelsReady` / `heapKernelThreads` / `setHeapThreadsEnabled`: wait for the heap
 *   kernels' worker threads on the threaded wasm build, and turn them off and on, so that a
 *   benchmark times one thread against the pool interleaved.
 * - `defaultYieldIntervalMs` / `nextMacrotask`: the trainers' event-loop cadence, so that a
 *   hand-written baseline loop yields exactly as `fit` does.
 *
 * @module
 * @internal
 */
export { heapKernelsReady, heapKernelThreads, setHeapThreadsEnabled } from './backends/wasm/heap-kernels.js';
export { installWasmKernels, uninstallWasmKernels } from './backends/wasm/install.js';
export { defaultYieldIntervalMs, nextMacrotask } from './train/yield.js';

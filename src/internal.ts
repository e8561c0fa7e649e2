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
 * - `heapKernels` / `HeapKernels`: the heap kernels object of a wasm backend, so that a profile
 *   (`scripts/profile-gpt-kernels.ts`) can wrap its methods and attribute time to each.
 * - `setHeapPoolSpin`: how long the heap pool's threads spin before blocking, for A/B profiles.
 * - `profileTrainerSteps` / `emptyStepProfile` / `TrainerStepProfile`: time the parts of the
 *   trainers' steps (batch checks and snapshot, the step, the read, the state check, the
 *   release, the in-assignment scans) directly, for `bench/trainer-overhead-profile.ts`.
 * - `WasmBackend`: the type of the wasm backend those functions take (`tf.backend()` cast to it).
 *
 * @module
 * @internal
 */
export {
  heapKernels,
  heapKernelsReady,
  heapKernelThreads,
  setHeapPoolSpin,
  setHeapThreadsEnabled,
  type HeapKernels,
} from './backends/wasm/heap-kernels.js';
export type { WasmBackend } from './backends/wasm/types.js';
export { installWasmKernels, uninstallWasmKernels } from './backends/wasm/install.js';
export { defaultYieldIntervalMs, nextMacrotask } from './train/yield.js';
export { emptyStepProfile, profileTrainerSteps, type TrainerStepProfile } from './train/step-profile.js';

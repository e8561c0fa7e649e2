/**
 * Test helpers for running a suite on several tfjs backends.
 *
 * `cpu` is the pure-JS reference; `wasm` is what Node users train on. Each test file runs in
 * its own process (vitest `pool: 'forks'`), so switching the backend in `beforeAll` is safe.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';

export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/**
 * Activates `name` and makes it able to train (genblocks' `backends.use`, which installs the wasm
 * kernels). wasm starts as users get it by default: threaded, one thread per core (up to 8).
 * `GENBLOCKS_TEST_THREADS=1` (or another count, or `auto`) chooses the thread count instead.
 */
export async function useTestBackend(name: TestBackend): Promise<void> {
  const { backends } = await import('../../src/index.js');
  const threads = process.env.GENBLOCKS_TEST_THREADS;
  await backends.use(name, name === 'wasm' && threads ? { threads: threads === 'auto' ? 'auto' : Number(threads) } : {});
}

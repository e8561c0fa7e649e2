/**
 * The tfjs version genblocks' kernels were written against.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';

/** The tfjs-core minor version whose kernel internals the wasm kernels rely on. */
export const SUPPORTED_TFJS = '4.22';

/**
 * Throws a {@link BackendError} unless tfjs-core is {@link SUPPORTED_TFJS}.x. The wasm kernels
 * call `BackendWasm.makeOutput` / `typedArrayFromHeap` and read kernel attributes, which are
 * public but not a documented extension API; `allowUntested` skips the check.
 */
export function assertSupportedTfjs(fn: string, allowUntested = false): void {
  const version = tf.version_core;
  if (allowUntested || version.split('.').slice(0, 2).join('.') === SUPPORTED_TFJS) return;
  throw new BackendError(
    fn,
    `${fn}: genblocks' training kernels are written against @tensorflow/tfjs-core ${SUPPORTED_TFJS}.x, received ${version}. ` +
      `Install @tensorflow/tfjs-core@~${SUPPORTED_TFJS}.0, or pass { allowUntestedTfjs: true } and run genblocks' parity tests.`,
  );
}

/**
 * A scope for composing wasm kernels inside a kernel: every intermediate it creates is freed
 * when the scope is disposed, unless it is handed out with {@link Scope.keep}.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { wasmKernel, type WasmBackend, type WasmKernelFunc } from './types.js';

/** Runs wasm kernels and frees the intermediates they produce (kernels see no `tf.tidy`). */
export class Scope {
  private temps: tf.TensorInfo[] = [];

  constructor(private readonly backend: WasmBackend) {}

  /** Runs kernel `name` (or `fn` when given) and tracks its output for disposal. */
  run(name: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: tf.NamedAttrMap = {}, fn?: WasmKernelFunc): tf.TensorInfo {
    const out = (fn ?? wasmKernel(name))({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs });
    this.temps.push(out);
    return out;
  }

  /** The backend the scope runs on. */
  backendOf(): WasmBackend {
    return this.backend;
  }

  /** Allocates an output buffer tracked by the scope. */
  alloc(shape: number[]): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.temps.push(out);
    return out;
  }

  /** Removes `t` from the scope so it survives {@link Scope.dispose}; returns `t`. */
  keep(t: tf.TensorInfo): tf.TensorInfo {
    const i = this.temps.indexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    return t;
  }

  /** Frees every tracked intermediate. */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps = [];
  }
}

/**
 * Runs `body`, which fills `outputs` (a kernel's fresh outputs, made with `makeOutput`), and
 * returns what it returns; when it throws (a heap kernel's worker failing with a
 * `BackendError`), frees `outputs` before the error goes on, so that a failed kernel leaks nothing.
 */
export function disposeOnThrow<T>(backend: WasmBackend, outputs: readonly tf.TensorInfo[], body: () => T): T {
  try {
    return body();
  } catch (e) {
    for (const t of outputs) backend.disposeData(t.dataId);
    throw e;
  }
}

/** Runs `body` with a fresh {@link Scope}, disposing it afterwards even on error. */
export function withScope<T>(backend: WasmBackend, body: (s: Scope) => T): T {
  const s = new Scope(backend);
  try {
    return body(s);
  } finally {
    s.dispose();
  }
}

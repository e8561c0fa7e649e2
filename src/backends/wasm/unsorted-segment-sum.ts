/**
 * `UnsortedSegmentSum` for wasm (tfjs 4.22 has none). It is the gradient of `gather`, so an
 * `embedding` layer (conditional GANs) cannot train on wasm without it.
 *
 *     out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]      (ids outside [0, numSegments) are dropped)
 *
 * @module
 */
import { attr, sizeOf, type WasmKernelFunc } from './types.js';

/** The wasm `UnsortedSegmentSum` kernel (inputs `x`, `segmentIds`; attr `numSegments`). */
export const unsortedSegmentSum: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = attr<number>(attrs, 'numSegments');
  const rows = sizeOf(ids.shape);
  const inner = sizeOf(x.shape.slice(ids.shape.length));
  const out = backend.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], x.dtype);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(ids);
  for (let r = 0; r < rows; r++) {
    const s = iv[r]!;
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) ov[dst + k] += xv[src + k]!;
  }
  return out;
};

/**
 * Holding and checking variable values without copies: the one place where the training state
 * code touches tfjs internals (backend data ids, reference counts, host memory). Everything
 * outside `backends/` goes through the small interface below.
 *
 * - {@link holdValues} keeps the current values of some tensors alive (a reference-count
 *   increment per tensor, no copy), {@link heldTensor} makes a tensor of a held value again,
 *   {@link releaseValues} lets them go. tfjs never writes into a tensor's data in place
 *   (`Variable.assign` points the variable at new data and releases the old), so a held value
 *   is exactly the value the variable had when it was held.
 * - {@link findNonFinite} scans values for NaN and ±Infinity where they live in host memory
 *   (the `cpu` and `wasm` backends), with no kernel launch and no copy: on wasm with a small
 *   WebAssembly SIMD module over the backend's own memory, elsewhere with a JS loop.
 * - {@link finitenessProbe} is the same check as one scalar tensor, for backends whose data
 *   lives on a device (WebGL, WebGPU): it is read together with the step's losses.
 * - {@link markFinite} lets a kernel that checked the values it wrote (the fused Adam kernel
 *   on wasm) record them as finite, so that the scan skips them: tensor data never changes
 *   after it is written, so the mark stays true for as long as the data lives.
 * - {@link checkOnAssign} runs the same in-place scan on a variable's new value as it is
 *   assigned, while the kernel that wrote it has left it in cache, and records it when finite.
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

type DataId = object;

interface RefCountingBackend {
  incRef(dataId: DataId): void;
  disposeData(dataId: DataId): boolean;
}

interface EngineInternals {
  backend: unknown;
  makeTensorFromTensorInfo(info: { dataId: DataId; shape: number[]; dtype: tf.DataType }): tf.Tensor;
  removeDataId(dataId: DataId, backend: unknown): void;
}

const engine = (): EngineInternals => tf.engine() as unknown as EngineInternals;

function refCounting(): RefCountingBackend | undefined {
  const backend = engine().backend as Partial<RefCountingBackend>;
  return typeof backend.incRef === 'function' && typeof backend.disposeData === 'function' ? (backend as RefCountingBackend) : undefined;
}

/**
 * Values of a list of tensors as they were when held. Opaque: read them back with
 * {@link heldTensor}, compare with {@link isHeldValue}, free with {@link releaseValues}.
 *
 * @internal
 */
export interface HeldValues {
  /** Number of held values. */
  readonly size: number;
  /** @internal data ids (reference-counting backends). */
  readonly ids: DataId[];
  /** @internal the backend that holds `ids`. */
  readonly backend: RefCountingBackend | undefined;
  /** @internal clones (other backends). */
  readonly clones: tf.Tensor[] | undefined;
}

/**
 * Keeps the current values of `tensors` alive without copying them: one reference-count
 * increment per tensor, nothing in `tf.memory().numTensors`. Backends without reference counts
 * get clones instead. Synchronous.
 *
 * @internal
 */
export function holdValues(tensors: readonly tf.Tensor[]): HeldValues {
  const backend = refCounting();
  if (!backend) return { size: tensors.length, ids: [], backend: undefined, clones: tensors.map((t) => tf.keep(tf.clone(t))) };
  const ids: DataId[] = new Array(tensors.length);
  for (let i = 0; i < tensors.length; i++) {
    const id = tensors[i]!.dataId;
    backend.incRef(id);
    ids[i] = id;
  }
  return { size: tensors.length, ids, backend, clones: undefined };
}

/**
 * A new tensor (kept, owned by the caller) on held value `i`, with the given shape and dtype
 * (those of the tensor it was held from).
 *
 * @internal
 */
export function heldTensor(held: HeldValues, i: number, shape: number[], dtype: tf.DataType): tf.Tensor {
  if (held.clones) return tf.keep(tf.clone(held.clones[i]!));
  held.backend!.incRef(held.ids[i]!);
  return tf.keep(engine().makeTensorFromTensorInfo({ dataId: held.ids[i]!, shape, dtype }));
}

/** Whether `t` still holds held value `i` (it was not assigned since). @internal */
export function isHeldValue(held: HeldValues, i: number, t: tf.Tensor): boolean {
  return held.clones ? false : held.ids[i] === t.dataId;
}

/** Releases held values (each exactly once). @internal */
export function releaseValues(held: HeldValues): void {
  if (held.clones) {
    tf.dispose(held.clones);
    return;
  }
  const { ids, backend } = held;
  const e = engine();
  for (let i = 0; i < ids.length; i++) {
    if (backend!.disposeData(ids[i]!)) e.removeDataId(ids[i]!, backend);
  }
}

/**
 * A second tensor on the same data as `t`, without copying (see {@link holdValues}); a clone
 * on backends without reference counts. Kept; the caller disposes it.
 *
 * @internal
 */
export function shareTensor(t: tf.Tensor): tf.Tensor {
  const backend = refCounting();
  if (!backend) return tf.keep(tf.clone(t));
  backend.incRef(t.dataId);
  return tf.keep(engine().makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
}

/**
 * A WebAssembly SIMD scan over the wasm backend's own memory: `check(byteOffset, count)` returns
 * `Σ (x − x)` over `count` float32 values, 0 when all are finite and NaN otherwise (`x − x` is
 * NaN exactly for NaN and ±Infinity, and a sum of zeros never overflows). Four `f32x4`
 * accumulators, 16 values per iteration. Assembled with wabt from this text (281 bytes):
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 0))
 *   (func (export "check") (param $p i32) (param $n i32) (result f32)
 *     ;; $a0..$a3 += x - x over 64-byte blocks (v128.load offset=0/16/32/48), then the scalar
 *     ;; tail, then the lanes of $a0 + $a1 + $a2 + $a3 and the tail sum added up.
 *     ...))
 * ```
 */
const SCAN_WASM =
  'AGFzbQEAAAABBwFgAn9/AX0CDwEDZW52Bm1lbW9yeQIAAAMCAQAHCQEFY2hlY2sAAArlAQHiAQMFewJ/An0gACABQQJ0aiEHIAAgAUFwcUECdGohCAJAA0AgACAITw0BIAD9AAIAIQYgAiAGIAb95QH95AEhAiAA/QACECEGIAMgBiAG/eUB/eQBIQMgAP0AAiAhBiAEIAYgBv3lAf3kASEEIAD9AAIwIQYgBSAGIAb95QH95AEhBSAAQcAAaiEADAALCwJAA0AgACAHTw0BIAAqAgAhCiAJIAogCpOSIQkgAEEEaiEADAALCyACIAP95AEgBCAF/eQB/eQBIQIgCSAC/R8AIAL9HwGSIAL9HwIgAv0fA5KSkgs=';

/**
 * The quick first pass of the scan: `sum(byteOffset, count)` returns `Σ x` over `count` float32
 * values, one `f32x4.add` per four values where {@link SCAN_WASM} needs a subtraction too
 * (about 1.3x faster on data in cache, the same from memory). A finite sum proves every value
 * finite (a NaN or an infinity in a lane keeps it non-finite to the end); a non-finite one may
 * also be the overflow of huge finite values, and is settled by `check`. Same layout as
 * {@link SCAN_WASM} (the same type and import sections), assembled with wabt from (236 bytes):
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 0))
 *   (func (export "sum") (param $p i32) (param $n i32) (result f32)
 *     ;; $a0..$a3 += x over 64-byte blocks (v128.load offset=0/16/32/48), then the scalar tail,
 *     ;; then the lanes of ($a0 + $a1) + ($a2 + $a3) and the tail sum added up.
 *     ...))
 * ```
 */
const SUM_WASM =
  'AGFzbQEAAAABBwFgAn9/AX0CDwEDZW52Bm1lbW9yeQIAAAMCAQAHBwEDc3VtAAAKugEBtwEDBHsCfwF9IAAgAUECdGohBiAAIAFBcHFBAnRqIQcCQANAIAAgB08NASACIAD9AAQA/eQBIQIgAyAA/QAEEP3kASEDIAQgAP0ABCD95AEhBCAFIAD9AAQw/eQBIQUgAEHAAGohAAwACwsCQANAIAAgBk8NASAIIAAqAgCSIQggAEEEaiEADAALCyACIAP95AEgBCAF/eQB/eQBIQIgCCAC/R8AIAL9HwGSIAL9HwIgAv0fA5KSkgs=';

/** Whether the `count` float32 values at `byteOffset` of the heap are all finite. */
type WasmCheck = (byteOffset: number, count: number) => boolean;
const wasmChecks = new WeakMap<object, WasmCheck | null>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * A scan module (`base64`) importing a shared memory instead (the threaded build's heap): its
 * import section `env.memory (memory 0)` (limits flag 0, minimum 0) becomes
 * `(memory 0 65536 shared)` (flag 3, minimum 0, maximum 65536 as LEB128 `80 80 04`); the code is
 * the same.
 */
function sharedScanBytes(base64: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(base64);
  const plain = [2, 0x0f, 1, 3, ...'env'.split('').map((c) => c.charCodeAt(0)), 6, ...'memory'.split('').map((c) => c.charCodeAt(0))];
  const at = 17; // after the magic, the version and the 9-byte type section
  if (!plain.every((b, i) => bytes[at + i] === b) || bytes[at + plain.length] !== 2 || bytes[at + plain.length + 1] !== 0) {
    throw new Error('the scan module does not have the expected memory import');
  }
  const head = bytes.subarray(0, at);
  const tail = bytes.subarray(at + plain.length + 3);
  const section = [2, 0x12, ...plain.slice(2), 2, 3, 0, 0x80, 0x80, 4];
  const out = new Uint8Array(new ArrayBuffer(head.length + section.length + tail.length));
  out.set(head, 0);
  out.set(section, head.length);
  out.set(tail, head.length + section.length);
  return out;
}

/** The backend's linear memory: exported by the single-threaded build, imported (shared) by the threaded one. */
function memoryOf(backend: HostBackend): unknown {
  return backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
}

/**
 * The SIMD scan bound to `memory` (the quick sum, then the exact check where the sum is not
 * finite), or null where it cannot run (no SIMD).
 */
function wasmCheck(memory: unknown): WasmCheck | null {
  if (typeof WebAssembly === 'undefined' || !(memory instanceof WebAssembly.Memory)) return null;
  let check = wasmChecks.get(memory);
  if (check === undefined) {
    try {
      const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
      const exportOf = (base64: string, name: string) => {
        const bytes = shared ? sharedScanBytes(base64) : decodeBase64(base64);
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
        return instance.exports[name] as (byteOffset: number, count: number) => number;
      };
      const sum = exportOf(SUM_WASM, 'sum');
      const exact = exportOf(SCAN_WASM, 'check');
      check = (byteOffset, count) => Number.isFinite(sum(byteOffset, count)) || exact(byteOffset, count) === 0;
    } catch {
      check = null; // no SIMD: scan in JS instead
    }
    wasmChecks.set(memory, check);
  }
  return check;
}

/** Data ids whose values are known to be finite (see {@link markFinite}). */
const knownFinite = new WeakSet<DataId>();

/**
 * Records that the data behind `dataId` holds only finite values: for kernels that check what
 * they write in the same pass (the fused Adam kernel), so that {@link findNonFinite} and
 * {@link findNonFiniteByReading} need not read it again. Only for data that was just written
 * and checked: tfjs never changes a tensor's data in place, so the mark cannot go stale.
 *
 * @internal
 */
export function markFinite(dataId: DataId): void {
  knownFinite.add(dataId);
}

/** Whether `t`'s data was recorded finite by {@link markFinite}. @internal */
export function isKnownFinite(t: tf.Tensor): boolean {
  return knownFinite.has(t.dataId);
}

interface HostBackend {
  data?: { get(id: DataId): { values?: unknown } | undefined };
  dataIdMap?: { get(id: DataId): { memoryOffset: number } | undefined };
  wasm?: { HEAPU8: Uint8Array; asm?: { memory?: unknown }; wasmMemory?: unknown };
}

/**
 * Whether the float32 tensor `t` holds only finite values, read where the backend keeps it in
 * host memory (no copy, no kernel): the SIMD scan over the wasm heap, or a JS loop over the
 * cpu backend's typed array (or the wasm heap without SIMD). `undefined` when the data is not
 * in host memory.
 */
function finiteInPlace(backend: HostBackend, check: WasmCheck | null, t: tf.Tensor): boolean | undefined {
  if (backend.wasm?.HEAPU8 && backend.dataIdMap) {
    // tfjs-backend-wasm: tensors live in the module's heap at `memoryOffset` (malloc'd, aligned).
    const entry = backend.dataIdMap.get(t.dataId);
    if (!entry) return undefined;
    if (check) return check(entry.memoryOffset, t.size);
    const view = new Float32Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, t.size);
    return Number.isFinite(sum4(view)) || isAllFinite(view);
  }
  // tfjs-backend-cpu: tensors are typed arrays in a DataStorage.
  const values = backend.data?.get(t.dataId)?.values;
  if (!(values instanceof Float32Array) || values.length !== t.size) return undefined;
  return Number.isFinite(sum4(values)) || isAllFinite(values);
}

/**
 * How {@link findNonFinite} scans on the active backend: `'wasm-simd'` (the SIMD module over the
 * wasm heap, plain or shared), `'js'` (a JS loop: the cpu backend, or wasm without SIMD), or `undefined` (device backends: use {@link finitenessProbe}).
 *
 * @internal
 */
export function inPlaceScanKind(): 'wasm-simd' | 'js' | undefined {
  const b = engine().backend as HostBackend;
  if (b.wasm?.HEAPU8 && b.dataIdMap) return wasmCheck(memoryOf(b)) ? 'wasm-simd' : 'js';
  return typeof b.data?.get === 'function' ? 'js' : undefined;
}

/**
 * Whether the active backend keeps tensor data in host memory where {@link findNonFinite} can
 * scan it (`cpu`, `wasm`). Elsewhere, check with {@link finitenessProbe}.
 *
 * @internal
 */
export function scansInPlace(): boolean {
  const b = engine().backend as { data?: { get?: unknown }; dataIdMap?: unknown; wasm?: { HEAPU8?: unknown } };
  return Boolean((b.wasm?.HEAPU8 && b.dataIdMap) || typeof b.data?.get === 'function');
}

/**
 * Sum of `values`, with four accumulators (independent add chains run in parallel). NaN or
 * ±Infinity in `values` makes the sum non-finite; a non-finite sum of finite values (overflow
 * past 3.4e38) is possible and is told apart by {@link isAllFinite}.
 */
function sum4(values: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = values.length & ~3;
  let i = 0;
  for (; i < n; i += 4) {
    s0 += values[i]!;
    s1 += values[i + 1]!;
    s2 += values[i + 2]!;
    s3 += values[i + 3]!;
  }
  for (; i < values.length; i++) s0 += values[i]!;
  return s0 + s1 + s2 + s3;
}

function isAllFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/**
 * Where the backend keeps tensor data in host memory (`cpu`, `wasm`): the index of the first of
 * `tensors` that holds a NaN or ±Infinity, or -1 when all are finite. Reads each value once,
 * in place, with no kernel launch and no copy (int32 tensors are always finite, and data that
 * a kernel checked as it wrote it, see {@link markFinite}, is not read). `undefined` when the
 * backend keeps its data elsewhere: use {@link finitenessProbe} there.
 *
 * @internal
 */
export function findNonFinite(tensors: readonly tf.Tensor[]): number | undefined {
  const backend = engine().backend as HostBackend;
  const check = backend.wasm?.HEAPU8 && backend.dataIdMap ? wasmCheck(memoryOf(backend)) : null;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    if (t.dtype !== 'float32' || knownFinite.has(t.dataId)) continue;
    const finite = finiteInPlace(backend, check, t);
    if (finite === undefined) return undefined;
    if (!finite) return i;
  }
  return -1;
}

/**
 * One scalar that is finite when every float value of `tensors` is, for backends that keep
 * their data on a device: `Σ_t Σ_i t_i · 0` is 0 when all are finite and NaN otherwise (a
 * product with 0 never overflows). Meant to be stacked with the losses and read with them, so
 * the check costs no extra read. Call inside `tf.tidy`.
 *
 * @internal
 */
export function finitenessProbe(tensors: readonly tf.Tensor[]): tf.Scalar {
  const floats = tensors.filter((t) => t.dtype === 'float32' && !knownFinite.has(t.dataId));
  if (floats.length === 0) return tf.scalar(0);
  const sums = floats.map((t) => tf.sum(tf.mul(t, 0)));
  // Stacked and summed rather than tf.addN: tfjs-backend-webgpu 4.22 runs AddN as one shader
  // binding every input, which fails silently (garbage results) beyond the device's storage
  // buffers per stage (8 by default); stack's concat splits its inputs into chunks.
  return (sums.length === 1 ? sums[0]! : tf.sum(tf.stack(sums))) as tf.Scalar;
}

/** Index of the first of `tensors` holding a NaN or ±Infinity (reads each), or -1. @internal */
export async function findNonFiniteByReading(tensors: readonly tf.Tensor[]): Promise<number> {
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i]!;
    if (t.dtype !== 'float32' || knownFinite.has(t.dataId)) continue;
    if (!isAllFinite((await t.data()) as Float32Array)) return i;
  }
  return -1;
}

/** What {@link checkOnAssign} returns. @internal */
export interface AssignmentCheck {
  /** Whether `t` holds the value that the hook of `variables[index]` last found finite. */
  checked(index: number, t: tf.Tensor): boolean;
  /** Removes the hooks (those still in place). */
  remove(): void;
}

/**
 * Totals of the in-assignment scans ({@link checkOnAssign}) while a profile is set: scans run,
 * bytes read and milliseconds spent. For profiles of the trainers' steps
 * (`profileTrainerSteps` in `train/step-profile.ts`).
 *
 * @internal
 */
export interface AssignScanProfile {
  /** Values scanned. */
  scans: number;
  /** Bytes read. */
  bytes: number;
  /** Milliseconds the scans took (`performance.now`). */
  ms: number;
}

let scanProfile: AssignScanProfile | undefined;

/**
 * Adds the in-assignment scans to `profile` from now on (`undefined`: stop); returns the profile
 * set before. One branch per hooked assignment when unset.
 *
 * @internal
 */
export function profileAssignScans(profile: AssignScanProfile | undefined): AssignScanProfile | undefined {
  const previous = scanProfile;
  scanProfile = profile;
  return previous;
}

/**
 * Scans the new value of each of `variables` as it is assigned (`variable.assign(value)`),
 * where the backend keeps its data in host memory ({@link findNonFinite}'s scan), and records
 * it as checked ({@link AssignmentCheck.checked}) when it is finite; a value that is not finite
 * is not recorded. A step's new values are then checked while the kernel that wrote each one
 * has just left it in cache, about twice as fast as one scan over all of them after the step
 * (measured on wasm with the quick sum of {@link SUM_WASM}: 13 MB of Adam state, 0.34 against
 * 0.71 ms), and the scan after the step skips them. Whatever is not recorded (a non-finite value, data the hook did not see) is still
 * scanned after the step, so the hook can only save work, never change a result.
 *
 * Variables whose `skip` entry is true are not hooked (their finiteness follows from others').
 *
 * The hook is an own, non-enumerable `assign` property on each variable that calls the one it
 * shadows; `shouldCheck(index)` is asked before each assignment (false: no scan, e.g. outside a
 * step or for a variable assigned a second time within one). Variables of fewer than `minSize`
 * elements, those that already carry an own `assign`, and those that cannot take one (frozen,
 * sealed) are left alone: a small value is still in cache when the scan after the step reads
 * it, and a hooked variable costs a call and a closure per assignment, and gives tfjs's code
 * one more object shape to handle.
 *
 * @internal
 */
export function checkOnAssign(
  variables: readonly tf.Variable[],
  shouldCheck: (index: number) => boolean,
  minSize = 0,
  skip?: readonly boolean[],
): AssignmentCheck {
  const finite: (DataId | undefined)[] = new Array(variables.length);
  const checked = (index: number, t: tf.Tensor): boolean => finite[index] === t.dataId;
  if (!scansInPlace()) return { checked, remove: () => undefined };
  const backend = engine().backend as HostBackend;
  const check = backend.wasm?.HEAPU8 && backend.dataIdMap ? wasmCheck(memoryOf(backend)) : null;
  const hooks: [tf.Variable, (value: tf.Tensor) => void][] = [];
  for (let i = 0; i < variables.length; i++) {
    const v = variables[i]!;
    if (skip?.[i] || v.size < minSize || Object.prototype.hasOwnProperty.call(v, 'assign') || !Object.isExtensible(v)) continue;
    const assign = v.assign;
    const hook = (value: tf.Tensor): void => {
      const wanted = shouldCheck(i);
      assign.call(v, value);
      if (!wanted || v.dtype !== 'float32' || engine().backend !== backend) return;
      // A value a kernel already checked as it wrote it (fused Adam) is not read again.
      if (isKnownFinite(v)) {
        finite[i] = v.dataId;
        return;
      }
      const profile = scanProfile;
      const start = profile === undefined ? 0 : performance.now();
      const ok = finiteInPlace(backend, check, v) === true;
      if (profile !== undefined) {
        profile.ms += performance.now() - start;
        profile.scans++;
        profile.bytes += v.size * 4;
      }
      if (ok) finite[i] = v.dataId;
    };
    Object.defineProperty(v, 'assign', { value: hook, writable: true, configurable: true, enumerable: false });
    hooks.push([v, hook]);
  }
  const remove = (): void => {
    for (const [v, hook] of hooks)
      if (Object.getOwnPropertyDescriptor(v, 'assign')?.value === hook) delete (v as { assign?: unknown }).assign;
    hooks.length = 0;
  };
  return { checked, remove };
}

/**
 * The checkpoint format: version, checksums, and the structural validation shared by
 * `Trainer.restore` and the file store. Pure functions on plain data; nothing here touches a
 * tensor.
 *
 * @module
 */
import { CheckpointError } from '../errors.js';
import { describe } from '../validation.js';
import type { Checkpoint, CheckpointChecksum, CheckpointMeta, CheckpointTensor } from './checkpoint.js';

/** The format version that `Trainer.checkpoint` writes. @internal */
export const CHECKPOINT_VERSION = 2;

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (IEEE 802.3 polynomial, reflected 0xEDB88320, init and final xor 0xFFFFFFFF: the CRC of
 * zlib, PNG and gzip), continuing from `crc` (0 to start).
 *
 * @internal
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** JSON with object keys sorted at every level, so equal content gives equal text. @internal */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, (v as Record<string, unknown>)[k]]),
    );
  });
}

/** The bytes of a tensor's values (a view, no copy). */
function valueBytes(t: CheckpointTensor): Uint8Array {
  return new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
}

/** Checksums of a checkpoint's meta (without `checksum`) and tensors. @internal */
export function checksumOf(meta: CheckpointMeta, tensors: readonly CheckpointTensor[]): CheckpointChecksum {
  const { checksum: _ignored, ...rest } = meta;
  const header = canonicalJson({ meta: rest, tensors: tensors.map(({ name, shape, dtype }) => ({ name, shape, dtype })) });
  let values = 0;
  for (const t of tensors) values = crc32(valueBytes(t), values);
  return { algorithm: 'crc32', header: hex8(crc32(new TextEncoder().encode(header))), values: hex8(values) };
}

const COUNTERS = ['step', 'epoch', 'batchInEpoch', 'rngPosition', 'skippedSteps', 'seed'] as const;

/** Throws a {@link CheckpointError} for `field`. */
export type Fail = (field: string, expected: string, received: string, hint?: string) => never;

/**
 * A `fail` function bound to a function name and a source: a path, or a checkpoint whose
 * `files` (set by a file store) name the file each field lives in (tensor values in one, the
 * rest in the other), else its `source`.
 *
 * @internal
 */
export function failer(fn: string, source: string | Pick<Checkpoint, 'source' | 'files'> | undefined): Fail {
  return (field, expected, received, hint) => {
    let where: string | undefined;
    if (typeof source === 'string' || source === undefined) where = source;
    else if (source.files) where = /\.values$/.test(field) ? source.files.values : source.files.meta;
    else where = source.source;
    throw new CheckpointError({ fn, source: where, field, expected, received, hint });
  };
}

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The `source` and `files` of a checkpoint-like object, when they are strings. @internal */
export function sourceOf(checkpoint: Record<string, unknown>): Pick<Checkpoint, 'source' | 'files'> {
  const { source, files } = checkpoint;
  const f =
    isObject(files) && typeof files['meta'] === 'string' && typeof files['values'] === 'string'
      ? { meta: files['meta'], values: files['values'] }
      : undefined;
  return { source: typeof source === 'string' ? source : undefined, files: f };
}
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/**
 * Validates a tensor entry's name, shape and dtype (not its values). Returns the element count.
 * @internal
 */
export function checkTensorHeader(t: unknown, at: string, fail: Fail): number {
  if (!isObject(t)) fail(at, 'be an object { name, shape, dtype, values }', describe(t));
  const { name, shape, dtype } = t as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0) fail(`${at}.name`, 'be a non-empty string', describe(name));
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every(isCount))
    fail(`${at}.shape`, 'be an array of at most 8 non-negative integers', describe(shape));
  if (dtype !== 'float32' && dtype !== 'int32') fail(`${at}.dtype`, "be 'float32' or 'int32'", describe(dtype));
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size)) fail(`${at}.shape`, 'describe fewer than 2^53 elements', describe(shape));
  return size;
}

/**
 * Validates everything about a checkpoint that does not depend on the trainer: the format and
 * version, the counters (non-negative integers, `rngPosition ≥ step + skippedSteps`), each
 * tensor's name (unique), shape, dtype, value type and length, finite float values, the layer
 * states, and (version 2) the checksums. Throws a {@link CheckpointError} naming the field.
 *
 * @internal
 */
export function validateCheckpoint(checkpoint: unknown, fn: string): asserts checkpoint is Checkpoint {
  const fail = failer(fn, isObject(checkpoint) ? sourceOf(checkpoint) : undefined);
  if (!isObject(checkpoint)) fail('checkpoint', 'be a genblocks checkpoint { meta, tensors }', describe(checkpoint));
  const { meta, tensors } = checkpoint as Record<string, unknown>;
  if (!isObject(meta)) fail('meta', 'be an object', describe(meta));
  const m = meta as Record<string, unknown>;
  if (m['format'] !== 'genblocks-checkpoint') fail('meta.format', "be 'genblocks-checkpoint'", describe(m['format']));
  const version = m['version'];
  if (version !== 1 && version !== CHECKPOINT_VERSION) {
    const newer = typeof version === 'number' && version > CHECKPOINT_VERSION;
    fail(
      'meta.version',
      `be a checkpoint format version this genblocks reads (1 or ${CHECKPOINT_VERSION})`,
      version === undefined ? 'no version' : `version ${describe(version)}`,
      newer ? 'It was written by a newer genblocks: upgrade genblocks to load it' : undefined,
    );
  }
  if (typeof m['kind'] !== 'string') fail('meta.kind', 'be a string', describe(m['kind']));
  for (const key of COUNTERS) if (!isCount(m[key])) fail(`meta.${key}`, 'be a non-negative integer', describe(m[key]));
  const counters = m as unknown as CheckpointMeta;
  if (counters.rngPosition < counters.step + counters.skippedSteps) {
    fail('meta.rngPosition', `be at least step + skippedSteps (${counters.step + counters.skippedSteps})`, String(counters.rngPosition));
  }
  if (version === 1) {
    const counts = m['sampleCounts'];
    if (counts !== undefined && (!Array.isArray(counts) || !counts.every(isCount)))
      fail('meta.sampleCounts', 'be an array of non-negative integers', describe(counts));
  } else {
    checkLayerStates(m['layers'], fail);
    const c = m['checksum'];
    if (!isObject(c) || c['algorithm'] !== 'crc32' || typeof c['header'] !== 'string' || typeof c['values'] !== 'string') {
      fail('meta.checksum', "be { algorithm: 'crc32', header, values }", describe(c));
    }
  }
  if (!Array.isArray(tensors)) fail('tensors', 'be an array', describe(tensors));
  const names = new Set<string>();
  (tensors as unknown[]).forEach((t, i) => {
    const size = checkTensorHeader(t, `tensors[${i}]`, fail);
    const { name, dtype, values } = t as CheckpointTensor;
    const at = `tensors['${name}']`;
    if (names.has(name)) fail(`${at}.name`, 'be unique', 'a second tensor of that name');
    names.add(name);
    const type = dtype === 'int32' ? Int32Array : Float32Array;
    if (!(values instanceof type)) fail(`${at}.values`, `be a ${type.name}`, describe(values));
    if (values.length !== size)
      fail(`${at}.values`, `hold ${size} values (shape [${(t as CheckpointTensor).shape.join(',')}])`, `${values.length}`);
    if (dtype === 'float32') {
      for (let k = 0; k < values.length; k++) {
        if (!Number.isFinite(values[k]!)) fail(`${at}.values`, 'be finite', `${values[k]} at index ${k}`);
      }
    }
  });
  if (version === CHECKPOINT_VERSION) {
    const stored = m['checksum'] as CheckpointChecksum;
    const actual = checksumOf(counters, tensors as CheckpointTensor[]);
    if (stored.header !== actual.header) {
      fail(
        'meta.checksum.header',
        `match the counters, layer states and tensor names, shapes and dtypes (crc32 ${actual.header})`,
        stored.header,
        'The checkpoint was changed or damaged after it was written',
      );
    }
    if (stored.values !== actual.values) {
      fail(
        'meta.checksum.values',
        `match the tensor values (crc32 ${actual.values})`,
        stored.values,
        'The tensor values were changed or damaged after they were written',
      );
    }
  }
}

function checkLayerStates(layers: unknown, fail: Fail): void {
  if (layers === undefined) return;
  if (!isObject(layers)) fail('meta.layers', 'be an object of layer-state lists by network name', describe(layers));
  for (const [group, list] of Object.entries(layers as Record<string, unknown>)) {
    if (!Array.isArray(list)) fail(`meta.layers.${group}`, 'be an array of { className, state }', describe(list));
    (list as unknown[]).forEach((entry, i) => {
      const at = `meta.layers.${group}[${i}]`;
      if (!isObject(entry) || typeof entry['className'] !== 'string' || !isObject(entry['state']))
        fail(at, 'be { className, state }', describe(entry));
      for (const [key, v] of Object.entries((entry as { state: Record<string, unknown> }).state)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at}.state.${key}`, 'be a finite number', describe(v));
      }
    });
  }
}

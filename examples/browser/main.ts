/**
 * genblocks in the browser: trains a small VAE or GAN on 2,000 MNIST digits with the backend of
 * your choice, drawing samples and loss curves while it trains, and saves the generator to
 * IndexedDB or as a download. Training yields to the browser between steps (`fit` does), so
 * the page stays responsive.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { backends, data, losses, nets, train, vae } from 'genblocks';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backendSelect = $<HTMLSelectElement>('backend');
const modelSelect = $<HTMLSelectElement>('model');
const trainButton = $<HTMLButtonElement>('train');
const saveButton = $<HTMLButtonElement>('save');
const downloadButton = $<HTMLButtonElement>('download');
const stepLabel = $<HTMLSpanElement>('step');
const statusLabel = $<HTMLSpanElement>('status');
const samplesCanvas = $<HTMLCanvasElement>('samples');
const curvesCanvas = $<HTMLCanvasElement>('curves');

const IMAGES = 2000;
const PIXELS = 784;
const GRID = 8; // 8x8 samples
const SAMPLE_EVERY = 10;

// The wasm binaries are copied next to the page by vite.config.ts.
setWasmPaths(new URL('./wasm/', location.href).href);
// wasm runs threaded when the page is cross-origin isolated (COOP/COEP headers, set by
// vite.config.ts); tfjs-backend-wasm then uses half the logical cores (at most 8).
if ('gpu' in navigator) backendSelect.add(new Option('webgpu', 'webgpu'));

interface Session {
  backend: string;
  model: 'vae' | 'gan';
  trainer: train.AdversarialTrainer | train.VaeTrainer;
  generator: tfl.LayersModel;
  images: tf.Tensor2D;
  noise: tf.Tensor2D;
  series: Record<string, number[]>;
  dispose(): void;
}

let pixels: Uint8Array | undefined;
let session: Session | undefined;
let running: AbortController | undefined;

async function loadPixels(): Promise<Uint8Array> {
  const response = await fetch(new URL('./mnist-train-2000.bin', location.href));
  if (!response.ok) throw new Error(`could not load mnist-train-2000.bin (${response.status})`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== IMAGES * PIXELS) throw new Error(`mnist-train-2000.bin has ${bytes.length} bytes, expected ${IMAGES * PIXELS}`);
  return bytes;
}

async function startSession(backend: string, model: 'vae' | 'gan'): Promise<Session> {
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  const info = await backends.use(backend as backends.BackendName);
  statusLabel.textContent = `${info.name}${info.name === 'wasm' ? ` · ${info.threads} thread(s)${info.simd ? ' · SIMD' : ''}` : ''}`;
  // VAE: pixels in [0, 1] (Bernoulli likelihood); GAN: [-1, 1] (tanh generator).
  const images = tf.tidy(() => {
    const x = tf.div(tf.tensor2d(pixels!, [IMAGES, PIXELS], 'int32'), 255);
    return (model === 'vae' ? x : tf.sub(tf.mul(x, 2), 1)) as tf.Tensor2D;
  });
  if (model === 'vae') {
    const latentDim = 16;
    const encoder = vae.mlpEncoder({ inputShape: [PIXELS], latentDim, widths: [256] });
    const decoder = vae.mlpDecoder({ latentDim, outputShape: [PIXELS], widths: [256] });
    const full = vae.assemble({ encoder, decoder });
    const trainer = new train.VaeTrainer({ model: full, decoder, optimizer: tf.train.adam(1e-3), seed: 1 });
    const noise = tf.randomNormal([GRID * GRID, latentDim], 0, 1, 'float32', 7) as tf.Tensor2D;
    return { backend, model, trainer, generator: decoder, images, noise, series: { reconstruction: [], kl: [] }, dispose: () => full.dispose() };
  }
  const latentDim = 32;
  const generator = nets.mlpGenerator({ latentDim, outputShape: [PIXELS], widths: [128, 256] });
  const discriminator = nets.mlpDiscriminator({ inputShape: [PIXELS], widths: [256, 128] });
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer: tf.train.adam(2e-4, 0.5),
    discriminatorOptimizer: tf.train.adam(2e-4, 0.5),
    seed: 1,
  });
  const noise = tf.randomNormal([GRID * GRID, latentDim], 0, 1, 'float32', 7) as tf.Tensor2D;
  return {
    backend,
    model,
    trainer,
    generator,
    images,
    noise,
    series: { discriminator: [], generator: [] },
    dispose: () => {
      generator.dispose();
      discriminator.dispose();
    },
  };
}

/** Draws 64 samples from the fixed latent points as an 8x8 grid. */
async function drawSamples(s: Session): Promise<void> {
  const x = await s.trainer.sample(s.noise);
  const out = tf.tidy(() => {
    const unit = s.trainer.sampleRange === '[-1,1]' ? tf.div(tf.add(x, 1), 2) : x;
    return tf.mul(tf.clipByValue(unit, 0, 1), 255);
  });
  x.dispose();
  const values = await out.data();
  out.dispose();
  const side = 28 * GRID;
  const image = new ImageData(side, side);
  for (let k = 0; k < GRID * GRID; k++) {
    const [gy, gx] = [Math.floor(k / GRID), k % GRID];
    for (let p = 0; p < PIXELS; p++) {
      const [y, x] = [gy * 28 + Math.floor(p / 28), gx * 28 + (p % 28)];
      const o = 4 * (y * side + x);
      const v = values[k * PIXELS + p]!;
      image.data[o] = image.data[o + 1] = image.data[o + 2] = v;
      image.data[o + 3] = 255;
    }
  }
  const tile = new OffscreenCanvas(side, side);
  tile.getContext('2d')!.putImageData(image, 0, 0);
  const ctx = samplesCanvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, 0, 0, samplesCanvas.width, samplesCanvas.height);
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** Draws each loss series as a line; a log scale when every value is positive (VAE terms differ by 100x). */
function drawCurves(series: Record<string, number[]>): void {
  const ctx = curvesCanvas.getContext('2d')!;
  const { width, height } = curvesCanvas;
  const pad = 36;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = Object.values(series).flat().filter(Number.isFinite);
  const n = Math.max(...Object.values(series).map((v) => v.length));
  if (all.length === 0 || n < 2) return;
  const log = all.every((v) => v > 0);
  const f = (v: number) => (log ? Math.log10(v) : v);
  const [lo, hi] = [Math.min(...all.map(f)), Math.max(...all.map(f))];
  const span = hi - lo || 1;
  const px = (i: number) => pad + ((width - 2 * pad) * i) / (n - 1);
  const py = (v: number) => height - pad - ((height - 2 * pad) * (f(v) - lo)) / span;
  const label = (v: number) => (log ? 10 ** v : v).toPrecision(3);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad, pad, width - 2 * pad, height - 2 * pad);
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(label(hi), 2, pad + 4);
  ctx.fillText(label(lo), 2, height - pad + 4);
  ctx.fillText(`step ${n}${log ? ' · log scale' : ''}`, width - pad - 90, height - pad + 16);
  Object.entries(series).forEach(([name, values], j) => {
    ctx.strokeStyle = COLORS[j % COLORS.length]!;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(px(i), py(v)) : ctx.lineTo(px(i), py(v))));
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(name, pad + 8 + 110 * j, pad - 8);
  });
}

async function run(): Promise<void> {
  const backend = backendSelect.value;
  const model = modelSelect.value as 'vae' | 'gan';
  if (!session || session.backend !== backend || session.model !== model) {
    session?.dispose();
    if (session) tf.dispose([session.images, session.noise]);
    session = undefined;
    statusLabel.textContent = `starting ${backend}…`;
    session = await startSession(backend, model);
  }
  const s = session;
  running = new AbortController();
  trainButton.textContent = 'Stop';
  saveButton.disabled = downloadButton.disabled = false;
  const batches = data.batches(s.images, { batchSize: 64, shuffle: true, seed: 1, dropRemainder: true });
  const callback: train.Callback = {
    onStepEnd: async (step, logs) => {
      for (const name of Object.keys(s.series)) s.series[name]!.push(logs[name]!);
      stepLabel.textContent = String(step);
      stepLabel.dataset['step'] = String(step);
      if (step % SAMPLE_EVERY === 0 || step === 1) {
        await drawSamples(s);
        drawCurves(s.series);
      }
    },
  };
  try {
    await s.trainer.fit(batches, { epochs: s.trainer.epoch + 1000, callbacks: [callback], signal: running.signal });
  } finally {
    await drawSamples(s);
    drawCurves(s.series);
    trainButton.textContent = 'Train';
    running = undefined;
  }
}

trainButton.addEventListener('click', () => {
  if (running) {
    running.abort();
    return;
  }
  run().catch((e: unknown) => {
    statusLabel.textContent = `error: ${(e as Error).message}`;
    console.error(e);
  });
});

saveButton.addEventListener('click', async () => {
  if (!session) return;
  const result = await session.generator.save(`indexeddb://genblocks-${session.model}-generator`);
  statusLabel.textContent = `saved to indexeddb://genblocks-${session.model}-generator (${result.modelArtifactsInfo.weightDataBytes} bytes of weights)`;
});

downloadButton.addEventListener('click', async () => {
  if (!session) return;
  await session.generator.save(`downloads://genblocks-${session.model}-generator`);
});

loadPixels().then(
  (bytes) => {
    pixels = bytes;
    statusLabel.textContent = 'ready';
    trainButton.disabled = false;
  },
  (e: unknown) => {
    statusLabel.textContent = `error: ${(e as Error).message}`;
  },
);

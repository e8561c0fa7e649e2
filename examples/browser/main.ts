/**
 * genblocks in the browser: trains a small VAE, GAN, PixelCNN or diffusion model on 2,000 MNIST digits with the backend of
 * your choice, drawing samples and loss curves while it trains, and saves the generator to
 * IndexedDB or as a download. Training yields to the browser between steps (`fit` does), so
 * the page stays responsive; a run stops by itself after the chosen number of epochs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { autoregressive, backends, data, diffusion, layers, losses, nets, train, vae } from 'genblocks';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backendSelect = $<HTMLSelectElement>('backend');
const modelSelect = $<HTMLSelectElement>('model');
const epochsInput = $<HTMLInputElement>('epochs');
const trainButton = $<HTMLButtonElement>('train');
const resetButton = $<HTMLButtonElement>('reset');
const saveButton = $<HTMLButtonElement>('save');
const downloadButton = $<HTMLButtonElement>('download');
const aboutText = $<HTMLParagraphElement>('about');
const backendText = $<HTMLSpanElement>('backend-info');
const phaseText = $<HTMLSpanElement>('phase');
const stepText = $<HTMLSpanElement>('step');
const epochText = $<HTMLSpanElement>('epoch');
const speedText = $<HTMLSpanElement>('speed');
const elapsedText = $<HTMLSpanElement>('elapsed');
const etaText = $<HTMLSpanElement>('eta');
const progressBar = $<HTMLProgressElement>('progress');
const errorBox = $<HTMLDivElement>('error');
const samplesCanvas = $<HTMLCanvasElement>('samples');
const samplesCaption = $<HTMLElement>('samples-caption');
const chartsBox = $<HTMLDivElement>('charts');
const stripCanvas = $<HTMLCanvasElement>('strip');
const stripFigure = $<HTMLElement>('strip-figure');

const IMAGES = 2000;
const PIXELS = 784;
const GRID_PADDING = 2;
const BATCH = 64;
/** The PixelCNN draws 4x4 samples: 784 passes of the network over 16 images. */
const PIXEL_CNN_GRID = 4;
/** DDIM steps of the diffusion demo's samples. */
const DIFFUSION_STEPS = 20;
/** The denoising strip shows every 4th of the 21 states x_T … x₀ (6 tiles). */
const STRIP_EVERY = 4;
const STEPS_PER_EPOCH = Math.floor(IMAGES / BATCH); // 31: the last partial batch is dropped
/**
 * Samples are redrawn at most this often (each draw runs the generator on 64 points and reads
 * 58,564 values back), and at most every ten times as long as a draw takes (slow backends).
 */
const SAMPLE_EVERY_MS = 1000;
/** Steps/s is measured over the steps of the last few seconds. */
const SPEED_WINDOW_MS = 4000;

type ModelName = 'vae' | 'gan' | 'pixelcnn' | 'diffusion';
type BackendName = 'webgl' | 'webgpu' | 'wasm' | 'cpu';

/**
 * Per model: the default length, and after about how many steps the samples are recognisable
 * digits. Measured with test-browser/digits.ts, the judge the browser suite applies to the
 * page's samples (see examples/browser/README.md): the VAE passes it from about step 50, the
 * GAN from about step 700 to 900; the numbers below leave some margin.
 */
interface ModelSpec {
  label: string;
  what: string;
  epochs: number;
  recognisableAfter: number;
  charts: { title: string; series: string[] }[];
  /** Samples per row and column of the grid. */
  grid: number;
  /** Whether samples are drawn while training (every second or so) or only when a run ends (slow samplers). */
  sampleWhileTraining: boolean;
  /** The sentence at the top, given the time estimate and the device's speed key (or the default digits sentence). */
  sentence?: (estimate: string, speedKey: string) => string;
}

const MODELS: Record<ModelName, ModelSpec> = {
  vae: {
    label: 'VAE',
    grid: 8,
    sampleWhileTraining: true,
    what: 'a variational autoencoder (MLP encoder and decoder, 8-d latent space)',
    epochs: 15,
    recognisableAfter: 60,
    charts: [
      { title: 'reconstruction (nats per image)', series: ['reconstruction'] },
      { title: 'KL divergence (nats per image)', series: ['kl'] },
    ],
  },
  gan: {
    label: 'GAN',
    grid: 8,
    sampleWhileTraining: true,
    what: 'a GAN (MLP generator and discriminator, non-saturating loss)',
    epochs: 50,
    recognisableAfter: 1000,
    charts: [{ title: 'GAN losses', series: ['discriminator', 'generator'] }],
  },
  // Measured in Node on wasm with the same net, data and seed: the loss falls from about 540
  // to about 90 nats per image by step 50; 16 samples take 784 network passes (9 s on wasm).
  pixelcnn: {
    label: 'PixelCNN',
    what: 'a small PixelCNN (a 7×7 masked convolution and 2 residual blocks of masked 3×3 convolutions, 16 channels)',
    epochs: 5,
    recognisableAfter: 60,
    grid: PIXEL_CNN_GRID,
    sampleWhileTraining: false,
    charts: [{ title: 'negative log-likelihood (nats per image)', series: ['nll'] }],
    sentence: (estimate, speedKey) =>
      `Trains a small PixelCNN, an autoregressive model that predicts each pixel from the pixels above and to its left, on 2,000 MNIST digits binarized at 0.5, right here in the tab: ` +
      `its loss falls from about 540 to about 90 nats per image within about 60 steps, ${estimate}. ` +
      `When training stops or finishes it draws ${PIXEL_CNN_GRID * PIXEL_CNN_GRID} samples pixel by pixel (784 passes of the network: about 6 s on wasm` +
      `${speedKey.startsWith('software') ? '; more than 5 minutes on this software renderer, and training is as slow: choose wasm' : ''}); ` +
      `a net this small sees only a small neighbourhood, so expect digit-like strokes rather than clean digits.`,
  },
  // An MLP denoiser rather than nets.unet: the smallest useful UNet (8 base channels, 40 k
  // weights) took about 3 s a step on wasm in Node, against about 0.06 s for this MLP, and a
  // diffusion model needs hundreds of steps. Measured in Node on wasm (same model, data, seed):
  // blurry digit-like shapes from about step 800, a few recognisable (in headless Chromium on
  // wasm, 930 steps took 41 s).
  diffusion: {
    label: 'Diffusion',
    what: 'a denoising diffusion model (an MLP denoiser with a sinusoidal time embedding, x₀-prediction, cosine schedule)',
    epochs: 30,
    recognisableAfter: 800,
    grid: 8,
    sampleWhileTraining: true,
    charts: [{ title: 'denoising loss (min-SNR-5 weighted MSE)', series: ['loss'] }],
    sentence: (estimate, speedKey) =>
      `Trains a small denoising diffusion model (an MLP that predicts the clean image from a noisy one and the noise level) on 2,000 MNIST digits right here in the tab, ` +
      `and draws 64 samples from fixed noise with DDIM in 20 denoising steps, plus the denoising of the first one step by step: ` +
      `they turn from noise into blurry digit-like shapes, a few of them recognisable, after about 800 steps, ${estimate}${speedKey.startsWith('software') ? ': wasm is about 15 times faster here' : ''}. ` +
      `An MLP rather than a UNet because a UNet step is about 50 times slower on the CPU.`,
  },
};

/**
 * Rough training speed (steps/s) before anything is measured, for the sentence at the top;
 * replaced by the measured speed once training runs. Software renderers and wasm were timed in
 * headless Chromium on a 2-core machine; the GPU figure is a conservative guess.
 */
const PRIOR_SPEED: Record<string, Record<ModelName, number>> = {
  gpu: { vae: 30, gan: 20, pixelcnn: 20, diffusion: 20 },
  'software webgl': { vae: 5, gan: 3, pixelcnn: 0.15, diffusion: 1.5 },
  'software webgpu': { vae: 2, gan: 1.5, pixelcnn: 0.05, diffusion: 1 },
  wasm: { vae: 15, gan: 8, pixelcnn: 5, diffusion: 20 },
  cpu: { vae: 2, gan: 1, pixelcnn: 0.1, diffusion: 1 },
};

// The wasm binaries are copied next to the page by vite.config.ts.
setWasmPaths(new URL('./wasm/', location.href).href);
// wasm runs threaded when the page is cross-origin isolated (COOP/COEP headers, set by
// vite.config.ts); tfjs-backend-wasm then uses half the logical cores (at most 8).
if ('gpu' in navigator) backendSelect.add(new Option('webgpu', 'webgpu'));
// The grid's layout, for whoever reads the canvas back (the browser suite's digit judge).
samplesCanvas.dataset['columns'] = String(MODELS.vae.grid);
samplesCanvas.dataset['padding'] = String(GRID_PADDING);

interface Session {
  backend: BackendName;
  model: ModelName;
  trainer: train.Trainer;
  generator: tfl.LayersModel;
  images: tf.Tensor;
  /** Draws the grid's samples, and (diffusion) a strip of one sample's denoising `[k, 28, 28, 1]` (the caller disposes them). */
  sample(): Promise<{ samples: tf.Tensor; strip?: tf.Tensor }>;
  /** Copies one step's logs into `series`. */
  record(step: number, logs: train.Logs): void;
  /** Per series, value `i` is the loss of step `i` (index 0 is NaN: steps count from 1). */
  series: Record<string, number[]>;
  /** Target epoch of the current (or last) run. */
  targetEpoch: number;
  /** Milliseconds spent training (over every run of the session), and the step timestamps. */
  trainedMs: number;
  stepTimes: { step: number; at: number }[];
  firstStepMs?: number;
  sampledAt: number;
  /** How long the last sample draw took. */
  sampleMs: number;
  sampledStep: number;
  dispose(): void;
}

let pixels: Uint8Array | undefined;
let session: Session | undefined;
let running: { abort: AbortController; startedAt: number } | undefined;
/** The device behind the chosen backend, described once (renderer name, threads). */
const described: Partial<Record<BackendName, { text: string; speedKey: string }>> = {};

function showError(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  errorBox.textContent = `Error: ${message}`;
  errorBox.hidden = false;
  console.error(e);
}

window.addEventListener('error', (event) => showError(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showError(event.reason));

async function loadPixels(): Promise<Uint8Array> {
  const response = await fetch(new URL('./mnist-train-2000.bin', location.href));
  if (!response.ok) throw new Error(`could not load mnist-train-2000.bin (HTTP ${response.status})`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== IMAGES * PIXELS) throw new Error(`mnist-train-2000.bin has ${bytes.length} bytes, expected ${IMAGES * PIXELS}`);
  return bytes;
}

/** The WebGL renderer's name (e.g. "SwiftShader", or a GPU's), read without touching tfjs' context. */
function webglRenderer(): string {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return 'unavailable';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

const isSoftware = (renderer: string) => /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);

/** Describes the device behind `backend` (before it starts, so the estimate can be shown). */
async function describeDevice(backend: BackendName): Promise<{ text: string; speedKey: string }> {
  if (described[backend]) return described[backend];
  let result: { text: string; speedKey: string };
  if (backend === 'webgl') {
    const renderer = webglRenderer();
    result = isSoftware(renderer)
      ? {
          text: `webgl on ${renderer}: a software renderer on the CPU, no GPU (wasm is several times faster here)`,
          speedKey: 'software webgl',
        }
      : { text: `webgl on ${renderer}`, speedKey: 'gpu' };
  } else if (backend === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
    const info = (await gpu?.requestAdapter())?.info ?? {};
    const name = [info['vendor'], info['architecture'], info['description']].filter(Boolean).join(' ') || 'unknown adapter';
    result =
      isSoftware(name) || /swiftshader/i.test(info['architecture'] ?? '')
        ? { text: `webgpu on ${name}: a software adapter, no GPU`, speedKey: 'software webgpu' }
        : { text: `webgpu on ${name}`, speedKey: 'gpu' };
  } else if (backend === 'wasm') {
    const threads = crossOriginIsolated ? Math.min(8, Math.max(1, Math.floor(navigator.hardwareConcurrency / 2))) : 1;
    result = { text: `wasm on the CPU, about ${threads} thread(s)`, speedKey: 'wasm' };
  } else {
    result = { text: 'cpu: plain JavaScript, one thread (the slowest; for reference)', speedKey: 'cpu' };
  }
  described[backend] = result;
  return result;
}

const count = (n: number) => n.toLocaleString('en-US');

const seconds = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
};

/** Steps per second over the last SPEED_WINDOW_MS of training (undefined before 3 steps). */
function speed(s: Session): number | undefined {
  const times = s.stepTimes;
  if (times.length < 3) return undefined;
  const last = times[times.length - 1]!;
  let first = times[0]!;
  for (const t of times) {
    if (last.at - t.at <= SPEED_WINDOW_MS) {
      first = t;
      break;
    }
  }
  if (first === last) first = times[times.length - 2]!;
  return (last.step - first.step) / ((last.at - first.at) / 1000);
}

/** The sentence at the top: what the page does, and roughly when digits appear on this backend. */
async function describeRun(): Promise<void> {
  const model = modelSelect.value as ModelName;
  const backend = backendSelect.value as BackendName;
  const spec = MODELS[model];
  const device = await describeDevice(backend);
  const same = session && session.model === model && session.backend === backend ? session : undefined;
  const live = same ? speed(same) : undefined;
  const rate = live ?? PRIOR_SPEED[device.speedKey]![model];
  // The first step includes compiling shaders (webgl, webgpu) or warming up the kernels.
  const compileMs = same?.firstStepMs ?? (backend === 'webgl' || backend === 'webgpu' ? 5000 : 1000);
  const estimate = compileMs + (spec.recognisableAfter / rate) * 1000;
  const when = `roughly ${seconds(estimate)} on this backend (${live ? `at the measured ${live.toFixed(1)} steps/s` : `a guess for ${device.speedKey}; refined once training runs`})`;
  aboutText.textContent = spec.sentence
    ? spec.sentence(when, device.speedKey)
    : `Trains ${spec.what} on 2,000 handwritten MNIST digits right here in the tab and draws 64 samples from it as it learns: ` +
      `they turn from noise into recognisable digits after about ${count(spec.recognisableAfter)} steps, ` +
      `${when}.`;
  backendText.textContent = device.text;
}

async function startSession(backend: BackendName, model: ModelName): Promise<Session> {
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  const info = await backends.use(backend);
  if (info.name === 'wasm') {
    described.wasm = { text: `wasm on the CPU · ${info.threads} thread(s)${info.simd ? ' · SIMD' : ''}`, speedKey: 'wasm' };
    backendText.textContent = described.wasm.text;
  }
  // VAE: pixels in [0, 1] (Bernoulli likelihood); GAN and diffusion: [-1, 1]; PixelCNN:
  // binarized at 0.5, as images [28, 28, 1].
  const images = tf.tidy(() => {
    const x = tf.div(tf.tensor2d(pixels!, [IMAGES, PIXELS], 'int32'), 255);
    if (model === 'pixelcnn') return tf.reshape(tf.cast(tf.greater(x, 0.5), 'float32'), [IMAGES, 28, 28, 1]);
    return model === 'vae' ? x : tf.sub(tf.mul(x, 2), 1);
  });
  const common = { backend, model, images, targetEpoch: 0, trainedMs: 0, stepTimes: [], sampledAt: 0, sampleMs: 0, sampledStep: -1 };
  const grid = MODELS[model].grid;
  /** Copies the named logs into `series`. */
  const recorder = (series: Record<string, number[]>) => (step: number, logs: train.Logs) => {
    for (const name of Object.keys(series)) series[name]![step] = logs[name]!;
  };
  if (model === 'diffusion') {
    const denoiser = mlpDenoiser(256, 1);
    const optimizer = tf.train.adam(2e-3);
    const schedule = diffusion.noiseSchedule({ kind: 'cosine' });
    const trainer = new train.DiffusionTrainer({
      model: denoiser,
      optimizer,
      schedule,
      prediction: 'x0',
      minSnrGamma: 5,
      clipNorm: 1,
      ema: { decay: 0.99, warmup: true },
      sampler: { sampler: 'ddim', steps: DIFFUSION_STEPS, clipSample: 1 },
      dataShape: [PIXELS],
      seed: 1,
    });
    const series = { loss: [NaN] };
    return {
      ...common,
      trainer,
      generator: denoiser,
      series,
      // The same seed each time: the same x_T, so the grid shows one set of samples improving.
      // With the EMA weights (what trainer.sample uses), keeping the trajectory for the strip.
      sample: () =>
        trainer.withSamplingWeights(async () => {
          const options: diffusion.SampleOptions = {
            schedule,
            shape: [grid * grid, PIXELS],
            prediction: 'x0',
            steps: DIFFUSION_STEPS,
            clipSample: 1,
            seed: 7,
            trajectory: true,
          };
          const { samples, trajectory = [] } = await diffusion.sample(denoiser, options);
          // The first sample at every STRIP_EVERY-th step: x_T, ..., x₀.
          const strip = tf.tidy(() =>
            tf.stack(
              trajectory.filter((_, k) => k % STRIP_EVERY === 0).map((x) => tf.reshape(tf.slice(x, [0, 0], [1, PIXELS]), [28, 28, 1])),
            ),
          );
          tf.dispose(trajectory);
          return { samples, strip };
        }),
      record: recorder(series),
      dispose: () => (denoiser.dispose(), optimizer.dispose()),
    };
  }
  if (model === 'pixelcnn') {
    const pixelCnn = nets.pixelCnn({ imageShape: [28, 28, 1], filters: 16, layers: 2, levels: 2, seed: 1 });
    const optimizer = train.fusedAdam({ learningRate: 3e-3 });
    const trainer = new train.ModelTrainer({
      models: { pixelCnn },
      optimizer,
      // Mean nats per pixel (what is minimised); the chart shows it per image (× 784).
      loss: ({ x }, { models }) => ({
        crossEntropy: losses.autoregressive.crossEntropy(
          models.pixelCnn.apply(x, { training: true }) as tf.Tensor,
          autoregressive.pixelTargets(x, 2),
        ),
      }),
      sampleRange: '[0,1]',
      seed: 1,
    });
    const series: Record<string, number[]> = { nll: [NaN] };
    return {
      ...common,
      trainer,
      generator: pixelCnn,
      series,
      sample: async () => ({ samples: await autoregressive.samplePixels(pixelCnn, { n: grid * grid, seed: 7 }) }),
      record: (step, logs) => void (series['nll']![step] = logs['crossEntropy']! * PIXELS),
      dispose: () => (pixelCnn.dispose(), optimizer.dispose()),
    };
  }
  if (model === 'vae') {
    const latentDim = 8;
    const encoder = vae.mlpEncoder({ inputShape: [PIXELS], latentDim, widths: [256], seed: 1 });
    const decoder = vae.mlpDecoder({ latentDim, outputShape: [PIXELS], widths: [256], seed: 2 });
    const full = vae.assemble({ encoder, decoder });
    // 5e-3 rather than Adam's usual 1e-3: digits after about 50 steps instead of 250 (and still
    // better than 3e-3 at the end of the default 15 epochs).
    const optimizer = tf.train.adam(5e-3);
    const trainer = new train.VaeTrainer({ model: full, decoder, optimizer, seed: 1 });
    const noise = tf.randomNormal([grid * grid, latentDim], 0, 1, 'float32', 7) as tf.Tensor2D;
    const series = { reconstruction: [NaN], kl: [NaN] };
    return {
      ...common,
      trainer,
      generator: decoder,
      series,
      sample: async () => ({ samples: await trainer.sample(noise) }),
      record: recorder(series),
      dispose: () => (full.dispose(), optimizer.dispose(), noise.dispose()),
    };
  }
  const latentDim = 32;
  const generator = nets.mlpGenerator({ latentDim, outputShape: [PIXELS], widths: [128, 256], seed: 1 });
  const discriminator = nets.mlpDiscriminator({ inputShape: [PIXELS], widths: [256, 128], seed: 2 });
  // 5e-4 rather than DCGAN's 2e-4: digits after about 800 steps instead of 1,200 to 2,000.
  const [generatorOptimizer, discriminatorOptimizer] = [tf.train.adam(5e-4, 0.5), tf.train.adam(5e-4, 0.5)];
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer,
    discriminatorOptimizer,
    seed: 1,
  });
  const noise = tf.randomNormal([grid * grid, latentDim], 0, 1, 'float32', 7) as tf.Tensor2D;
  const series = { discriminator: [NaN], generator: [NaN] };
  const dispose = () => {
    noise.dispose();
    generator.dispose();
    discriminator.dispose();
    generatorOptimizer.dispose();
    discriminatorOptimizer.dispose();
  };
  return {
    ...common,
    trainer,
    generator,
    series,
    sample: async () => ({ samples: await trainer.sample(noise) }),
    record: recorder(series),
    dispose,
  };
}

/**
 * The diffusion demo's denoiser: x_t `[B, 784]` and t `[B, 1]` to x̂₀ `[B, 784]`. A sinusoidal
 * time embedding (`layers.TimeEmbedding`) through a dense layer is added to the input of each of
 * three residual dense blocks (width `width`).
 */
function mlpDenoiser(width: number, seed: number): tfl.LayersModel {
  const x = tfl.input({ shape: [PIXELS], name: 'x_t' });
  const t = tfl.input({ shape: [1], name: 't' });
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 100 + k });
  const time = tfl.layers
    .dense({ units: width, activation: 'swish', kernelInitializer: init(0) })
    .apply(new layers.TimeEmbedding({ dim: 64 }).apply(t)) as tfl.SymbolicTensor;
  let h = tfl.layers.dense({ units: width, kernelInitializer: init(1) }).apply(x) as tfl.SymbolicTensor;
  for (let i = 0; i < 3; i++) {
    const inner = tfl.layers
      .dense({ units: width, activation: 'relu', kernelInitializer: init(2 + 2 * i) })
      .apply(tfl.layers.add().apply([h, time])) as tfl.SymbolicTensor;
    h = tfl.layers
      .add()
      .apply([
        h,
        tfl.layers.dense({ units: width, kernelInitializer: init(3 + 2 * i) }).apply(inner) as tfl.SymbolicTensor,
      ]) as tfl.SymbolicTensor;
  }
  const out = tfl.layers
    .dense({ units: PIXELS, kernelInitializer: init(9) })
    .apply(tfl.layers.activation({ activation: 'relu' }).apply(h)) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [x, t], outputs: out, name: 'mlp_denoiser' });
}

function endSession(): void {
  stripFigure.hidden = true;
  if (!session) return;
  session.dispose();
  session.images.dispose();
  session = undefined;
}

/**
 * Draws the samples as a grid (2 px grey lines between tiles): 64 from fixed latent points
 * (VAE, GAN), or 16 drawn pixel by pixel with a fixed seed (PixelCNN).
 */
async function drawSamples(s: Session): Promise<void> {
  const started = performance.now();
  const step = s.trainer.step;
  const columns = MODELS[s.model].grid;
  const { samples: sampled, strip } = await s.sample();
  if (strip) drawStrip(strip);
  const grid = tf.tidy(() => {
    const x = tf.reshape(sampled, [columns * columns, 28, 28, 1]) as tf.Tensor4D;
    return tf.mul(data.imageGrid(x, { columns, padding: GRID_PADDING, padValue: 0.3, range: s.trainer.sampleRange }), 255);
  });
  sampled.dispose();
  const [height, width] = grid.shape;
  const values = await grid.data();
  grid.dispose();
  const image = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = values[i]!;
    image.data[4 * i + 3] = 255;
  }
  [samplesCanvas.width, samplesCanvas.height] = [width, height];
  samplesCanvas.getContext('2d')!.putImageData(image, 0, 0);
  s.sampledAt = performance.now();
  s.sampleMs = s.sampledAt - started;
  s.sampledStep = step;
  samplesCanvas.dataset['step'] = String(step);
  samplesCanvas.dataset['columns'] = String(columns);
  samplesCaption.textContent =
    s.model === 'pixelcnn'
      ? `${columns * columns} samples drawn pixel by pixel at step ${step} (784 passes of the network in ${seconds(s.sampleMs)}; drawn when training stops or finishes)`
      : s.model === 'diffusion'
        ? `64 samples from fixed noise, ${DIFFUSION_STEPS} DDIM steps each, drawn at step ${step}`
        : `64 samples from fixed latent points, drawn at step ${step}`;
}

/** Draws the diffusion strip (x_T on the left, x₀ on the right) and disposes it. */
function drawStrip(strip: tf.Tensor): void {
  const grid = tf.tidy(() =>
    tf.mul(data.imageGrid(strip as tf.Tensor4D, { columns: strip.shape[0], padding: GRID_PADDING, padValue: 0.3, range: '[-1,1]' }), 255),
  );
  strip.dispose();
  const [height, width] = grid.shape;
  const values = grid.dataSync();
  grid.dispose();
  const image = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = values[i]!;
    image.data[4 * i + 3] = 255;
  }
  [stripCanvas.width, stripCanvas.height] = [width, height];
  stripCanvas.getContext('2d')!.putImageData(image, 0, 0);
  stripFigure.hidden = false;
}

/** Whether to draw samples now: every second, but spending at most about a tenth of the time on it. */
function sampleDue(s: Session, step: number, now: number): boolean {
  if (!MODELS[s.model].sampleWhileTraining) return false;
  return step === 1 || now - s.sampledAt >= Math.max(SAMPLE_EVERY_MS, 10 * s.sampleMs);
}

/** Everything that shows the run's progress, updated together once per frame (so nothing lags). */
function render(): void {
  const s = session;
  const step = s?.trainer.step ?? 0;
  const target = s ? s.targetEpoch * STEPS_PER_EPOCH : Number(epochsInput.value) * STEPS_PER_EPOCH;
  const trainedMs = s ? s.trainedMs + (running ? performance.now() - running.startedAt : 0) : 0;
  const rate = s ? speed(s) : undefined;
  stepText.textContent = `${count(step)} / ${count(target)}`;
  stepText.dataset['step'] = String(step);
  // The epoch in progress (1-based), or the last one completed when between epochs and idle.
  const between = !running && s !== undefined && step === s.trainer.epoch * STEPS_PER_EPOCH;
  epochText.textContent = s
    ? `${Math.min(s.trainer.epoch + (between ? 0 : 1), s.targetEpoch)} / ${s.targetEpoch}`
    : `0 / ${epochsInput.value}`;
  speedText.textContent = rate === undefined ? '–' : rate.toFixed(1);
  elapsedText.textContent = seconds(trainedMs);
  etaText.textContent = running && rate ? seconds(((target - step) / rate) * 1000) : '–';
  progressBar.max = Math.max(target, 1);
  progressBar.value = step;
  chartsBox.dataset['step'] = String(step);
  // The last value of each series, for whoever checks the page (the browser suite: finite losses).
  chartsBox.dataset['losses'] = JSON.stringify(
    s ? Object.fromEntries(Object.entries(s.series).map(([name, values]) => [name, values[step] ?? null])) : {},
  );
  chartsBox.innerHTML = '';
  if (!s || step === 0) return;
  for (const chart of MODELS[s.model].charts) {
    const series = Object.fromEntries(chart.series.map((name) => [name, s.series[name]!]));
    const figure = document.createElement('figure');
    figure.innerHTML = data.lossPlotSvg(series, {
      width: 440,
      height: chart.series.length > 1 ? 300 : 220,
      title: chart.title,
      yLabel: 'loss',
      smoothing: 0.6,
    });
    chartsBox.append(figure);
  }
}

let frameRequested = false;
function requestRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    render();
  });
}

function setControls(state: 'idle' | 'running' | 'done'): void {
  const busy = state === 'running';
  trainButton.textContent = busy ? 'Stop' : state === 'done' ? 'Train more' : session && session.trainer.step > 0 ? 'Continue' : 'Train';
  backendSelect.disabled = modelSelect.disabled = epochsInput.disabled = busy;
  resetButton.disabled = busy || !session;
  saveButton.disabled = downloadButton.disabled = busy || !session;
}

async function run(): Promise<void> {
  const backend = backendSelect.value as BackendName;
  const model = modelSelect.value as ModelName;
  const epochs = Number(epochsInput.value);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1000)
    throw new Error(`epochs must be a whole number from 1 to 1000, received ${epochsInput.value}`);
  errorBox.hidden = true;
  if (!session || session.backend !== backend || session.model !== model) {
    endSession();
    phaseText.textContent = `starting ${backend}…`;
    session = await startSession(backend, model);
  }
  const s = session;
  // A finished run continues for another `epochs`; a stopped one resumes towards its target.
  if (s.trainer.epoch >= s.targetEpoch) s.targetEpoch = s.trainer.epoch + epochs;
  const gpu = backend === 'webgl' || backend === 'webgpu';
  const fresh = s.trainer.step === 0;
  phaseText.textContent = gpu && fresh ? 'compiling shaders (the first steps are slow)…' : 'training…';
  running = { abort: new AbortController(), startedAt: performance.now() };
  setControls('running');
  // Elapsed time keeps counting while the first step compiles (no step ends to trigger a render).
  const ticker = setInterval(requestRender, 500);
  render();
  s.stepTimes = [];
  const batches = data.batches(s.images, { batchSize: BATCH, shuffle: true, seed: 1, dropRemainder: true });
  let lastStep = s.trainer.step;
  // A Keras/tfjs-style callback (`onBatchEnd(batch, logs)`, as tfvis.show.fitCallbacks gives):
  // the trainers call it after every batch with the step's values in `logs`.
  const callback: train.Callback = {
    onBatchEnd: async (_batch, logs) => {
      const step = s.trainer.step;
      if (step === lastStep) return; // a skipped step (non-finite loss): no values to draw
      lastStep = step;
      const now = performance.now();
      s.record(step, logs);
      s.stepTimes.push({ step, at: now });
      if (s.stepTimes.length > 2000) s.stepTimes.splice(0, 1000);
      if (fresh && step === 1) s.firstStepMs = now - running!.startedAt;
      // The first steps and the first sample compile their shaders: say so until both are done.
      if (fresh && step === 3)
        phaseText.textContent = gpu ? `training… (the first step took ${seconds(s.firstStepMs ?? 0)}: shader compilation)` : 'training…';
      if (sampleDue(s, step, now)) await drawSamples(s);
      if (step === 3 || step % 20 === 0) void describeRun();
      requestRender();
    },
  };
  let outcome = 'stopped';
  try {
    const result = await s.trainer.fit(batches, { epochs: s.targetEpoch, callbacks: [callback], signal: running.abort.signal });
    if (!result.stopped) outcome = 'done';
  } catch (e) {
    outcome = 'failed';
    throw e;
  } finally {
    clearInterval(ticker);
    s.trainedMs += performance.now() - running.startedAt;
    running = undefined;
    if (s.trainer.step > 0 && s.sampledStep !== s.trainer.step) {
      if (!MODELS[s.model].sampleWhileTraining) {
        phaseText.textContent = `sampling ${MODELS[s.model].grid ** 2} images pixel by pixel (784 passes of the network)…`;
        trainButton.disabled = true;
      }
      try {
        await drawSamples(s);
      } finally {
        trainButton.disabled = false;
      }
    }
    phaseText.textContent =
      outcome === 'done'
        ? `done: ${s.targetEpoch} epochs (${s.trainer.step} steps) in ${seconds(s.trainedMs)}`
        : outcome === 'stopped'
          ? `stopped at step ${s.trainer.step}`
          : 'stopped by an error';
    setControls(outcome === 'done' ? 'done' : 'idle');
    render();
    void describeRun();
  }
}

trainButton.addEventListener('click', () => {
  if (running) {
    running.abort.abort();
    return;
  }
  run().catch(showError);
});

resetButton.addEventListener('click', () => {
  endSession();
  samplesCanvas.getContext('2d')!.clearRect(0, 0, samplesCanvas.width, samplesCanvas.height);
  samplesCanvas.dataset['step'] = '0';
  samplesCaption.textContent = 'samples appear here once training starts';
  errorBox.hidden = true;
  phaseText.textContent = 'ready';
  setControls('idle');
  render();
  void describeRun();
});

saveButton.addEventListener('click', () => {
  const s = session;
  if (!s) return;
  const url = `indexeddb://genblocks-${s.model}-generator`;
  s.generator.save(url).then((result) => {
    phaseText.textContent = `saved to ${url} (${result.modelArtifactsInfo.weightDataBytes} bytes of weights)`;
  }, showError);
});

downloadButton.addEventListener('click', () => {
  session?.generator.save(`downloads://genblocks-${session.model}-generator`).catch(showError);
});

function onSettingsChange(): void {
  if (session && (session.backend !== backendSelect.value || session.model !== modelSelect.value)) {
    phaseText.textContent = 'ready (the next Train starts a new model)';
  }
  if (!session) epochsInput.value = String(MODELS[modelSelect.value as ModelName].epochs);
  render();
  describeRun().catch(showError);
}
backendSelect.addEventListener('change', onSettingsChange);
modelSelect.addEventListener('change', onSettingsChange);
epochsInput.addEventListener('change', () => render());

epochsInput.value = String(MODELS[modelSelect.value as ModelName].epochs);
render();
describeRun().catch(showError);
loadPixels().then((bytes) => {
  pixels = bytes;
  phaseText.textContent = 'ready';
  trainButton.disabled = false;
}, showError);

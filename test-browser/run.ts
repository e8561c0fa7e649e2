/**
 * The browser suite: builds the in-page suite and the example with Vite, serves them
 * cross-origin isolated on localhost, runs them in headless Chromium (Debian `chromium`,
 * driven by playwright-core), prints every result and exits non-zero on any failure.
 *
 *   npm run test:browser            (node --import tsx test-browser/run.ts)
 *   CHROMIUM=/path/to/chrome npm run test:browser
 *
 * Configurations: webgl, webgl with WEBGL_FORCE_F16_TEXTURES, threaded wasm, webgpu (on
 * SwiftShader), threaded wasm against the built dist/, the wasm timing page with one thread per
 * core and with one thread (speed-up printed, never asserted), the example page with its
 * defaults for 60 s (samples judged digits by digits.ts, progress and charts checked), and the
 * example on wasm and webgpu (train, screenshot, not blank, save to IndexedDB, Reset).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';

import { buildExample, buildSuite } from './build.js';
import { digitJudge, selfCheckGrids, tilesFromRgba, type DigitJudge } from './digits.js';
import type { CheckResult } from './page/harness.js';
import { serveStatic } from './server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}test-browser/out`;
const executablePath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // WebGL on SwiftShader without a GPU (newer Chromium no longer falls back to it silently).
  '--enable-unsafe-swiftshader',
  // WebGPU (navigator.gpu) on Linux, here on SwiftShader's Vulkan.
  '--enable-unsafe-webgpu',
];
const PAGE_TIMEOUT_MS = 120_000;
const EXAMPLE_TIMEOUT_MS = 120_000;
/** `--only=webgl,f16,wasm,webgpu,dist,threads,demo,example,pixelcnn,diffusion`: run some configurations (all by default). */
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const enabled = (name: string) => !only || only.includes(name);

const results: CheckResult[] = [];
const envs: Record<string, unknown> = {};

/** Runs one configuration of the suite page and collects its results. */
async function runSuitePage(browser: Browser, base: string, query: string, path = 'suite'): Promise<CheckResult[]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const wasmFiles: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasmFiles.push(r.url().split('/').pop()!);
  });
  const label = `${path}?${query}`;
  const start = Date.now();
  try {
    await page.goto(`${base}/${path}/?${query}`);
    await page.waitForFunction(() => window.__genblocksResults !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS, polling: 250 });
    const out = (await page.evaluate(() => window.__genblocksResults))!;
    envs[label] = { ...out.env, ...(wasmFiles.length ? { wasmFiles } : {}), seconds: (Date.now() - start) / 1000 };
    const list: CheckResult[] = [...out.results];
    if (out.fatal) list.push({ name: `${label} › page`, ok: false, ms: 0, error: out.fatal });
    return list;
  } catch (e) {
    return [{ name: `${label} › page`, ok: false, ms: Date.now() - start, error: `${(e as Error).message}\n${errors.join('\n')}` }];
  } finally {
    if (errors.length) console.log(`[${label}] page errors:\n  ${errors.slice(0, 10).join('\n  ')}`);
    await context.close();
  }
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return errors;
}

/**
 * Luminance standard deviation below which a canvas counts as blank: an empty canvas with its
 * 1 px grey border measures about 4.5, the example's samples and curves about 20 to 35.
 */
const BLANK_STD = 12;

/** Standard deviation of the luminance of a PNG's pixels (0 for a blank image). */
function luminanceStd(png: Buffer): number {
  const { data, width, height } = PNG.sync.read(png);
  let s = 0;
  let s2 = 0;
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const y = 0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!;
    s += y;
    s2 += y * y;
  }
  const mean = s / n;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean));
}

/** The example's sample grid (the canvas itself, not a screenshot of it) as PNG bytes and as tiles for the digit judge. */
async function sampleGrid(page: Page): Promise<{ png: Buffer; tiles: Float32Array; step: number }> {
  const { url, step, columns, padding } = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#samples')!;
    return {
      url: canvas.toDataURL('image/png'),
      step: Number(canvas.dataset['step']),
      columns: Number(canvas.dataset['columns']),
      padding: Number(canvas.dataset['padding']),
    };
  });
  const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  const { data, width, height } = PNG.sync.read(png);
  return { png, tiles: tilesFromRgba(data, width, height, columns, columns, padding), step };
}

/** What the example shows besides the samples: its progress line and whether the charts have readable axes and keep up. */
async function pageReadout(page: Page) {
  // No named functions inside: tsx's esbuild would wrap them in a `__name` helper the page lacks.
  return page.evaluate(() => {
    const [text, charts] = [{} as Record<string, string>, Array.from(document.querySelectorAll('#charts svg'))];
    for (const id of ['speed', 'elapsed', 'eta', 'epoch', 'phase', 'error', 'samples-caption'])
      text[id] = document.getElementById(id)?.textContent ?? '';
    return {
      step: Number(document.getElementById('step')?.dataset['step']),
      chartStep: Number(document.getElementById('charts')?.dataset['step']),
      // The last value of every chart's series (JSON written by the page), and the samples' step.
      losses: JSON.parse(document.getElementById('charts')?.dataset['losses'] ?? '{}') as Record<string, number | null>,
      samplesStep: Number(document.querySelector<HTMLElement>('#samples')?.dataset['step']),
      caption: text['samples-caption']!,
      // lossPlotSvg's tick labels: at least 3 on each axis of every chart, and both axis titles.
      ticks: charts.map((svg) => [svg.querySelectorAll('.x-ticks text').length, svg.querySelectorAll('.y-ticks text').length]),
      axisLabels: charts.every(
        (svg) => svg.querySelector('.x-label')?.textContent === 'step' && svg.querySelector('.y-label')?.textContent,
      ),
      speed: text['speed']!,
      elapsed: text['elapsed']!,
      eta: text['eta']!,
      epoch: text['epoch']!,
      phase: text['phase']!,
      error: document.getElementById('error')?.hidden ? '' : text['error']!,
    };
  });
}

/** How long the default run trains before its samples are judged (from the click on Train). */
const DEFAULT_RUN_MS = 60_000;

/**
 * The example as a first-time visitor meets it: default backend (webgl, here SwiftShader),
 * model and length; Train; 60 s later Stop. The samples must then be digits by the judge of
 * digits.ts, while the first samples drawn (step 1) must not be; the page must have said what
 * it does and how long it takes, shown "compiling shaders" during the first steps, steps/s,
 * elapsed time, epoch and ETA, and charts with tick labels that are as far as the step counter.
 */
async function runDefaultExample(browser: Browser, base: string, judge: DigitJudge): Promise<CheckResult> {
  const name = `example › default settings for ${DEFAULT_RUN_MS / 1000} s: explains itself, shows progress and compiling shaders, charts with axes keep up, samples turn from noise into digits (digit judge), Stop, save`;
  const context = await browser.newContext({ viewport: { width: 1040, height: 1000 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const start = Date.now();
  const problems: string[] = [];
  const expect = (ok: unknown, what: string) => void (ok || problems.push(what));
  try {
    await page.goto(`${base}/example/`);
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#train')?.disabled, undefined, { timeout: 30_000 });
    const about = (await page.textContent('#about')) ?? '';
    const backend = (await page.textContent('#backend-info')) ?? '';
    expect(
      /recognisable digits after about [\d,]+ steps, roughly \d+ (s|min)/.test(about),
      `the sentence at the top gives no step count and time: "${about}"`,
    );
    await page.click('#train');
    const clicked = Date.now();
    // Shown from the start of the run until step 3 on webgl: polled every animation frame.
    const compiling = await page
      .waitForFunction(() => document.querySelector('#phase')?.textContent?.includes('compiling shaders'), undefined, { timeout: 15_000 })
      .then(
        () => true,
        () => false,
      );
    expect(compiling, '"compiling shaders" never shown');
    mkdirSync(outDir, { recursive: true });
    // What the visitor sees meanwhile (the main thread may be busy compiling: best effort).
    if (compiling) await page.screenshot({ path: `${outDir}/example-default-compiling.png`, timeout: 10_000 }).catch(() => undefined);
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('#samples')?.dataset['step']) >= 1, undefined, {
      timeout: 60_000,
    });
    const first = await sampleGrid(page);
    const firstVerdict = judge.judge(first.tiles);
    writeFileSync(`${outDir}/example-default-first-samples.png`, first.png);
    expect(!firstVerdict.digits, `the first samples (step ${first.step}) already pass the digit judge: the judge cannot tell`);
    // Half way: the progress line is filled in and the charts are exactly as far as the step counter.
    await page.waitForTimeout(Math.max(0, DEFAULT_RUN_MS / 2 - (Date.now() - clicked)));
    const mid = await pageReadout(page);
    expect(mid.step > 3 && mid.chartStep === mid.step, `charts at step ${mid.chartStep} while the counter shows ${mid.step}`);
    expect(
      mid.ticks.length >= 1 && mid.ticks.every(([x, y]) => x! >= 3 && y! >= 3) && mid.axisLabels,
      `chart ticks ${JSON.stringify(mid.ticks)}, axis labels ${mid.axisLabels}`,
    );
    expect(
      /^\d+(\.\d)?$/.test(mid.speed) && /\d+ (s|min)/.test(mid.eta) && /\d+ (s|min)/.test(mid.elapsed) && /^\d+ \/ \d+$/.test(mid.epoch),
      `progress line: ${JSON.stringify(mid)}`,
    );
    expect(mid.phase.startsWith('training…'), `phase "${mid.phase}" half way`);
    await page.waitForTimeout(Math.max(0, DEFAULT_RUN_MS - (Date.now() - clicked)));
    await page.click('#train'); // Stop: handled between two training steps
    await page.waitForFunction(() => document.querySelector('#train')?.textContent === 'Continue', undefined, { timeout: 30_000 });
    const end = await pageReadout(page);
    const last = await sampleGrid(page);
    const verdict = judge.judge(last.tiles);
    writeFileSync(`${outDir}/example-default-samples.png`, last.png);
    writeFileSync(`${outDir}/example-default.png`, await page.screenshot({ fullPage: true }));
    expect(
      last.step === end.step && end.chartStep === end.step,
      `after Stop: samples of step ${last.step}, charts at ${end.chartStep}, counter ${end.step}`,
    );
    expect(
      verdict.digits,
      `samples at step ${last.step} are not digits: ${verdict.recognised}/${verdict.tiles} tiles recognised, ${verdict.labels} labels`,
    );
    expect(end.phase.startsWith('stopped at step'), `phase after Stop: "${end.phase}"`);
    expect(!end.error && errors.length === 0, `errors: ${end.error} ${errors.join(' | ')}`);
    await page.click('#save');
    await page.waitForFunction(() => document.querySelector('#phase')?.textContent?.startsWith('saved to indexeddb://'), undefined, {
      timeout: 30_000,
    });
    const ok = problems.length === 0;
    return {
      name,
      ok,
      ms: Date.now() - start,
      info: {
        backend,
        steps: end.step,
        stepsPerSecond: end.speed,
        firstSamples: `step ${first.step}: ${firstVerdict.recognised}/64 recognised, ${firstVerdict.labels} labels, median distance ${firstVerdict.medianDistance.toFixed(2)}`,
        samples: `step ${last.step}: ${verdict.recognised}/64 recognised, ${verdict.labels} labels, median distance ${verdict.medianDistance.toFixed(2)} (threshold ${judge.maxDistance.toFixed(2)})`,
        labels: verdict.tileLabels.map((l) => (l < 0 ? '.' : String(l))).join(''),
        screenshot: 'test-browser/out/example-default.png',
      },
      ...(ok ? {} : { error: problems.join('; ') }),
    };
  } catch (e) {
    return { name, ok: false, ms: Date.now() - start, error: `${(e as Error).message}\n${[...problems, ...errors].join('\n')}` };
  } finally {
    await context.close();
  }
}

/**
 * Opens the example, trains a few steps of `model` on `backend`, checks that the losses are
 * finite, the samples are drawn at the stopped step and not blank (and their caption matches
 * `caption`), the curves not blank; Stop, save, Reset.
 */
async function runExample(
  browser: Browser,
  base: string,
  backend: string,
  model: 'vae' | 'gan' | 'pixelcnn' | 'diffusion',
  minSteps: number,
  caption = /samples/,
  strip = false,
): Promise<CheckResult> {
  const name = `example › trains the ${{ vae: 'VAE', gan: 'GAN', pixelcnn: 'PixelCNN', diffusion: 'diffusion model' }[model]} on ${backend}: a bad setting shown in the page, finite losses, samples and loss curves drawn at the stopped step (screenshot not blank), stops on click, saves to IndexedDB, Reset clears`;
  const context = await browser.newContext({ viewport: { width: 1040, height: 1000 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const start = Date.now();
  try {
    await page.goto(`${base}/example/`);
    await page.selectOption('#backend', backend);
    await page.selectOption('#model', model);
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#train')?.disabled, undefined, { timeout: 30_000 });
    // A bad setting is reported in the page, not only in the console.
    const epochs = await page.inputValue('#epochs');
    await page.fill('#epochs', '0');
    await page.click('#train');
    await page.waitForFunction(() => !document.querySelector<HTMLElement>('#error')?.hidden, undefined, { timeout: 10_000 });
    const shownError = (await page.textContent('#error')) ?? '';
    const errorOk = /epochs must be a whole number from 1 to 1000, received 0/.test(shownError);
    errors.splice(0); // the console.error of that error is expected
    await page.fill('#epochs', epochs);
    await page.click('#train');
    // The page stays responsive while training: the step counter updates between steps.
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#step')?.dataset['step'] ?? 0) >= n, minSteps, {
      timeout: EXAMPLE_TIMEOUT_MS,
      polling: 200,
    });
    // Responsiveness while training (reported, not asserted): how late a 0 ms timer fires.
    const timerLatencyMs = await page.evaluate(async () => {
      const lags: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 0));
        lags.push(performance.now() - start);
      }
      return Math.max(...lags);
    });
    await page.click('#train'); // stop: the click is handled between training steps
    // Then the samples are drawn (the PixelCNN's pixel by pixel: 784 passes of the network).
    await page.waitForFunction(() => document.querySelector('#train')?.textContent === 'Continue', undefined, { timeout: 90_000 });
    const readout = await pageReadout(page);
    const lossValues = Object.values(readout.losses);
    const lossesOk = lossValues.length > 0 && lossValues.every((v) => typeof v === 'number' && Number.isFinite(v));
    // The diffusion model also draws its denoising strip (6 tiles of 28 + 7 gaps of 2 px).
    const stripWidth = await page.evaluate(() =>
      document.getElementById('strip-figure')?.hidden ? 0 : (document.getElementById('strip') as HTMLCanvasElement).width,
    );
    const samplesOk = readout.samplesStep === readout.step && caption.test(readout.caption) && (!strip || stripWidth === 6 * 28 + 7 * 2);
    await page.click('#save');
    await page.waitForFunction(() => document.querySelector('#phase')?.textContent?.startsWith('saved to indexeddb://'), undefined, {
      timeout: 30_000,
    });
    const saved = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    mkdirSync(outDir, { recursive: true });
    const full = await page.screenshot({ fullPage: true });
    writeFileSync(`${outDir}/example-${model}-${backend}.png`, full);
    const samples = await page.locator('#samples').screenshot();
    const curves = await page.locator('#charts').screenshot();
    writeFileSync(`${outDir}/example-${model}-${backend}-samples.png`, samples);
    const samplesStd = luminanceStd(samples);
    const curvesStd = luminanceStd(curves);
    const status = await page.textContent('#phase');
    // Reset: back to step 0, no charts, the button says Train again.
    await page.click('#reset');
    const reset = await page.evaluate(() => ({
      step: document.querySelector<HTMLElement>('#step')?.dataset['step'],
      charts: document.querySelectorAll('#charts svg').length,
      train: document.querySelector('#train')?.textContent,
    }));
    const resetOk = reset.step === '0' && reset.charts === 0 && reset.train === 'Train';
    const ok =
      samplesStd > BLANK_STD &&
      curvesStd > BLANK_STD &&
      errors.length === 0 &&
      !readout.error &&
      errorOk &&
      saved.includes('tensorflowjs') &&
      resetOk &&
      readout.chartStep === readout.step &&
      lossesOk &&
      samplesOk;
    return {
      name,
      ok,
      ms: Date.now() - start,
      info: {
        step: readout.step,
        stepsPerSecond: readout.speed,
        losses: readout.losses,
        caption: readout.caption,
        samplesStd,
        curvesStd,
        timerLatencyMs,
        status,
        indexedDb: saved,
        screenshot: `test-browser/out/example-${model}-${backend}.png`,
      },
      ...(ok
        ? {}
        : {
            error: `losses ${JSON.stringify(readout.losses)}; strip width ${stripWidth}; samples of step ${readout.samplesStep} at step ${readout.step}, caption "${readout.caption}"; samples std ${samplesStd.toFixed(2)}, curves std ${curvesStd.toFixed(2)} (blank below ${BLANK_STD}); error shown for epochs 0: "${shownError}"; IndexedDB databases ${saved}; after Reset ${JSON.stringify(reset)}; charts at step ${readout.chartStep} vs ${readout.step}; errors: ${readout.error} ${errors.join(' | ')}`,
          }),
    };
  } catch (e) {
    return { name, ok: false, ms: Date.now() - start, error: `${(e as Error).message}\n${errors.join('\n')}` };
  } finally {
    await context.close();
  }
}

/** The digit judge on grids whose answer is known (real digits pass, four kinds of non-digits fail). */
function judgeSelfCheck(judge: DigitJudge): CheckResult {
  const start = Date.now();
  const rows = selfCheckGrids().map((g) => ({ ...g, verdict: judge.judge(g.tiles) }));
  const wrong = rows.filter((r) => r.verdict.digits !== r.digits);
  const summary = Object.fromEntries(
    rows.map((r) => [
      r.name,
      `${r.verdict.digits ? 'digits' : 'not digits'} (${r.verdict.recognised}/64, ${r.verdict.labels} labels, median distance ${r.verdict.medianDistance.toFixed(2)})`,
    ]),
  );
  return {
    name: 'digit judge › passes real MNIST digits, fails uniform noise, blurred noise, shuffled digit pixels and 64 copies of the mean digit',
    ok: wrong.length === 0,
    ms: Date.now() - start,
    info: { threshold: judge.maxDistance, ...summary },
    ...(wrong.length ? { error: `wrong verdicts: ${wrong.map((r) => r.name).join(', ')}` } : {}),
  };
}

function fmt(x: unknown): string {
  return typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toPrecision(3)) : JSON.stringify(x);
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const [suiteDir, exampleDir] = [await buildSuite(), await buildExample()];
  // The built package too, when there is one (.ci/run builds it): the wasm page bundles dist/index.js.
  const withDist = enabled('dist') && existsSync(`${root}dist/index.js`);
  const distDir = withDist ? await buildSuite('dist') : `${root}test-browser/out/suite-dist`;
  console.log(`built suite${withDist ? ', suite from dist/' : ''} and example in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (!withDist && enabled('dist')) console.log('dist/index.js not found: the built-package page is skipped (run npm run build first)');
  const server = await serveStatic({
    '/suite/': suiteDir,
    '/suite-dist/': distDir,
    '/example/': exampleDir,
    '/wasm/': `${root}node_modules/@tensorflow/tfjs-backend-wasm/dist`,
  });
  const browser = await chromium.launch({ executablePath, args: LAUNCH_ARGS, timeout: 60_000 });
  try {
    console.log(`chromium ${browser.version()} at ${executablePath}, serving ${server.url}`);
    const configs: [string, string][] = [
      ['webgl', 'backend=webgl'],
      ['f16', 'backend=webgl&f16=1'],
      ['wasm', 'backend=wasm'],
      ['webgpu', 'backend=webgpu'],
    ];
    for (const [name, query] of configs) if (enabled(name)) results.push(...(await runSuitePage(browser, server.url, query)));
    if (withDist) results.push(...(await runSuitePage(browser, server.url, 'backend=wasm', 'suite-dist')));
    // Timings: one thread per core against one thread, alternated twice; the faster of each pair.
    const timings: Record<string, Record<string, unknown>[]> = { multi: [], single: [] };
    if (enabled('threads')) {
      for (let round = 0; round < 2; round++) {
        for (const [key, query] of [
          ['multi', 'backend=wasm&suite=threads'],
          ['single', 'backend=wasm&suite=threads&threads=1'],
        ] as const) {
          const list = await runSuitePage(browser, server.url, query);
          if (round === 0 || list.some((r) => !r.ok)) results.push(...list);
          const info = list.find((r) => r.info && 'matMulMs' in r.info)?.info;
          if (info) timings[key]!.push(info);
        }
      }
    }
    if (enabled('demo')) {
      const judge = digitJudge();
      results.push(judgeSelfCheck(judge));
      results.push(await runDefaultExample(browser, server.url, judge));
    }
    if (enabled('example')) {
      results.push(await runExample(browser, server.url, 'wasm', 'gan', 25));
      results.push(await runExample(browser, server.url, 'webgpu', 'vae', 10));
    }
    // The other families, a few steps each on wasm (the fastest backend without a GPU).
    if (enabled('example') || enabled('pixelcnn'))
      results.push(
        await runExample(browser, server.url, 'wasm', 'pixelcnn', 4, /16 samples drawn pixel by pixel at step \d+ \(784 passes/),
      );
    if (enabled('example') || enabled('diffusion'))
      results.push(
        await runExample(
          browser,
          server.url,
          'wasm',
          'diffusion',
          30,
          /64 samples from fixed noise, 20 DDIM steps each, drawn at step \d+/,
          true,
        ),
      );

    for (const r of results) {
      const info = r.info
        ? `  ${Object.entries(r.info)
            .map(([k, v]) => `${k}=${fmt(v)}`)
            .join(' ')}`
        : '';
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms.toFixed(0)} ms)${info}${r.ok ? '' : `\n     ${r.error}`}`);
    }
    for (const [label, env] of Object.entries(envs)) console.log(`env ${label}: ${JSON.stringify(env)}`);
    if (timings['multi']!.length && timings['single']!.length) {
      const best = (list: Record<string, unknown>[], k: string) => Math.min(...list.map((i) => Number(i[k])));
      const [multi, single] = [timings['multi']!, timings['single']!];
      const line = (k: string, what: string) =>
        `${what} ${best(multi, k).toFixed(2)} ms vs ${best(single, k).toFixed(2)} ms (speed-up ${(best(single, k) / best(multi, k)).toFixed(2)}x)`;
      console.log(
        `wasm threads: ${multi[0]!['threads']} (logical cores ${multi[0]!['logicalCores']}) vs ${single[0]!['threads']}: ` +
          `${line('matMulMs', 'matMul 512x512x512')}, ${line('conv2dMs', 'conv2d [8,28,28,32]*[3,3,32,64]')} (median of 25/15 calls, best of 2 page loads; not asserted)`,
      );
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  },
);

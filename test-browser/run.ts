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
 * core and with one thread (speed-up printed, never asserted), and the example page on webgl,
 * wasm and webgpu (train, screenshot, not blank, save to IndexedDB).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';

import { buildExample, buildSuite } from './build.js';
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
const EXAMPLE_TIMEOUT_MS = 90_000;
/** `--only=webgl,f16,wasm,webgpu,dist,threads,example`: run some configurations (all by default). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
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

/** Opens the example, trains a few steps on `backend`, and checks the samples are not blank. */
async function runExample(browser: Browser, base: string, backend: string, model: 'vae' | 'gan', minSteps: number): Promise<CheckResult> {
  const name = `example › trains the ${model.toUpperCase()} on ${backend}: samples and loss curves drawn (screenshot not blank), stops on click, saves to IndexedDB`;
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const start = Date.now();
  try {
    await page.goto(`${base}/example/`);
    await page.selectOption('#backend', backend);
    await page.selectOption('#model', model);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready', undefined, { timeout: 30_000 });
    await page.click('#train');
    // The page stays responsive while training: the step counter updates between steps.
    await page.waitForFunction((n) => Number(document.querySelector('#step')?.getAttribute('data-step') ?? 0) >= n, minSteps, { timeout: EXAMPLE_TIMEOUT_MS, polling: 200 });
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
    await page.waitForFunction(() => document.querySelector('#train')?.textContent?.includes('Train'), undefined, { timeout: 30_000 });
    const step = Number(await page.getAttribute('#step', 'data-step'));
    await page.click('#save');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('saved to indexeddb://'), undefined, { timeout: 30_000 });
    const saved = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    mkdirSync(outDir, { recursive: true });
    const full = await page.screenshot({ fullPage: true });
    writeFileSync(`${outDir}/example-${model}-${backend}.png`, full);
    const samples = await page.locator('#samples').screenshot();
    const curves = await page.locator('#curves').screenshot();
    writeFileSync(`${outDir}/example-${model}-${backend}-samples.png`, samples);
    const samplesStd = luminanceStd(samples);
    const curvesStd = luminanceStd(curves);
    const status = await page.textContent('#status');
    const ok = samplesStd > BLANK_STD && curvesStd > BLANK_STD && errors.length === 0 && saved.includes('tensorflowjs');
    return {
      name,
      ok,
      ms: Date.now() - start,
      info: { step, samplesStd, curvesStd, timerLatencyMs, status, indexedDb: saved, screenshot: `test-browser/out/example-${model}-${backend}.png` },
      ...(ok ? {} : { error: `samples std ${samplesStd.toFixed(2)}, curves std ${curvesStd.toFixed(2)} (blank below ${BLANK_STD}); IndexedDB databases ${saved}; errors: ${errors.join(' | ')}` }),
    };
  } catch (e) {
    return { name, ok: false, ms: Date.now() - start, error: `${(e as Error).message}\n${errors.join('\n')}` };
  } finally {
    await context.close();
  }
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
        for (const [key, query] of [['multi', 'backend=wasm&suite=threads'], ['single', 'backend=wasm&suite=threads&threads=1']] as const) {
          const list = await runSuitePage(browser, server.url, query);
          if (round === 0 || list.some((r) => !r.ok)) results.push(...list);
          const info = list.find((r) => r.info && 'matMulMs' in r.info)?.info;
          if (info) timings[key]!.push(info);
        }
      }
    }
    if (enabled('example')) {
      results.push(await runExample(browser, server.url, 'webgl', 'vae', 25));
      results.push(await runExample(browser, server.url, 'wasm', 'gan', 25));
      results.push(await runExample(browser, server.url, 'webgpu', 'vae', 25));
    }

    for (const r of results) {
      const info = r.info ? `  ${Object.entries(r.info).map(([k, v]) => `${k}=${fmt(v)}`).join(' ')}` : '';
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

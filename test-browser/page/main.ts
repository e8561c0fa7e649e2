/**
 * Entry of the in-page suite. The query string picks the configuration:
 * `?backend=webgl|wasm|webgpu`, `&f16=1` (WEBGL_FORCE_F16_TEXTURES), `&threads=N|default` (wasm thread
 * count; when absent, one per logical core; `default`: tfjs's own choice, half the cores),
 * `&suite=all|threads`. Results go to `window.__genblocksResults` (read by test-browser/run.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

import { backends } from '../../src/index.js';
import { check, group, results } from './harness.js';
import { ioChecks } from './suites/io.js';
import { ganLossChecks, largeLogitChecks, penaltyChecks, vaeLossChecks } from './suites/losses.js';
import { relaxedSimdChecks } from './suites/relaxed-simd.js';
import { threadChecks } from './suites/threads.js';
import { adamEpsilonReport, trainingChecks } from './suites/training.js';

async function main(): Promise<Record<string, unknown>> {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend') ?? 'webgl';
  const f16 = params.get('f16') === '1';
  const suite = params.get('suite') ?? 'all';
  const threads = params.get('threads');
  const fromDist = location.pathname.includes('/suite-dist/');
  const label = `${backend}${f16 ? ' (f16 textures)' : ''}${threads ? ` (threads=${threads})` : ''}${fromDist ? ' [dist/ build]' : ''}`;
  group(label);

  const logicalCores = navigator.hardwareConcurrency;
  if (backend === 'wasm') {
    // The .wasm binaries are served from node_modules/@tensorflow/tfjs-backend-wasm/dist/.
    setWasmPaths('/wasm/');
    if (threads !== 'default') {
      // tfjs-backend-wasm 4.22 caps its XNNPACK thread pool at navigator.hardwareConcurrency / 2
      // (it assumes two hyperthreads per core), so a 2-vCPU machine gets 1 thread whatever
      // setThreadsCount asks. To use one thread per logical core, the page reports twice the
      // cores to the wasm module while it starts (read once, when the module is instantiated).
      const count = threads ? Number(threads) : Math.min(8, logicalCores);
      Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * count, configurable: true });
      setThreadsCount(count);
    }
  }
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (f16) tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
  const info = await backends.use(backend as backends.BackendName);
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: logicalCores, configurable: true });
  const env: Record<string, unknown> = {
    backend: tf.getBackend(),
    crossOriginIsolated: self.crossOriginIsolated,
    userAgent: navigator.userAgent,
    describe: info,
  };
  if (backend === 'wasm') {
    env['threads'] = getThreadsCount();
    env['logicalCores'] = logicalCores;
    env['WASM_HAS_MULTITHREAD_SUPPORT'] = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    env['WASM_HAS_SIMD_SUPPORT'] = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  }
  if (backend === 'webgl') {
    env['WEBGL_VERSION'] = tf.env().getNumber('WEBGL_VERSION');
    env['WEBGL_RENDER_FLOAT32_ENABLED'] = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    env['WEBGL_FORCE_F16_TEXTURES'] = tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    env['renderer'] = gl && ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : 'unknown';
  }

  await check(`backends.use('${backend}') activates the backend`, () => {
    if (tf.getBackend() !== backend) throw new Error(`active backend is ${tf.getBackend()}`);
    if (backend === 'wasm' && threads !== 'default') {
      // The page is cross-origin isolated, so the threaded build runs with the threads asked for.
      const expected = threads ? Number(threads) : Math.min(8, logicalCores);
      if (!self.crossOriginIsolated) throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing)');
      if (env['threads'] !== expected) throw new Error(`wasm runs ${env['threads']} thread(s), expected ${expected}`);
    }
    return { threads: env['threads'] };
  });
  if (suite === 'threads') {
    await threadChecks();
    return env;
  }
  if (f16) {
    // Half-float textures: values are rounded to 11 significant bits and overflow past 65504.
    // The report states what happens; only finiteness at large logits is asserted.
    await largeLogitChecks('f16 textures', null, 100);
    await ganLossChecks({ rtol: 2e-3, gradAtol: 1e-4, noneAtol: 1e-4 });
    // Adam's default epsilon (1e-7) is below float16's normal range: after its first update,
    // where the second moment underflows to 0, m / (sqrt(v) + epsilon) becomes 0 / 0 = NaN.
    // Training checks run with epsilon 1e-4; the report shows what the default does.
    await adamEpsilonReport([undefined, 1e-7, 1e-4]);
    await trainingChecks((learningRate, beta1) => tf.train.adam(learningRate, beta1, 0.999, 1e-4));
    return env;
  }
  const float32 = { rtol: 1e-5, gradAtol: 1e-7, noneAtol: 1e-30 }; // the Node tests' tolerances
  await ganLossChecks(float32);
  await penaltyChecks({ ...float32, rtol: 1e-6 }); // penalties.test.ts: rtol 1e-6
  await vaeLossChecks(float32);
  if (backend === 'webgl' || backend === 'webgpu') await largeLogitChecks(`${backend} float32`, 1e-5, Infinity);
  await trainingChecks();
  await ioChecks(backend);
  if (backend === 'wasm') await relaxedSimdChecks();
  return env;
}

const log = document.getElementById('log')!;
main().then(
  (env) => {
    window.__genblocksResults = { env, results };
    log.textContent = JSON.stringify(window.__genblocksResults, null, 2);
  },
  (e: unknown) => {
    window.__genblocksResults = { env: {}, results, fatal: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
    log.textContent = String(e);
  },
);

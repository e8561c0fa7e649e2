/**
 * Packaging test: what npm users get. Packs the tarball (which runs the build) and installs it,
 * offline, into fresh temporary projects (test/package/install.mjs). There it
 * - imports the package as ESM and as CJS and runs a real genblocks op on the wasm backend;
 * - without the optional Node-only peers (pngjs, cli-progress), imports `genblocks/node` and
 *   gets errors naming the package to install when a function needs one;
 * - type-checks a consumer that uses every export of every entry (generated from the sources),
 *   and every ts block of the docs, with `skipLibCheck: false` under node16 (ESM and CJS),
 *   bundler and node10 resolution (test/package/consumer-types.mjs);
 * - bundles small browser programs with esbuild and checks genblocks' own size against budgets,
 *   and that a program that uses `losses` alone pulls in no trainer, kernel, metric or
 *   tfjs-layers code (test/package/bundles.mjs);
 * - builds a page that uses every family with esbuild, Vite and webpack 5, and expects no
 *   warning;
 * - checks that the import map of docs/saving-and-deploying.md maps every package the ES modules
 *   import, to files that exist in the installed packages, and loads genblocks through it in
 *   headless Chromium (WebGL) where the machine has Chromium (test/package/import-map-page.mjs).
 * `npm run check:package` runs this file after publint and are-the-types-wrong.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// @ts-expect-error plain .mjs helper shared with scripts/check-package.mjs
import { pack } from '../scripts/pack.mjs';
// @ts-expect-error plain .mjs helper
import { bundleSizes, esbuildWarnings, viteWarnings, webpackWarnings } from './package/bundles.mjs';
// @ts-expect-error plain .mjs helper
import { checkConsumerTypes } from './package/consumer-types.mjs';
// @ts-expect-error plain .mjs helper
import { CHROMIUM, runImportMapPage } from './package/import-map-page.mjs';
// @ts-expect-error plain .mjs helper
import { installTarball, ROOT } from './package/install.mjs';

let project = '';
let bare = ''; // installed without the optional peers pngjs and cli-progress

// Expected value: nonSaturating generator loss at logits 0 is softplus(0) = ln 2 (hand computed).
const LN2 = Math.log(2);

const ESM = `
import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, version, ArgumentError } from 'genblocks';
import { version as nodeVersion } from 'genblocks/node';
import * as lossesEntry from 'genblocks/losses';
const info = await backends.use('wasm');
if (!info.added.includes('Conv2DBackpropFilter')) throw new Error('training kernels missing: ' + JSON.stringify(info));
const t = losses.gan.nonSaturating.generator(tf.tensor1d([0, 0]));
let err = '';
try { losses.gan.nonSaturating.generator(tf.tensor1d([1], 'int32')); } catch (e) { err = e instanceof ArgumentError ? e.message : 'wrong class'; }
console.log(JSON.stringify({ backend: tf.getBackend(), version, nodeVersion, value: (await t.data())[0], err, sameLosses: lossesEntry.gan === losses.gan }));
`;

const CJS = `
const tf = require('@tensorflow/tfjs-core');
const { backends, losses, version } = require('genblocks');
const { version: nodeVersion } = require('genblocks/node');
const lossesEntry = require('genblocks/losses');
backends.use('wasm').then(async (info) => {
  if (!info.added.includes('Conv2DBackpropFilter')) throw new Error('training kernels missing');
  const t = losses.gan.nonSaturating.generator(tf.tensor1d([0, 0]));
  console.log(JSON.stringify({ backend: tf.getBackend(), version, nodeVersion, value: (await t.data())[0], sameLosses: lossesEntry.gan === losses.gan }));
});
`;

/** Without pngjs and cli-progress: genblocks/node still loads; the functions that need them say what to install. */
const WITHOUT_OPTIONAL_PEERS = `
import * as tf from '@tensorflow/tfjs-core';
import { backends, train } from 'genblocks';
import { encodePng, saveModel } from 'genblocks/node';
await backends.use('cpu');
const messages = {};
try { await encodePng(tf.zeros([2, 2])); } catch (e) { messages.png = e.message; }
try { await train.progressBar().onTrainBegin({ trainer: { step: 0 }, totalSteps: 1 }); } catch (e) { messages.progress = e.message; }
console.log(JSON.stringify({ saveModel: typeof saveModel, ...messages }));
`;

/** The bare specifiers a set of ES modules imports statically, following relative imports from `entry`. */
function bareImports(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)) {
      const specifier = m[1]!;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  visit(entry);
  return bare;
}

function run(cwd: string, file: string): Record<string, unknown> {
  const out = execFileSync('node', [file], { cwd, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('packed tarball', () => {
  beforeAll(() => {
    // check:package passes the tarball it already packed (and linted); otherwise pack one here.
    const tarball = process.env['GENBLOCKS_TARBALL'] ?? (pack() as string);
    project = installTarball(tarball) as string;
    bare = installTarball(tarball, { optionalPeers: false }) as string;
    writeFileSync(join(project, 'esm.mjs'), ESM);
    writeFileSync(join(project, 'cjs.cjs'), CJS);
    writeFileSync(join(bare, 'bare.mjs'), WITHOUT_OPTIONAL_PEERS);
  }, 300_000);

  afterAll(() => {
    for (const dir of [project, bare]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('works from ESM on the wasm backend', () => {
    const r = run(project, 'esm.mjs');
    expect(r.backend).toBe('wasm');
    expect(r.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.nodeVersion).toBe(r.version);
    expect(Math.abs((r.value as number) - LN2)).toBeLessThan(1e-6);
    expect(r.err).toMatch(/nonSaturating.*'fakeLogits' must be a float32 tensor/);
    expect(r.sameLosses).toBe(true); // genblocks/losses is the same module as genblocks' losses
  });

  it('works from CJS on the wasm backend', () => {
    const r = run(project, 'cjs.cjs');
    expect(r.backend).toBe('wasm');
    expect(r.nodeVersion).toBe(r.version);
    expect(Math.abs((r.value as number) - LN2)).toBeLessThan(1e-6);
    expect(r.sameLosses).toBe(true);
  });

  it('names the optional peer to install when pngjs or cli-progress is missing', () => {
    const r = run(bare, 'bare.mjs');
    expect(r.saveModel).toBe('function'); // genblocks/node itself loads without them
    expect(r.png).toMatch(/encodePng: writing PNG files needs the package 'pngjs'.*npm install pngjs/);
    expect(r.progress).toMatch(/train\.progressBar: .*'cli-progress'.*npm install cli-progress/);
  });

  it('has declarations that type-check for every export and every docs block (node16 ESM/CJS, bundler, node10)', () => {
    const { consumer, blocks, results } = checkConsumerTypes(project) as {
      consumer: string;
      blocks: unknown[];
      results: Array<{ name: string; files: string[]; errors: string[] }>;
    };
    // The generated consumer reaches the namespaced types of issue 15.
    expect(consumer).toMatch(/= train\.Callback;/);
    expect(consumer).toMatch(/= data\.IdxArray;/);
    expect(blocks.length).toBeGreaterThanOrEqual(20);
    expect(results.map((r) => r.name)).toEqual(['node16, ES module', 'node16, CommonJS', 'bundler', 'node (node10), CommonJS']);
    for (const r of results) expect(r.errors, `${r.name}:\n${r.errors.join('\n')}`).toEqual([]);
  }, 600_000);

  it('keeps bundles small: losses alone pulls in no trainer, kernel, metric or tfjs-layers code', async () => {
    const rows = (await bundleSizes(project)) as Array<{
      name: string;
      budget: number;
      gzip: number;
      minified: number;
      files: string[];
      external: string[];
      warnings: string[];
    }>;
    console.log(
      rows
        .map(
          (r) =>
            `${r.name}: ${(r.minified / 1000).toFixed(1)} kB min, ${(r.gzip / 1000).toFixed(1)} kB gzip (budget ${r.budget / 1000} kB)`,
        )
        .join('\n'),
    );
    for (const r of rows) {
      expect(r.warnings, r.name).toEqual([]);
      expect(r.gzip, `${r.name}: ${r.gzip} B gzip, over its budget of ${r.budget} B`).toBeLessThanOrEqual(r.budget);
    }
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    for (const name of ['losses', 'losses (genblocks/losses)', 'one loss']) {
      const { files, external } = byName[name]!;
      expect(
        files.filter((f) => /^(train|metrics|nets|vae|data|backends\/wasm)\/|kernel/.test(f)),
        name,
      ).toEqual([]);
      expect(files).toContain('losses/gan/non-saturating.js');
      expect(external, name).toEqual(['@tensorflow/tfjs-core']);
    }
    // The measure can fail: the full bundle does carry the kernels, and nets need tfjs-layers.
    expect(byName['everything']!.files).toContain('backends/wasm/install.js');
    expect(byName['nets']!.external).toContain('@tensorflow/tfjs-layers');
    expect(byName['nets']!.files.some((f) => f.startsWith('train/'))).toBe(false);
  }, 120_000);

  it('loads in a page through the import map of docs/saving-and-deploying.md', () => {
    const doc = readFileSync(join(ROOT as string, 'docs', 'saving-and-deploying.md'), 'utf8');
    const map = (JSON.parse(/<script type="importmap">\s*([\s\S]*?)<\/script>/.exec(doc)![1]!) as { imports: Record<string, string> })
      .imports;
    const modules = join(project, 'node_modules');
    const { version } = JSON.parse(readFileSync(join(modules, 'genblocks', 'package.json'), 'utf8')) as { version: string };
    expect(map['genblocks']).toBe(`https://cdn.jsdelivr.net/npm/genblocks@${version}/dist/index.js`);
    const imported = bareImports(join(modules, 'genblocks', 'dist', 'index.js'));
    expect([...imported].sort()).toEqual(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
    for (const [name, url] of Object.entries(map)) {
      if (name === 'genblocks') continue;
      const m = /^https:\/\/cdn\.jsdelivr\.net\/npm\/(@tensorflow\/[\w-]+)@([\d.]+)\/(.+)$/.exec(url);
      expect(m, url).not.toBeNull();
      const [, pkg, pkgVersion, path] = m!;
      expect(pkg).toBe(name);
      const installed = JSON.parse(readFileSync(join(modules, pkg!, 'package.json'), 'utf8')) as { version: string };
      expect(pkgVersion).toBe(installed.version);
      expect(existsSync(join(modules, pkg!, path!)), `${pkg}/${path}`).toBe(true);
      for (const dependency of bareImports(join(modules, pkg!, path!))) imported.add(dependency);
    }
    // Everything the page's modules import (genblocks' and tfjs' own) is in the map.
    for (const specifier of imported) expect(Object.keys(map), specifier).toContain(specifier);
  });

  // Headless Chromium (Debian's, as the browser suite uses) where this machine has it.
  it.skipIf(!existsSync(CHROMIUM as string))(
    'runs in a page without a bundler, through that import map (headless Chromium, WebGL)',
    async () => {
      const r = (await runImportMapPage(project)) as {
        backend?: string;
        shape?: number[];
        loss?: number;
        error?: string;
        pageErrors: string[];
      };
      expect(r.pageErrors).toEqual([]);
      expect(r.error).toBeUndefined();
      expect(r.backend).toBe('webgl');
      expect(r.shape).toEqual([22, 22, 1]); // 2×2 tiles of 8×8, default padding 2: rows·(h + padding) + padding = 2·10 + 2 = 22
      expect(Math.abs(r.loss! - LN2)).toBeLessThan(1e-5);
    },
    120_000,
  );

  it('builds without warnings with esbuild, Vite and webpack 5', async () => {
    type Built = { warnings: string[]; code: string };
    // Each bundle holds genblocks' code (the layer's registered name), and no bundler warned.
    const esbuilt = (await esbuildWarnings(project)) as Built;
    expect(esbuilt.warnings).toEqual([]);
    expect(esbuilt.code).toContain('genblocks>SpectralNormalization');
    const vite = (await viteWarnings(project)) as Built;
    expect(vite.warnings).toEqual([]);
    expect(vite.code).toContain('genblocks>SpectralNormalization');
    const webpack = (await webpackWarnings(project)) as Built | null;
    // webpack is a devDependency: CI (after `npm install`) always checks it; a checkout whose
    // node_modules predates it says so and checks the other two.
    if (webpack === null && !process.env['CI']) {
      console.warn('webpack is not installed (run npm install): its build was not checked');
    } else {
      // On the package before `webpackIgnore` was added, webpack 5 warned twice here:
      // "Critical dependency: the request of a dependency is an expression".
      expect(webpack!.warnings).toEqual([]);
      expect(webpack!.code).toContain('genblocks>SpectralNormalization');
    }
  }, 300_000);
});

// Loads genblocks in headless Chromium the way docs/saving-and-deploying.md tells a page without
// a bundler to: through the doc's own import map, with each CDN URL
// (https://cdn.jsdelivr.net/npm/<package>@<version>/<file>) served from the consumer project's
// node_modules (the installed tarball and tfjs), so nothing is downloaded. The page builds a
// generator (tfjs-layers), draws an image grid on a canvas, and computes a loss on WebGL.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

import { chromium } from 'playwright-core';

import { ROOT } from './install.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The import map of docs/saving-and-deploying.md, with CDN URLs turned into local paths. */
export function docImportMap() {
  const doc = readFileSync(join(ROOT, 'docs', 'saving-and-deploying.md'), 'utf8');
  const { imports } = JSON.parse(/<script type="importmap">\s*([\s\S]*?)<\/script>/.exec(doc)[1]);
  return Object.fromEntries(
    Object.entries(imports).map(([name, url]) => [
      name,
      url.replace(/^https:\/\/cdn\.jsdelivr\.net\/npm\/((?:@[\w-]+\/)?[\w-]+)@[\w.-]+\//, '/node_modules/$1/'),
    ]),
  );
}

const PAGE = (map) => `<!doctype html>
<canvas></canvas>
<script type="importmap">${JSON.stringify({ imports: map })}</script>
<script type="module">
  import * as tf from '@tensorflow/tfjs-core';
  import '@tensorflow/tfjs-backend-webgl';
  import { data, losses, nets } from 'genblocks';
  try {
    await tf.setBackend('webgl');
    const generator = nets.mlpGenerator({ latentDim: 4, outputShape: [8, 8, 1], widths: [16] });
    const grid = tf.tidy(() => data.imageGrid(generator.predict(tf.randomNormal([4, 4], 0, 1, 'float32', 1)), { columns: 2, range: '[-1,1]' }));
    await tf.browser.toPixels(grid, document.querySelector('canvas'));
    const loss = (await losses.gan.nonSaturating.generator(tf.tensor1d([0])).data())[0];
    window.result = { backend: tf.getBackend(), shape: grid.shape, loss };
  } catch (e) {
    window.result = { error: String((e && e.stack) || e) };
  }
</script>
`;

/** Runs the page; returns `{ backend, shape, loss }` or `{ error }`, plus `pageErrors`. */
export async function runImportMapPage(project) {
  const html = PAGE(docImportMap());
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(request.url.split('?')[0]));
    const file = join(project, path);
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else if (path.startsWith('/node_modules/') && existsSync(file)) {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    // A module that fails to load sets no result (its error is in pageErrors): wait, then report.
    await page.waitForFunction(() => globalThis.result !== undefined, null, { timeout: 60_000 }).catch(() => {});
    const result = await page.evaluate(() => globalThis.result ?? null);
    return { ...(result ?? { error: 'the page set no result' }), pageErrors };
  } finally {
    await browser.close();
    server.close();
  }
}

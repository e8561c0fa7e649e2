/**
 * Builds the in-page suite (test-browser/page → test-browser/out/suite) and the browser example
 * (examples/browser → examples/browser/dist) with Vite, straight from `src/`. The build fails
 * when a Node-only module of genblocks (src/node.ts, src/io/) ends up in a browser bundle.
 */
import { fileURLToPath } from 'node:url';

import { build, type Plugin } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Fails a build whose module graph contains genblocks' Node-only entry or its file-system IO. */
export function nodeOnlyGuard(): Plugin {
  return {
    name: 'genblocks-node-only-guard',
    buildEnd() {
      const offending = [...this.getModuleIds()].filter(
        (id) => /[\\/](src[\\/](node\.ts|io[\\/])|dist[\\/]node\.js)/.test(id) && !id.includes('node_modules'),
      );
      if (offending.length > 0) this.error(`Node-only genblocks modules were bundled for the browser: ${offending.join(', ')}`);
    },
  };
}

/**
 * Keeps `src/register.ts` (layer and gradient registration) in bundles built from the sources.
 * package.json `sideEffects` names only `dist/register.*`, so a bundler reading `src/` treats
 * every source module as side-effect free and drops the bare `import './register.js'` of
 * `src/index.ts` (the published `dist/` keeps it: checked with a Vite build of dist/index.js).
 */
export function keepRegisterSideEffects(): Plugin {
  return {
    name: 'genblocks-keep-register',
    transform(code, id) {
      // Every module of src/: src/index.ts must keep its bare `import './register.js'` too.
      return /[\\/]src[\\/]/.test(id) && !id.includes('node_modules') ? { code, moduleSideEffects: true } : null;
    },
  };
}

/** Points every import of `src/index.ts` at the built `dist/index.js` (the published package). */
function useBuiltPackage(): Plugin {
  return {
    name: 'genblocks-use-dist',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || !source.endsWith('/src/index.js')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && resolved.id === `${root}src/index.ts` ? `${root}dist/index.js` : null;
    },
  };
}

/**
 * Builds the suite page; returns its output folder. `from: 'dist'` bundles the built package
 * (`dist/index.js`, as users get it: its own `sideEffects`, no source plugins) instead of `src/`.
 */
export async function buildSuite(from: 'src' | 'dist' = 'src'): Promise<string> {
  const outDir = `${root}test-browser/out/suite${from === 'dist' ? '-dist' : ''}`; // out/ is git- and eslint-ignored
  await build({
    configFile: false,
    root: `${root}test-browser/page`,
    base: './',
    logLevel: 'warn',
    plugins: from === 'dist' ? [useBuiltPackage(), nodeOnlyGuard()] : [keepRegisterSideEffects(), nodeOnlyGuard()],
    build: { outDir, emptyOutDir: true, target: 'es2022', minify: false, reportCompressedSize: false, chunkSizeWarningLimit: 10_000 },
  });
  return outDir;
}

/** Builds examples/browser with its own vite.config.ts; returns its output folder. */
export async function buildExample(): Promise<string> {
  await build({ configFile: `${root}examples/browser/vite.config.ts`, logLevel: 'warn', plugins: [nodeOnlyGuard()] });
  return `${root}examples/browser/dist`;
}

import type { Plugin } from 'esbuild';
import { defineConfig, type Options } from 'tsup';

/**
 * Keeps `import './register.js'` as a real import of the `register` entry instead of inlining
 * it, so that `dist/register.{js,cjs}` is the single module with import-time side effects
 * (layer and gradient registration) and `package.json` `sideEffects` can name exactly it.
 */
function keepRegisterExternal(extension: '.js' | '.cjs'): Plugin {
  return {
    name: 'keep-register-external',
    setup(build) {
      build.onResolve({ filter: /^\.\/register\.js$/ }, (args) =>
        /[\\/]src[\\/](index|node)\.ts$/.test(args.importer) ? { path: `./register${extension}`, external: true } : undefined,
      );
    },
  };
}

const shared: Options = {
  // Two public entries (browser-safe core, Node-only helpers) plus the side-effect module.
  // Splitting (also for CJS) keeps one copy of every class shared by the entries, so
  // `instanceof` and layer registration behave the same whichever entry a user imports.
  entry: { index: 'src/index.ts', node: 'src/node.ts', register: 'src/register.ts' },
  dts: true,
  sourcemap: true,
  splitting: true,
  treeshake: false,
  target: 'es2022',
  platform: 'neutral',
  external: [/^@tensorflow\//, 'pngjs', /^node:/],
};

export default defineConfig([
  { ...shared, format: 'esm', esbuildPlugins: [keepRegisterExternal('.js')] },
  { ...shared, format: 'cjs', esbuildPlugins: [keepRegisterExternal('.cjs')] },
]);

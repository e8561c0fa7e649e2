import { defineConfig } from 'tsup';

/**
 * How genblocks is built (`npm run build`):
 *
 * 1. ESM and type declarations: `tsc -p tsconfig.build.json` emits one `.js` and one `.d.ts`
 *    per source file into `dist/`, unbundled. Unbundled ESM keeps `import * as losses` /
 *    `export { losses }` and every module boundary, so a user's bundler can drop the families
 *    (and the files within them) a program does not use; a pre-bundled file would hand it
 *    namespace objects it cannot prune. Per-file declarations are tsc's own, so namespaced
 *    types stay types (`train.Callback`); tsup's bundled `.d.ts` had rewritten types shared
 *    through a chunk as `declare const X: typeof X`, which broke them.
 * 2. CommonJS: this file. tsup bundles each entry into `dist/<entry>.cjs`, with shared chunks
 *    (`splitting`) so that `require('genblocks')` and `require('genblocks/losses')` see the
 *    same classes. CommonJS users are Node programs, for which pruning does not matter; the
 *    chunks mix side-effect code with the rest, so `sideEffects` names every `.cjs` file.
 * 3. CommonJS declarations: `scripts/cts-types.mjs` copies every `.d.ts` to a `.d.cts` whose
 *    relative imports end in `.cjs`, so `require` consumers under `node16` get declarations
 *    that describe CommonJS (what are-the-types-wrong checks).
 *
 * Entries (each in package.json `exports`, and in `typesVersions` for `moduleResolution:
 * "node"`): `genblocks` (src/index.ts), `genblocks/node` (Node-only helpers),
 * `genblocks/register` (registers custom layers and gradients), and one `genblocks/<family>`
 * per namespace of src/index.ts, listed in {@link NAMESPACES}.
 *
 * To add a namespace `foo` (a folder `src/foo/` with an `index.ts` listing its exports):
 * 1. in src/index.ts: `import * as foo from './foo/index.js';` and add `foo` to the export list;
 * 2. add `'foo'` to {@link NAMESPACES} below;
 * 3. in package.json, copy the `"./losses"` entry of `exports` and the `"losses"` entry of
 *    `typesVersions`, replacing `losses` with `foo`;
 * 4. a custom layer's file ends with `tf.serialization.registerClass(X, 'genblocks', 'X')` (so
 *    any program that uses the layer has it registered, bundled or not), is named in
 *    package.json `sideEffects` (`./dist/foo/x.js` and `./src/foo/x.ts`), and src/register.ts
 *    imports and registers it too (for `genblocks/register` and `genblocks/node`). No other file
 *    runs code at import time: `sideEffects` is what lets bundlers drop unused families.
 * test/package/side-effects.test.ts checks steps 2 to 4 against src/index.ts and the sources,
 * and names what is missing; test/package.test.ts then covers the new entry's types and
 * bundles without changes.
 */
export const NAMESPACES = ['autoregressive', 'backends', 'data', 'diffusion', 'layers', 'losses', 'metrics', 'nets', 'train', 'vae'] as const;

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    register: 'src/register.ts',
    ...Object.fromEntries(NAMESPACES.map((name) => [`${name}/index`, `src/${name}/index.ts`])),
  },
  format: 'cjs',
  dts: false,
  sourcemap: true,
  splitting: true,
  treeshake: false,
  target: 'es2022',
  platform: 'neutral',
  external: [/^@tensorflow\//, 'pngjs', 'cli-progress', /^node:/],
});

/**
 * The package's structure, checked against the sources (no build needed):
 * - package.json `sideEffects` names exactly the files that run code at import time, so bundlers
 *   may drop every other file a program does not use;
 * - every namespace of src/index.ts is listed in tsup.config.ts `NAMESPACES` and published as a
 *   `genblocks/<name>` entry (exports and typesVersions), and nothing else is;
 * - every custom layer registered in src/register.ts is also registered by its own file;
 * - in a fresh process, `import 'genblocks'` registers the custom layers through the files that
 *   define them but no gradients, and a gradient penalty registers the gradients it needs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import * as genblocks from '../../src/index.js';
import { NAMESPACES } from '../../tsup.config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  sideEffects: string[];
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
};

/** Source files (relative to src/) with a top-level statement that runs code: a call, `new`, an assignment. */
function filesWithSideEffects(): string[] {
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files
    .filter((file) => {
      const source = ts.createSourceFile(file, readFileSync(join(ROOT, 'src', file), 'utf8'), ts.ScriptTarget.ES2022);
      return source.statements.some((s) => ts.isExpressionStatement(s));
    })
    .map((f) => f.split('\\').join('/'))
    .sort();
}

describe('package structure', () => {
  it('names exactly the files with import-time side effects in package.json sideEffects', () => {
    const files = filesWithSideEffects();
    // The files known to register something (independent of the scan above).
    expect(files).toEqual(expect.arrayContaining(['register.ts', 'layers/spectral-normalization.ts', 'layers/reparameterize.ts']));
    const expected = [...files.map((f) => `./dist/${f.replace(/\.ts$/, '.js')}`), './dist/**/*.cjs', ...files.map((f) => `./src/${f}`)];
    expect([...pkg.sideEffects].sort()).toEqual(expected.sort());
  });

  it('registers every custom layer in the file that defines it, not only in register.ts', () => {
    // register.ts is not imported by `genblocks`, so a layer registered only there would be
    // unknown to tf.loadLayersModel in a program that imports `genblocks` and uses the layer.
    const register = readFileSync(join(ROOT, 'src', 'register.ts'), 'utf8');
    const classes = [...register.matchAll(/registerClass\((\w+)/g)].map((m) => m[1]!);
    expect(classes).toEqual(expect.arrayContaining(['SpectralNormalization', 'Reparameterize']));
    for (const name of classes) {
      const from = new RegExp(`import \\{[^}]*\\b${name}\\b[^}]*\\} from '\\./([^']+)\\.js'`).exec(register);
      expect(from, `src/register.ts imports ${name}`).not.toBeNull();
      const file = `${from![1]}.ts`;
      const source = readFileSync(join(ROOT, 'src', file), 'utf8');
      expect(
        source,
        `src/${file} must end with tf.serialization.registerClass(${name}, 'genblocks', '${name}') and be named in package.json sideEffects`,
      ).toMatch(new RegExp(`^(tf\\.)?serialization\\.registerClass\\(${name},`, 'm'));
    }
  });

  it('publishes one entry per namespace of src/index.ts (tsup.config.ts NAMESPACES, exports, typesVersions)', () => {
    const namespaces = Object.entries(genblocks)
      .filter(([, value]) => Object.prototype.toString.call(value) === '[object Module]')
      .map(([name]) => name)
      .sort();
    expect(namespaces).toContain('losses');
    expect([...NAMESPACES].sort(), 'tsup.config.ts NAMESPACES').toEqual(namespaces);
    const subpaths = Object.keys(pkg.exports).filter((k) => !['.', './node', './register', './package.json'].includes(k));
    expect(subpaths.sort(), 'package.json exports').toEqual(namespaces.map((n) => `./${n}`));
    for (const name of namespaces) {
      expect(pkg.exports[`./${name}`], `package.json exports["./${name}"]`).toEqual({
        import: { types: `./dist/${name}/index.d.ts`, default: `./dist/${name}/index.js` },
        require: { types: `./dist/${name}/index.d.cts`, default: `./dist/${name}/index.cjs` },
      });
      expect(pkg.typesVersions['*']![name], `package.json typesVersions["*"]["${name}"]`).toEqual([`./dist/${name}/index.d.cts`]);
    }
    expect(Object.keys(pkg.typesVersions['*']!).sort()).toEqual(['node', 'register', ...namespaces].sort());
  });

  it('registers layers through their files and gradients only when a penalty needs them', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { backends, losses } from './src/index.ts';
      await backends.use('cpu');
      const names = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap).filter((n) => n.startsWith('genblocks>')).sort();
      const before = tf.getGradient('Greater') !== undefined;
      const critic = { apply: (x) => tf.sum(tf.leakyRelu(x, 0.2), 1, true) };
      losses.gan.gradientPenalty(critic, tf.ones([2, 3]), tf.zeros([2, 3]), { seed: 1 });
      console.log(JSON.stringify({ names, before, after: tf.getGradient('Greater') !== undefined }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { names: string[]; before: boolean; after: boolean };
    // Every class that src/register.ts registers is registered by importing genblocks alone.
    const registered = [...readFileSync(join(ROOT, 'src', 'register.ts'), 'utf8').matchAll(/registerClass\((\w+)/g)].map(
      (m) => `genblocks>${m[1]!}`,
    );
    expect(registered).toEqual(expect.arrayContaining(['genblocks>Reparameterize', 'genblocks>SpectralNormalization']));
    expect(r.names).toEqual(registered.sort());
    expect(r.before).toBe(false); // tfjs 4.22 has no gradient for Greater; importing genblocks adds none
    expect(r.after).toBe(true);
  }, 60_000);
});

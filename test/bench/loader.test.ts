/**
 * The benchmarks' TypeScript loader (`bench/loader/`): it must resolve the sources' `.js`
 * specifiers to their `.ts` files as tsc's NodeNext resolution does, and emit no esbuild
 * `keepNames` wrappers (`__name(...)`), which tsx adds to every named closure and the published
 * build does not have.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

// @ts-expect-error: a plain .mjs module without declarations
import { load, resolve as resolveHook } from '../../bench/loader/hooks.mjs';

type Hook = (...args: unknown[]) => Promise<{ url?: string; source?: string; format?: string }>;

const REGISTER = resolve('bench/loader/register.mjs');

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'genblocks-loader-'));
  writeFileSync(
    join(dir, 'lib.ts'),
    [
      'export interface Box { n: number }',
      'export function makeCounter(): () => number {',
      '  let n = 0;',
      '  const next = (): number => ++n;',
      '  return next;',
      '}',
      'export class Field { x: number = 1; y!: number }',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'main.ts'),
    [
      "import { makeCounter, Field, type Box } from './lib.js';",
      'const c = makeCounter();',
      'const b: Box = { n: c() + c() };',
      'console.log(JSON.stringify({ n: b.n, name: c.name, own: Object.keys(new Field()) }));',
    ].join('\n'),
  );
  return dir;
}

describe('bench/loader', () => {
  it('runs TypeScript that imports .ts files by their .js names, with ES2022 class fields', () => {
    const dir = fixture();
    const out = execFileSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, join(dir, 'main.ts')], { encoding: 'utf8' });
    // `next` keeps its name by the language's own rule (a const initialised with an arrow
    // function), no wrapper needed; `y!` declares a field that define semantics create as undefined.
    expect(JSON.parse(out.trim())).toEqual({ n: 3, name: 'next', own: ['x', 'y'] });
  });

  it('emits no keepNames wrappers, and maps .js specifiers to .ts only where the .js file is missing', async () => {
    const dir = fixture();
    const next = (async () => ({ url: 'next' })) as Hook;
    const loaded = await (load as Hook)(pathToFileURL(join(dir, 'lib.ts')).href, {}, next);
    expect(loaded.format).toBe('module');
    expect(loaded.source).toContain('const next = () => ++n;');
    expect(loaded.source).not.toContain('__name');
    const parentURL = pathToFileURL(join(dir, 'main.ts')).href;
    const resolved = await (resolveHook as Hook)('./lib.js', { parentURL }, next);
    expect(resolved.url).toBe(pathToFileURL(join(dir, 'lib.ts')).href);
    writeFileSync(join(dir, 'plain.js'), 'export default 1;');
    expect((await (resolveHook as Hook)('./plain.js', { parentURL }, next)).url).toBe('next');
    // Packages are left to Node.
    expect((await (resolveHook as Hook)('@tensorflow/tfjs-core', { parentURL }, next)).url).toBe('next');
    expect((await (load as Hook)('file:///x/node_modules/p/index.ts', {}, next)).url).toBe('next');
  });
});

/**
 * Packaging test: what npm users get. Packs the tarball (which runs the build), installs it
 * with the tfjs peers into a fresh temporary project, and there imports it both as ESM
 * (`import ... from 'genblocks'`) and as CJS (`require('genblocks')`), running a real genblocks
 * op on the wasm backend in each.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// @ts-expect-error plain .mjs helper shared with scripts/check-package.mjs
import { pack } from '../scripts/pack.mjs';

const TFJS = '4.22.0';
let project = '';

// Expected value: nonSaturating generator loss at logits 0 is softplus(0) = ln 2 (hand computed).
const LN2 = Math.log(2);

const ESM = `
import * as tf from '@tensorflow/tfjs-core';
import { backends, losses, version, ArgumentError } from 'genblocks';
import { version as nodeVersion } from 'genblocks/node';
const info = await backends.use('wasm');
if (!info.added.includes('Conv2DBackpropFilter')) throw new Error('training kernels missing: ' + JSON.stringify(info));
const t = losses.gan.nonSaturating.generator(tf.tensor1d([0, 0]));
let err = '';
try { losses.gan.nonSaturating.generator(tf.tensor1d([1], 'int32')); } catch (e) { err = e instanceof ArgumentError ? e.message : 'wrong class'; }
console.log(JSON.stringify({ backend: tf.getBackend(), version, nodeVersion, value: (await t.data())[0], err }));
`;

const CJS = `
const tf = require('@tensorflow/tfjs-core');
const { backends, losses, version } = require('genblocks');
const { version: nodeVersion } = require('genblocks/node');
backends.use('wasm').then(async (info) => {
  if (!info.added.includes('Conv2DBackpropFilter')) throw new Error('training kernels missing');
  const t = losses.gan.nonSaturating.generator(tf.tensor1d([0, 0]));
  console.log(JSON.stringify({ backend: tf.getBackend(), version, nodeVersion, value: (await t.data())[0] }));
});
`;

function run(file: string): { backend: string; version: string; nodeVersion: string; value: number; err?: string } {
  const out = execFileSync('node', [file], { cwd: project, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('packed tarball', () => {
  beforeAll(() => {
    const tarball = pack() as string;
    project = mkdtempSync(join(tmpdir(), 'genblocks-consumer-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball,
        `@tensorflow/tfjs-core@${TFJS}`, `@tensorflow/tfjs-layers@${TFJS}`, `@tensorflow/tfjs-backend-wasm@${TFJS}`],
      { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    writeFileSync(join(project, 'esm.mjs'), ESM);
    writeFileSync(join(project, 'cjs.cjs'), CJS);
  }, 300_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('works from ESM on the wasm backend', () => {
    const r = run('esm.mjs');
    expect(r.backend).toBe('wasm');
    expect(r.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.nodeVersion).toBe(r.version);
    expect(Math.abs(r.value - LN2)).toBeLessThan(1e-6);
    expect(r.err).toMatch(/nonSaturating.*'fakeLogits' must be a float32 tensor/);
  });

  it('works from CJS on the wasm backend', () => {
    const r = run('cjs.cjs');
    expect(r.backend).toBe('wasm');
    expect(r.nodeVersion).toBe(r.version);
    expect(Math.abs(r.value - LN2)).toBeLessThan(1e-6);
  });
});

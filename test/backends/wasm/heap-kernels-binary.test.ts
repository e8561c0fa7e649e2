/**
 * The committed wasm binaries of genblocks' heap kernels (plain, relaxed-SIMD gemm, shared
 * memory) are exactly what `heap-kernels.wat` assembles to (wabt, the WebAssembly Binary
 * Toolkit, as `scripts/build-wasm-kernels.mjs` runs it), so the readable source and the shipped
 * bytes cannot drift apart; and the relaxed gemm runs where the engine supports relaxed SIMD.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import {
  HEAP_KERNELS_RELAXED_WASM_BASE64,
  HEAP_KERNELS_SHARED_WASM_BASE64,
  HEAP_KERNELS_WASM_BASE64,
} from '../../../src/backends/wasm/heap-kernels-binary.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('wasm heap kernels binary', () => {
  it('equals the assembled heap-kernels.wat and validates with SIMD', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../../../src/backends/wasm/heap-kernels.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('heap-kernels.wat', source, { simd: true });
    module.validate();
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(HEAP_KERNELS_WASM_BASE64);
    expect(WebAssembly.validate(Buffer.from(HEAP_KERNELS_WASM_BASE64, 'base64'))).toBe(true);
  });

  it('has a relaxed-SIMD twin: the 8 multiply-adds of each gemm tile loop ($tilesPacked, $tilesStrided) as f32x4.relaxed_madd', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../../../src/backends/wasm/heap-kernels.wat', import.meta.url), 'utf8');
    const pattern = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$x\) \(local\.get (\$b\d)\)\)\)/g;
    expect(source.match(pattern)).toHaveLength(16);
    const relaxed = source.replace(pattern, '(f32x4.relaxed_madd (local.get $x) (local.get $2) (local.get $1))');
    const module = wabt.parseWat('heap-kernels.wat', relaxed, { simd: true, relaxed_simd: true });
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(HEAP_KERNELS_RELAXED_WASM_BASE64);
  });

  // Node 20 supports relaxed SIMD only behind a flag: a child process with the flag runs the
  // relaxed gemm, one without it the plain one; both match a float64 product.
  it.each([
    [['--experimental-wasm-relaxed-simd'], 'relaxed'],
    [[], 'plain'],
  ])(
    'a process with flags %j runs the %s gemm, within 1e-5 of float64',
    async (flags, variant) => {
      const { stdout } = await run(process.execPath, [...flags, '--import', 'tsx', 'test/backends/fixtures/relaxed-simd.mts'], {
        cwd: repoRoot,
        timeout: 120_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as { variant: string; relativeError: number };
      expect(result.variant).toBe(variant);
      expect(result.relativeError).toBeLessThan(1e-5);
    },
    180_000,
  );

  it('has a shared-memory twin: the same source importing (memory 1 65536 shared)', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../../../src/backends/wasm/heap-kernels.wat', import.meta.url), 'utf8');
    const shared = source.replace('(import "env" "memory" (memory 1))', '(import "env" "memory" (memory 1 65536 shared))');
    expect(shared).not.toBe(source);
    const module = wabt.parseWat('heap-kernels.wat', shared, { simd: true, threads: true });
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(HEAP_KERNELS_SHARED_WASM_BASE64);
    const bytes = Buffer.from(HEAP_KERNELS_SHARED_WASM_BASE64, 'base64');
    expect(WebAssembly.validate(bytes)).toBe(true);
    // It instantiates on a shared memory (and the plain one does not).
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })).not.toThrow();
    expect(
      () => new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HEAP_KERNELS_WASM_BASE64, 'base64')), { env: { memory } }),
    ).toThrow();
  });
});

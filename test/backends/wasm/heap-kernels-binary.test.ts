/**
 * The committed wasm binaries of genblocks' heap kernels (plain, relaxed-SIMD gemm; their
 * shared-memory twins are made at run time by `withSharedMemory`) are exactly what `heap-kernels.wat` assembles to (wabt, the WebAssembly Binary
 * Toolkit, as `scripts/build-wasm-kernels.mjs` runs it), so the readable source and the shipped
 * bytes cannot drift apart; and the relaxed gemm runs where the engine supports relaxed SIMD.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { HEAP_KERNELS_RELAXED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from '../../../src/backends/wasm/heap-kernels-binary.js';
import { withSharedMemory } from '../../../src/backends/wasm/heap-kernels.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The multiply-adds of the causal-attention tiles ($attnTile: 8, $attnTile4: 4), fused in the relaxed-SIMD twin. */
const ATTENTION_TILES = /\(f32x4\.add \(local\.get (\$acc\d+)\) \(f32x4\.mul \(local\.get \$w\) \(local\.get (\$u\d)\)\)\)/g;
const relaxedAttention = (source: string): string =>
  source.replace(ATTENTION_TILES, '(f32x4.relaxed_madd (local.get $w) (local.get $2) (local.get $1))');
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

  it('has a relaxed-SIMD twin: the 8 multiply-adds of each gemm tile loop ($tilesPacked, $tilesStrided) and the attention tiles ($attnTile, $attnTile4) as f32x4.relaxed_madd', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../../../src/backends/wasm/heap-kernels.wat', import.meta.url), 'utf8');
    const pattern = /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$x\) \(local\.get (\$b\d)\)\)\)/g;
    expect(source.match(pattern)).toHaveLength(16);
    expect(source.match(ATTENTION_TILES)).toHaveLength(12);
    const relaxed = relaxedAttention(source.replace(pattern, '(f32x4.relaxed_madd (local.get $x) (local.get $2) (local.get $1))'));
    const module = wabt.parseWat('heap-kernels.wat', relaxed, { simd: true, relaxed_simd: true });
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(HEAP_KERNELS_RELAXED_WASM_BASE64);
  });

  // Node 20 supports relaxed SIMD only behind a flag: a child process with the flag runs the
  // relaxed gemm, one without it the plain one, on one thread (a plain heap) and on two (the
  // threaded build's shared heap, with the worker pool); all match a float64 product.
  it.each([
    [['--experimental-wasm-relaxed-simd'], 1, 'relaxed'],
    [[], 1, 'plain'],
    [['--experimental-wasm-relaxed-simd'], 2, 'sharedRelaxed'],
    [[], 2, 'shared'],
  ])(
    'a process with flags %j and %i thread(s) runs the %s gemm, within 1e-5 of float64',
    async (flags, threads, variant) => {
      const args = [...flags, '--import', 'tsx', 'test/backends/fixtures/relaxed-simd.mts', String(threads)];
      const { stdout } = await run(process.execPath, args, {
        cwd: repoRoot,
        timeout: 120_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as { variant: string; relativeError: number };
      expect(result.variant).toBe(variant);
      expect(result.relativeError).toBeLessThan(1e-5);
    },
    180_000,
  );

  it.each([
    ['plain', HEAP_KERNELS_WASM_BASE64, false],
    ['relaxed-SIMD', HEAP_KERNELS_RELAXED_WASM_BASE64, true],
  ] as const)(
    'has a shared-memory twin made at run time: the %s source importing (memory 1 65536 shared), byte for byte',
    async (_label, base64, relaxed) => {
      const { default: wabtInit } = await import('wabt');
      const wabt = await wabtInit();
      let source = readFileSync(new URL('../../../src/backends/wasm/heap-kernels.wat', import.meta.url), 'utf8');
      if (relaxed) {
        source = source.replace(
          /\(f32x4\.add \(local\.get (\$c\d\d)\) \(f32x4\.mul \(local\.get \$x\) \(local\.get (\$b\d)\)\)\)/g,
          '(f32x4.relaxed_madd (local.get $x) (local.get $2) (local.get $1))',
        );
        source = relaxedAttention(source);
      }
      const shared = source.replace('(import "env" "memory" (memory 1))', '(import "env" "memory" (memory 1 65536 shared))');
      expect(shared).not.toBe(source);
      // The oracle: wabt's own assembly of the shared source.
      const module = wabt.parseWat('heap-kernels.wat', shared, { simd: true, threads: true, relaxed_simd: relaxed });
      const { buffer } = module.toBinary({});
      module.destroy();
      const bytes = withSharedMemory(Buffer.from(base64, 'base64'));
      expect(Buffer.from(bytes).toString('base64')).toBe(Buffer.from(buffer).toString('base64'));
      if (relaxed) return; // Node 20 validates relaxed SIMD only behind a flag (the child processes below)
      expect(WebAssembly.validate(bytes)).toBe(true);
      // It instantiates on a shared memory (and the plain one does not).
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
      expect(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })).not.toThrow();
      expect(
        () => new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HEAP_KERNELS_WASM_BASE64, 'base64')), { env: { memory } }),
      ).toThrow();
    },
  );

  it('withSharedMemory refuses a module whose imports are not one memory without maximum', () => {
    // (module (import "env" "memory" (memory 1 2))): limits flag 1, already with a maximum.
    const withMaximum = Uint8Array.from([
      0, 97, 115, 109, 1, 0, 0, 0, 2, 16, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 1, 1, 2,
    ]);
    expect(WebAssembly.validate(withMaximum)).toBe(true);
    expect(() => withSharedMemory(withMaximum)).toThrow(/expected one import, a memory without maximum/);
    // (module): no import section.
    expect(() => withSharedMemory(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]))).toThrow(/no import section/);
  });
});

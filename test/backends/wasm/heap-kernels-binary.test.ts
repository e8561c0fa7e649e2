/**
 * The committed wasm binary of genblocks' heap kernels is exactly what `heap-kernels.wat`
 * assembles to (wabt, the WebAssembly Binary Toolkit, as `scripts/build-wasm-kernels.mjs` runs
 * it), so the readable source and the shipped bytes cannot drift apart.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from '../../../src/backends/wasm/heap-kernels-binary.js';

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
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HEAP_KERNELS_WASM_BASE64, 'base64')), { env: { memory } })).toThrow();
  });
});

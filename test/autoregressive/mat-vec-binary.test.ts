/**
 * The committed wasm binary of the decoding step's matrix-vector product is exactly what
 * `mat-vec.wat` assembles to (wabt, as `scripts/build-mat-vec-wasm.mjs` runs it), and its
 * `matVec` matches a float64 product on both column loops (blocks of 16 and of 4), with rows
 * packed or strided; `matMat` (4 rows at a time, for a prefill) matches the same float64 product
 * on its column loops (blocks of 8 and of 4) and gives matVec's floats row by row, bit for bit.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { MAT_VEC_WASM_BASE64 } from '../../src/autoregressive/mat-vec-binary.js';
import { expectClose } from '../helpers/memory.js';

describe('mat-vec wasm binary', () => {
  it('equals the assembled mat-vec.wat and validates with SIMD', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../../src/autoregressive/mat-vec.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('mat-vec.wat', source, { simd: true });
    module.validate();
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(Buffer.from(buffer).toString('base64')).toBe(MAT_VEC_WASM_BASE64);
    expect(WebAssembly.validate(Buffer.from(MAT_VEC_WASM_BASE64, 'base64'))).toBe(true);
  });

  it.each([
    [20, 20],
    [20, 23],
  ])('computes y = bias + x·K for K [7, m = %i] with row length %i within 1e-6 of float64 (one column block of 16, one of 4)', (m, ldw) => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(MAT_VEC_WASM_BASE64, 'base64')), {});
    const { memory, matVec } = instance.exports as { memory: WebAssembly.Memory; matVec: (...args: number[]) => void };
    const n = 7;
    const heap = new Float32Array(memory.buffer);
    // Layout (floats): x at 0, K at 16, bias after K, y after the bias.
    const [x, k, bias] = [0, 16, 16 + n * ldw];
    const y = bias + m;
    for (let i = 0; i < n; i++) heap[x + i] = Math.sin(i + 1);
    for (let e = 0; e < n * ldw; e++) heap[k + e] = Math.cos(0.7 * e);
    for (let j = 0; j < m; j++) heap[bias + j] = j / 10;
    matVec(4 * x, 4 * k, 4 * bias, 4 * y, m, n, ldw);
    // float64 reference from the same float32 inputs.
    const expected = Array.from({ length: m }, (_, j) => {
      let s = heap[bias + j]!;
      for (let i = 0; i < n; i++) s += heap[x + i]! * heap[k + i * ldw + j]!;
      return s;
    });
    expectClose(heap.subarray(y, y + m), expected, 1e-6, 1e-6);
  });

  it.each([
    [12, 12, 8, 7, 13],
    [20, 23, 4, 23, 20],
  ])(
    'matMat computes Y = bias + X·K for K [7, m = %i] (row length %i) over %i rows (X rows %i, Y rows %i floats apart): float64 within 1e-6, matVec bit for bit',
    (m, ldw, rows, ldx, ldy) => {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(MAT_VEC_WASM_BASE64, 'base64')), {});
      const { memory, matVec, matMat } = instance.exports as {
        memory: WebAssembly.Memory;
        matVec: (...args: number[]) => void;
        matMat: (...args: number[]) => void;
      };
      const n = 7;
      const heap = new Float32Array(memory.buffer);
      // Layout (floats): X at 0, K after it, then the bias, Y, and a row of matVec's output.
      const x = 0;
      const k = rows * ldx;
      const bias = k + n * ldw;
      const y = bias + m;
      const single = y + rows * ldy;
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) heap[x + r * ldx + i] = Math.sin(3 * r + i + 1);
      for (let e = 0; e < n * ldw; e++) heap[k + e] = Math.cos(0.7 * e);
      for (let j = 0; j < m; j++) heap[bias + j] = j / 10;
      matMat(4 * x, 4 * k, 4 * bias, 4 * y, m, n, ldw, rows, ldx, ldy);
      for (let r = 0; r < rows; r++) {
        // float64 reference from the same float32 inputs.
        const expected = Array.from({ length: m }, (_, j) => {
          let s = heap[bias + j]!;
          for (let i = 0; i < n; i++) s += heap[x + r * ldx + i]! * heap[k + i * ldw + j]!;
          return s;
        });
        const row = heap.subarray(y + r * ldy, y + r * ldy + m);
        expectClose(row, expected, 1e-6, 1e-6);
        matVec(4 * (x + r * ldx), 4 * k, 4 * bias, 4 * single, m, n, ldw);
        expect(Array.from(row)).toEqual(Array.from(heap.subarray(single, single + m)));
      }
    },
  );
});

;; A matrix-vector product for one decoding step of a GPT (src/autoregressive/array-decoder.ts):
;;
;;   y[j] = bias[j] + Σᵢ x[i] · w[i·ldw + j]   for j < m (m a multiple of 4), i < n
;;
;; with w a layer's kernel as stored, [n, m] row-major (one row per input; ldw = m), or the
;; keys (transposed) or values of one attention head in the cache (ldw its row length), on the
;; module's own memory. Columns go in blocks of 16 (four f32x4 accumulators held in registers while the
;; rows stream past), then of 4. Pointers are byte offsets; accumulation is float32, as tfjs'.
;; Assembled by `node scripts/build-mat-vec-wasm.mjs` into mat-vec-binary.ts.
(module
  (memory (export "memory") 1)
  (func (export "matVec") (param $x i32) (param $w i32) (param $bias i32) (param $y i32) (param $m i32) (param $n i32) (param $ldw i32)
    (local $j i32) (local $i i32) (local $p i32) (local $xp i32) (local $stride i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xi v128)
    (local.set $stride (i32.shl (local.get $ldw) (i32.const 2)))
    (local.set $j (i32.const 0))
    ;; Blocks of 16 columns.
    (block $done16
      (loop $columns16
        (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $m)))
        (local.set $p (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $a0 (v128.load (local.get $p)))
        (local.set $a1 (v128.load offset=16 (local.get $p)))
        (local.set $a2 (v128.load offset=32 (local.get $p)))
        (local.set $a3 (v128.load offset=48 (local.get $p)))
        (local.set $p (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $i (local.get $n))
        (block $rowsDone16
          (loop $rows16
            (br_if $rowsDone16 (i32.eqz (local.get $i)))
            (local.set $xi (v128.load32_splat (local.get $xp)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xi) (v128.load (local.get $p)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xi) (v128.load offset=16 (local.get $p)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xi) (v128.load offset=32 (local.get $p)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xi) (v128.load offset=48 (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $rows16)))
        (local.set $p (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $p) (local.get $a0))
        (v128.store offset=16 (local.get $p) (local.get $a1))
        (v128.store offset=32 (local.get $p) (local.get $a2))
        (v128.store offset=48 (local.get $p) (local.get $a3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $columns16)))
    ;; The remaining columns, 4 at a time.
    (block $done4
      (loop $columns4
        (br_if $done4 (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $a0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $p (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $i (local.get $n))
        (block $rowsDone4
          (loop $rows4
            (br_if $rowsDone4 (i32.eqz (local.get $i)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load32_splat (local.get $xp)) (v128.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $rows4)))
        (v128.store (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 2))) (local.get $a0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $columns4))))
)

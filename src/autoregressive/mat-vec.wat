;; A matrix-vector product for one decoding step of a GPT (src/autoregressive/array-decoder.ts):
;;
;;   y[j] = bias[j] + Σᵢ x[i] · w[i·ldw + j]   for j < m (m a multiple of 4), i < n
;;
;; with w a layer's kernel as stored, [n, m] row-major (one row per input; ldw = m), or the
;; keys (transposed) or values of one attention head in the cache (ldw its row length), on the
;; module's own memory. Columns go in blocks of 16 (four f32x4 accumulators held in registers while the
;; rows stream past), then of 4. Pointers are byte offsets; accumulation is float32, as tfjs'.
;;
;; matMat does the same for 4 input rows at once (a prefill: several positions through one layer),
;;
;;   y[r·ldy + j] = bias[j] + Σᵢ x[r·ldx + i] · w[i·ldw + j]   for r < rows (a multiple of 4),
;;
;; each weight vector loaded once for the 4 rows; columns in blocks of 8, then of 4. Every output
;; adds the same products in the same order as matVec, so both give identical floats.
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

  (func (export "matMat") (param $x i32) (param $w i32) (param $bias i32) (param $y i32) (param $m i32) (param $n i32) (param $ldw i32)
                          (param $rows i32) (param $ldx i32) (param $ldy i32)
    (local $r i32) (local $j i32) (local $i i32) (local $p i32) (local $xp i32) (local $yp i32)
    (local $stride i32) (local $xs i32) (local $ys i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $xi v128)
    (local.set $stride (i32.shl (local.get $ldw) (i32.const 2)))
    (local.set $xs (i32.shl (local.get $ldx) (i32.const 2)))
    (local.set $ys (i32.shl (local.get $ldy) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowGroups
        (br_if $rowsDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $j (i32.const 0))
        ;; Blocks of 8 columns: two f32x4 accumulators per row.
        (block $done8
          (loop $columns8
            (br_if $done8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $m)))
            (local.set $p (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $a0 (v128.load (local.get $p)))
            (local.set $a1 (v128.load offset=16 (local.get $p)))
            (local.set $a2 (local.get $a0))
            (local.set $a3 (local.get $a1))
            (local.set $a4 (local.get $a0))
            (local.set $a5 (local.get $a1))
            (local.set $a6 (local.get $a0))
            (local.set $a7 (local.get $a1))
            (local.set $p (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $xp (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $xs))))
            (local.set $i (local.get $n))
            (block $inputsDone8
              (loop $inputs8
                (br_if $inputsDone8 (i32.eqz (local.get $i)))
                (local.set $w0 (v128.load (local.get $p)))
                (local.set $w1 (v128.load offset=16 (local.get $p)))
                (local.set $xi (v128.load32_splat (local.get $xp)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xi) (local.get $w0))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xi) (local.get $w1))))
                (local.set $xi (v128.load32_splat (i32.add (local.get $xp) (local.get $xs))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xi) (local.get $w0))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xi) (local.get $w1))))
                (local.set $xi (v128.load32_splat (i32.add (local.get $xp) (i32.shl (local.get $xs) (i32.const 1)))))
                (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $xi) (local.get $w0))))
                (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $xi) (local.get $w1))))
                (local.set $xi (v128.load32_splat (i32.add (local.get $xp) (i32.mul (local.get $xs) (i32.const 3)))))
                (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $xi) (local.get $w0))))
                (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $xi) (local.get $w1))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $inputs8)))
            (local.set $yp (i32.add (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $ys))) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (local.get $yp) (local.get $a0))
            (v128.store offset=16 (local.get $yp) (local.get $a1))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a2))
            (v128.store offset=16 (local.get $yp) (local.get $a3))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a4))
            (v128.store offset=16 (local.get $yp) (local.get $a5))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a6))
            (v128.store offset=16 (local.get $yp) (local.get $a7))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $columns8)))
        ;; The remaining columns, 4 at a time.
        (block $done4
          (loop $columns4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $m)))
            (local.set $a0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $a2 (local.get $a0))
            (local.set $a4 (local.get $a0))
            (local.set $a6 (local.get $a0))
            (local.set $p (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $xp (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $xs))))
            (local.set $i (local.get $n))
            (block $inputsDone4
              (loop $inputs4
                (br_if $inputsDone4 (i32.eqz (local.get $i)))
                (local.set $w0 (v128.load (local.get $p)))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load32_splat (local.get $xp)) (local.get $w0))))
                (local.set $a2 (f32x4.add (local.get $a2)
                  (f32x4.mul (v128.load32_splat (i32.add (local.get $xp) (local.get $xs))) (local.get $w0))))
                (local.set $a4 (f32x4.add (local.get $a4)
                  (f32x4.mul (v128.load32_splat (i32.add (local.get $xp) (i32.shl (local.get $xs) (i32.const 1)))) (local.get $w0))))
                (local.set $a6 (f32x4.add (local.get $a6)
                  (f32x4.mul (v128.load32_splat (i32.add (local.get $xp) (i32.mul (local.get $xs) (i32.const 3)))) (local.get $w0))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $inputs4)))
            (local.set $yp (i32.add (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $ys))) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (local.get $yp) (local.get $a0))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a2))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a4))
            (local.set $yp (i32.add (local.get $yp) (local.get $ys)))
            (v128.store (local.get $yp) (local.get $a6))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $columns4)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowGroups))))
)

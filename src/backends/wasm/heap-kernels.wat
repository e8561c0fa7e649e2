;; genblocks' SIMD kernels for the tfjs wasm backend's heap (source of heap-kernels-binary.ts).
;;
;; The module imports tfjs-backend-wasm's own linear memory, so every pointer below is a byte
;; offset of a tensor on that heap (BackendWasm.typedArrayFromHeap(t).byteOffset). Regenerate
;; heap-kernels-binary.ts with `node scripts/build-wasm-kernels.mjs` after editing.
(module
  (import "env" "memory" (memory 1))

  ;; gemm: C = A·B (+ bias), for M a multiple of 4 and N a multiple of 8, with
  ;;   A(i, k) = a[floor(i/4)·sab + (i mod 4)·sai + k·sak]   (sab = 4·sai for plain strides: row-major
  ;;             A, a transposed one, or A packed by `packA`: sab = 4·K, sai = 1, sak = 4)
  ;;   B(k, j) = b[k·sbk + j·sbj]   (rows of B, or a transposed B, read where they lie)
  ;;   C(i, j) = c[i·sci + j·scj]   (scj = 1: vector stores; otherwise lane by lane)
  ;; (strides in elements); bias: 0, or a pointer to N floats added to every row; panel: 0, or
  ;; scratch space for K x 8 floats (needed when sbj ≠ 1). Tiles of 4 rows x 8 columns are
  ;; accumulated in eight f32x4 registers over the whole K loop, each output from its bias (or 0)
  ;; through k = 0..K-1 in order, j outer: the K x 8 panel of B at column j stays in cache while
  ;; every row block of A passes it. With `panel`, that panel is first copied there as K rows of
  ;; 8 contiguous floats (rows of B 4 KiB apart, N = 1024, all fall in one L1 cache set; a
  ;; transposed B is transposed on the way). A whose 4-row blocks hold adjacent rows (sai = 1)
  ;; is read with one pointer per block ($tilesPacked), any other with four ($tilesStrided).
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $bias i32)
    (param $M i32) (param $N i32) (param $K i32)
    (param $sab i32) (param $sai i32) (param $sak i32) (param $sbk i32) (param $sbj i32) (param $sci i32) (param $scj i32)
    (param $panel i32)
    (local $i0 i32) (local $rows i32) (local $mb i32) (local $pa i32) (local $pc i32)
    (local $j i32) (local $pbj i32) (local $pcj i32) (local $step i32) (local $init0 v128) (local $init1 v128)
    ;; strides to bytes
    (local.set $sab (i32.shl (local.get $sab) (i32.const 2)))
    (local.set $sai (i32.shl (local.get $sai) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $sbk (i32.shl (local.get $sbk) (i32.const 2)))
    (local.set $sbj (i32.shl (local.get $sbj) (i32.const 2)))
    (local.set $sci (i32.shl (local.get $sci) (i32.const 2)))
    (local.set $scj (i32.shl (local.get $scj) (i32.const 2)))
    ;; Bands of mb rows, mb·K floats of A (512 KiB), that stay in the L2 cache (1 MiB) while the
    ;; panels of B pass, each panel copied once per band: without bands a large A (768 x 512,
    ;; 1.5 MiB) would come from L3 for every panel.
    (local.set $mb (local.get $M))
    (if (local.get $K)
      (then
        (local.set $mb (i32.and (i32.div_u (i32.const 131072) (local.get $K)) (i32.const -4)))
        (if (i32.lt_u (local.get $mb) (i32.const 4)) (then (local.set $mb (i32.const 4))))))
    (block $bands
      (loop $band
        (br_if $bands (i32.ge_u (local.get $i0) (local.get $M)))
        (local.set $rows (i32.sub (local.get $M) (local.get $i0)))
        (if (i32.gt_u (local.get $rows) (local.get $mb)) (then (local.set $rows (local.get $mb))))
        (local.set $pa (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i0) (i32.const 2)) (local.get $sab))))
        (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $i0) (local.get $sci))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $N)))
            (if (local.get $bias)
              (then
                (local.set $init0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $init1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
              (else
                (local.set $init0 (v128.const i32x4 0 0 0 0))
                (local.set $init1 (v128.const i32x4 0 0 0 0))))
            ;; the K x 8 panel of B at column j: in place, or copied to `panel` (columns j..j+3, j+4..j+7)
            (local.set $pbj (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $sbj))))
            (local.set $step (local.get $sbk))
            (if (local.get $panel)
              (then
                (call $pack4 (local.get $pbj) (local.get $sbj) (local.get $sbk) (local.get $panel) (i32.const 32) (local.get $K))
                (call $pack4 (i32.add (local.get $pbj) (i32.shl (local.get $sbj) (i32.const 2))) (local.get $sbj) (local.get $sbk)
                  (i32.add (local.get $panel) (i32.const 16)) (i32.const 32) (local.get $K))
                (local.set $pbj (local.get $panel))
                (local.set $step (i32.const 32))))
            (local.set $pcj (i32.add (local.get $pc) (i32.mul (local.get $j) (local.get $scj))))
            (if (i32.and (i32.eq (local.get $sai) (i32.const 4)) (i32.ne (local.get $step) (i32.const 0)))
              (then
                (call $tilesPacked (local.get $pa) (local.get $sab) (local.get $sak) (local.get $pbj) (local.get $step)
                  (local.get $pcj) (local.get $rows) (local.get $K) (local.get $sci) (local.get $scj) (local.get $init0) (local.get $init1)))
              (else
                (call $tilesStrided (local.get $pa) (local.get $sab) (local.get $sai) (local.get $sak) (local.get $pbj) (local.get $step)
                  (local.get $pcj) (local.get $rows) (local.get $K) (local.get $sci) (local.get $scj) (local.get $init0) (local.get $init1))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $jloop)))
        (local.set $i0 (i32.add (local.get $i0) (local.get $rows)))
        (br $band))))

  ;; Four lanes of K groups copied to dst as groups of 4 floats ds bytes apart: dst + k·ds + 4l
  ;; gets src + l·sl + k·sk (bytes; l < 4, k < K). Lanes adjacent (sl = 4): a vector copy per k;
  ;; k adjacent (sk = 4: rows of A, or columns of a transposed B): 4 x 4 blocks through registers
  ;; (two rounds of lane shuffles, as in `transpose`), the last K mod 4 element by element; any
  ;; other strides element by element. Bit copies.
  (func $pack4 (param $src i32) (param $sl i32) (param $sk i32) (param $dst i32) (param $ds i32) (param $K i32)
    (local $k i32) (local $l i32) (local $p i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (if (i32.eq (local.get $sl) (i32.const 4))
      (then
        (block $vdone
          (loop $vloop
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $K)))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $sk)))
            (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $vloop)))
        (return)))
    (if (i32.eq (local.get $sk) (i32.const 4))
      (then
        (block $bdone
          (loop $bloop
            (br_if $bdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
            ;; lane 0: a0 a1 a2 a3 (k..k+3), lane 1: b0..b3, lane 2: c0..c3, lane 3: d0..d3;
            ;; pairs a0 b0 a1 b1, a2 b2 a3 b3, c0 d0 c1 d1, c2 d2 c3 d3
            (local.set $v0 (v128.load (local.get $src)))
            (local.set $v1 (v128.load (i32.add (local.get $src) (local.get $sl))))
            (local.set $v2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $sl) (i32.const 1)))))
            (local.set $v3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $sl) (i32.const 3)))))
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
            ;; groups k..k+3: a0 b0 c0 d0, a1 b1 c1 d1, a2 b2 c2 d2, a3 b3 c3 d3
            (local.set $p (local.get $dst))
            (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (local.set $p (i32.add (local.get $p) (local.get $ds)))
            (v128.store (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (local.set $p (i32.add (local.get $p) (local.get $ds)))
            (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (local.set $p (i32.add (local.get $p) (local.get $ds)))
            (v128.store (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $p) (local.get $ds)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $bloop)))))
    (block $edone
      (loop $eloop
        (br_if $edone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $p (local.get $src))
        (local.set $l (i32.const 0))
        (block $ldone
          (loop $lloop
            (br_if $ldone (i32.ge_u (local.get $l) (i32.const 16)))
            (i32.store (i32.add (local.get $dst) (local.get $l)) (i32.load (local.get $p)))
            (local.set $p (i32.add (local.get $p) (local.get $sl)))
            (local.set $l (i32.add (local.get $l) (i32.const 4)))
            (br $lloop)))
        (local.set $src (i32.add (local.get $src) (local.get $sk)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $eloop))))

  ;; packA: A(i, k) = a[i·sai + k·sak] (elements; M x K, any M) written at out as ceil(M/4) blocks of
  ;; K groups of 4 floats, A(4b + l, k) at out[b·4K + 4k + l], rows from M on zero: the layout
  ;; gemm reads with sab = 4·K, sai = 1, sak = 4 (one pointer per block, 16 bytes per k).
  (func (export "packA") (param $a i32) (param $sai i32) (param $sak i32) (param $M i32) (param $K i32) (param $out i32)
    (local $i i32) (local $n i32) (local $l i32) (local $p i32) (local $q i32) (local $kb i32)
    (local.set $sai (i32.shl (local.get $sai) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    ;; bytes per block
    (local.set $kb (i32.shl (local.get $K) (i32.const 4)))
    ;; Adjacent rows (a transposed A): 4 blocks at a time, so that each k reads 64 contiguous
    ;; bytes (a whole cache line once, not a quarter of it four times as the line is evicted).
    (if (i32.eq (local.get $sai) (i32.const 4))
      (then
        (block $wdone
          (loop $wide
            (br_if $wdone (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $M)))
            (local.set $p (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $q (local.get $out))
            (local.set $n (local.get $K))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.eqz (local.get $n)))
                (v128.store (local.get $q) (v128.load (local.get $p)))
                (v128.store (i32.add (local.get $q) (local.get $kb)) (v128.load offset=16 (local.get $p)))
                (v128.store (i32.add (local.get $q) (i32.shl (local.get $kb) (i32.const 1))) (v128.load offset=32 (local.get $p)))
                (v128.store (i32.add (local.get $q) (i32.mul (local.get $kb) (i32.const 3))) (v128.load offset=48 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $sak)))
                (local.set $q (i32.add (local.get $q) (i32.const 16)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $kloop)))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $kb) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $wide)))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $M)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $M))
          (then (call $pack4 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))) (local.get $sai) (local.get $sak)
            (local.get $out) (i32.const 16) (local.get $K)))
          (else
            ;; the last M mod 4 rows, then zeros: lane l of group k from row i + l, or 0
            (local.set $n (i32.const 0))
            (block $zdone
              (loop $zloop
                (br_if $zdone (i32.ge_u (local.get $n) (i32.shl (local.get $K) (i32.const 4))))
                (local.set $l (i32.and (local.get $n) (i32.const 15)))
                (i32.store (i32.add (local.get $out) (local.get $n))
                  (if (result i32) (i32.lt_u (i32.add (local.get $i) (i32.shr_u (local.get $l) (i32.const 2))) (local.get $M))
                    (then (i32.load (i32.add (i32.add (local.get $a) (i32.mul (i32.add (local.get $i) (i32.shr_u (local.get $l) (i32.const 2))) (local.get $sai)))
                      (i32.mul (i32.shr_u (local.get $n) (i32.const 4)) (local.get $sak)))))
                    (else (i32.const 0))))
                (local.set $n (i32.add (local.get $n) (i32.const 4)))
                (br $zloop)))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $K) (i32.const 4))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $blocks))))
  ;; The 4 x 8 tiles of C(·, j..j+7) (C(i, j) at c + i·sci + j·scj, bytes) for A's 4-row blocks
  ;; stored as K groups of 4 adjacent floats, A(i, k) at a + floor(i/4)·sab + (i mod 4)·4 + k·sak
  ;; (bytes): a packed A (`packA`), or a transposed one read in place. One pointer per block,
  ;; splats at offsets 0, 4, 8, 12; B(k, ·) at pb0 + k·step (step ≠ 0). The k loop is kept to
  ;; two pointer increments and a compare: V8 unrolls it, and an unrolled source loop of
  ;; constant offsets is slower (TurboFan hoists all its loads and spills accumulators).
  (func $tilesPacked (param $a i32) (param $sab i32) (param $sak i32) (param $pb0 i32) (param $step i32)
    (param $c i32) (param $M i32) (param $K i32) (param $sci i32) (param $scj i32) (param $init0 v128) (param $init1 v128)
    (local $i i32) (local $pa i32) (local $pb i32) (local $end i32) (local $pc i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $i (i32.const 0))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $c00 (local.get $init0)) (local.set $c01 (local.get $init1))
        (local.set $c10 (local.get $init0)) (local.set $c11 (local.get $init1))
        (local.set $c20 (local.get $init0)) (local.set $c21 (local.get $init1))
        (local.set $c30 (local.get $init0)) (local.set $c31 (local.get $init1))
        (local.set $pa (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $sab))))
        (local.set $pb (local.get $pb0))
        (local.set $end (i32.add (local.get $pb0) (i32.mul (local.get $K) (local.get $step))))
        (if (local.get $K)
          (then
            (loop $kloop
              (local.set $b0 (v128.load (local.get $pb)))
              (local.set $b1 (v128.load offset=16 (local.get $pb)))
              (local.set $x (v128.load32_splat (local.get $pa)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat offset=4 (local.get $pa)))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat offset=8 (local.get $pa)))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat offset=12 (local.get $pa)))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
              (local.set $pb (i32.add (local.get $pb) (local.get $step)))
              (br_if $kloop (i32.ne (local.get $pb) (local.get $end))))))
        ;; the 4 x 8 tile at row i
        (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $sci))))
        (if (i32.eq (local.get $scj) (i32.const 4))
          (then
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c10))
            (v128.store offset=16 (local.get $pc) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c20))
            (v128.store offset=16 (local.get $pc) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c30))
            (v128.store offset=16 (local.get $pc) (local.get $c31)))
          (else
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c00) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c10) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c20) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c30) (local.get $c31))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop))))

  ;; As $tilesPacked for any A (A(i, k) at a + floor(i/4)·sab + (i mod 4)·sai + k·sak, bytes) and any
  ;; step: four row pointers, each advanced by sak per k.
  (func $tilesStrided (param $a i32) (param $sab i32) (param $sai i32) (param $sak i32) (param $pb0 i32) (param $step i32)
    (param $c i32) (param $M i32) (param $K i32) (param $sci i32) (param $scj i32) (param $init0 v128) (param $init1 v128)
    (local $i i32) (local $k i32) (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32) (local $pc i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $i (i32.const 0))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $c00 (local.get $init0)) (local.set $c01 (local.get $init1))
        (local.set $c10 (local.get $init0)) (local.set $c11 (local.get $init1))
        (local.set $c20 (local.get $init0)) (local.set $c21 (local.get $init1))
        (local.set $c30 (local.get $init0)) (local.set $c31 (local.get $init1))
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $sab))))
        (local.set $pa1 (i32.add (local.get $pa0) (local.get $sai)))
        (local.set $pa2 (i32.add (local.get $pa1) (local.get $sai)))
        (local.set $pa3 (i32.add (local.get $pa2) (local.get $sai)))
        (local.set $pb (local.get $pb0))
        (local.set $k (local.get $K))
        (block $kdone
          (loop $kloop
            (br_if $kdone (i32.eqz (local.get $k)))
            (local.set $b0 (v128.load (local.get $pb)))
            (local.set $b1 (v128.load offset=16 (local.get $pb)))
            (local.set $x (v128.load32_splat (local.get $pa0)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (local.get $pa1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (local.get $pa2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (local.get $pa3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
            (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
            (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
            (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
            (local.set $pb (i32.add (local.get $pb) (local.get $step)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $kloop)))
        ;; the 4 x 8 tile at row i
        (local.set $pc (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $sci))))
        (if (i32.eq (local.get $scj) (i32.const 4))
          (then
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c10))
            (v128.store offset=16 (local.get $pc) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c20))
            (v128.store offset=16 (local.get $pc) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (v128.store (local.get $pc) (local.get $c30))
            (v128.store offset=16 (local.get $pc) (local.get $c31)))
          (else
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c00) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c10) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c20) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $sci)))
            (call $storeRow (local.get $pc) (local.get $scj) (local.get $c30) (local.get $c31))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $iloop))))

  ;; Stores 8 lanes (lo, hi) at p, p + s, ..., p + 7s (s in bytes).
  (func $storeRow (param $p i32) (param $s i32) (param $lo v128) (param $hi v128)
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $lo)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 1 (local.get $lo)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 2 (local.get $lo)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 3 (local.get $lo)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $hi)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 1 (local.get $hi)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 2 (local.get $hi)))
    (local.set $p (i32.add (local.get $p) (local.get $s)))
    (f32.store (local.get $p) (f32x4.extract_lane 3 (local.get $hi))))

  ;; sqrt: out[i] = √x[i] for i < n (f32x4.sqrt: IEEE square roots, four at a time).
  (func (export "sqrt") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (v128.store (local.get $out) (f32x4.sqrt (v128.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $out) (f32.sqrt (f32.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; leakyRelu: out[i] = x[i] > 0 ? x[i] : alpha·x[i], for i < n (as the cpu backend: x < 0 ? αx : x,
  ;; which agrees for every x, ±0 and NaN included, since 0·α = 0 and NaN·α is NaN).
  (func (export "leakyRelu") (param $x i32) (param $out i32) (param $n i32) (param $alpha f32)
    (local $end i32) (local $end4 i32) (local $v v128) (local $a v128) (local $s f32)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $out)
          (v128.bitselect (f32x4.mul (local.get $v) (local.get $a)) (local.get $v)
            (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $out)
          (select (f32.mul (local.get $s) (local.get $alpha)) (local.get $s) (f32.lt (local.get $s) (f32.const 0))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; greater: out[i] = a[i] > b[i·bStep] ? 1 : 0 (bytes), i < n; bStep = 1 (same shapes) or 0
  ;; (b a scalar). Comparisons of 16 elements are narrowed from four i32x4 masks to one i8x16.
  (func (export "greater") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $bStep i32)
    (local $end i32) (local $end16 i32) (local $bv0 v128) (local $bv1 v128) (local $bv2 v128) (local $bv3 v128)
    (local $db i32)
    (local.set $end (i32.add (local.get $out) (local.get $n)))
    (local.set $end16 (i32.add (local.get $out) (i32.and (local.get $n) (i32.const -16))))
    (local.set $db (i32.shl (local.get $bStep) (i32.const 6)))
    (if (i32.eqz (local.get $bStep))
      (then
        (local.set $bv0 (v128.load32_splat (local.get $b)))
        (local.set $bv1 (local.get $bv0)) (local.set $bv2 (local.get $bv0)) (local.set $bv3 (local.get $bv0))))
    (block $done16
      (loop $loop16
        (br_if $done16 (i32.ge_u (local.get $out) (local.get $end16)))
        (if (local.get $bStep)
          (then
            (local.set $bv0 (v128.load (local.get $b)))
            (local.set $bv1 (v128.load offset=16 (local.get $b)))
            (local.set $bv2 (v128.load offset=32 (local.get $b)))
            (local.set $bv3 (v128.load offset=48 (local.get $b)))))
        (v128.store (local.get $out)
          (v128.and (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)
            (i8x16.narrow_i16x8_s
              (i16x8.narrow_i32x4_s
                (f32x4.gt (v128.load (local.get $a)) (local.get $bv0))
                (f32x4.gt (v128.load offset=16 (local.get $a)) (local.get $bv1)))
              (i16x8.narrow_i32x4_s
                (f32x4.gt (v128.load offset=32 (local.get $a)) (local.get $bv2))
                (f32x4.gt (v128.load offset=48 (local.get $a)) (local.get $bv3))))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (local.get $db)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop16)))
    (local.set $db (i32.shl (local.get $bStep) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (i32.store8 (local.get $out) (f32.gt (f32.load (local.get $a)) (f32.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (local.get $db)))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (br $loop))))

  ;; select: out[i] = condition[i] ? t[i] : e[i] for 4-byte elements (float32 or int32) and byte
  ;; conditions, i < n.
  (func (export "select") (param $condition i32) (param $t i32) (param $e i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $condition) (local.get $n)))
    (local.set $end4 (i32.add (local.get $condition) (i32.and (local.get $n) (i32.const -4))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $condition) (local.get $end4)))
        (v128.store (local.get $out)
          (v128.bitselect (v128.load (local.get $t)) (v128.load (local.get $e))
            (i32x4.ne
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $condition))))
              (v128.const i32x4 0 0 0 0))))
        (local.set $condition (i32.add (local.get $condition) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (local.set $e (i32.add (local.get $e) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $condition) (local.get $end)))
        (i32.store (local.get $out)
          (select (i32.load (local.get $t)) (i32.load (local.get $e)) (i32.load8_u (local.get $condition))))
        (local.set $condition (i32.add (local.get $condition) (i32.const 1)))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (local.set $e (i32.add (local.get $e) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; adam: one Adam step over n parameters, in tf.train.adam's order of float32 operations,
  ;; on the gradient scaled by gs (gradient clipping by global norm: g·s as clipping writes it)
  ;; and the value decayed by d (AdamW's decoupled decay 1 − α·λ: w·d as a separate product
  ;; writes it); gs = d = 1 changes nothing (x·1 = x in float32):
  ;;   g ← g·gs,   w ← w·d
  ;;   m' = m·β1 + g·(1−β1)         v' = v·β2 + g²·(1−β2)
  ;;   w' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + w      with c1 = 1−β1ᵗ, c2 = 1−β2ᵗ
  ;; written to fresh outputs ow, om, ov. Returns Σ (x − x) over w' and v': 0 when every value
  ;; written is finite, NaN otherwise (x − x is NaN exactly for NaN and ±Infinity), so the caller
  ;; learns the finiteness of the new state without reading it again. m' needs no term: a
  ;; non-finite m' makes m'/c1, its quotient by anything, its product with −lr and its sum with
  ;; w all non-finite, so w' is non-finite whenever m' is.
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $ow i32) (param $om i32) (param $ov i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32) (param $c1 f32) (param $c2 f32) (param $eps f32) (param $negLr f32) (param $gscale f32) (param $decay f32)
    (result f32)
    (local $i i32) (local $n4 i32) (local $off i32)
    (local $B1 v128) (local $OMB1 v128) (local $B2 v128) (local $OMB2 v128) (local $C1 v128) (local $C2 v128) (local $EPS v128) (local $NLR v128)
    (local $GS v128) (local $D v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $wv v128) (local $bad v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ws f32) (local $bads f32)
    (local.set $B1 (f32x4.splat (local.get $b1))) (local.set $OMB1 (f32x4.splat (local.get $omb1)))
    (local.set $B2 (f32x4.splat (local.get $b2))) (local.set $OMB2 (f32x4.splat (local.get $omb2)))
    (local.set $C1 (f32x4.splat (local.get $c1))) (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $EPS (f32x4.splat (local.get $eps))) (local.set $NLR (f32x4.splat (local.get $negLr)))
    (local.set $GS (f32x4.splat (local.get $gscale))) (local.set $D (f32x4.splat (local.get $decay)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $off))) (local.get $GS)))
        (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $off))) (local.get $B1))
                                  (f32x4.mul (local.get $gv) (local.get $OMB1))))
        (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $off))) (local.get $B2))
                                  (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OMB2))))
        (v128.store (i32.add (local.get $om) (local.get $off)) (local.get $mv))
        (v128.store (i32.add (local.get $ov) (local.get $off)) (local.get $vv))
        (local.set $wv
          (f32x4.add
            (f32x4.mul
              (f32x4.div (f32x4.div (local.get $mv) (local.get $C1))
                         (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $C2))) (local.get $EPS)))
              (local.get $NLR))
            (f32x4.mul (v128.load (i32.add (local.get $w) (local.get $off))) (local.get $D))))
        (v128.store (i32.add (local.get $ow) (local.get $off)) (local.get $wv))
        (local.set $bad
          (f32x4.add (local.get $bad)
            (f32x4.add (f32x4.sub (local.get $wv) (local.get $wv)) (f32x4.sub (local.get $vv) (local.get $vv)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $g) (local.get $off))) (local.get $gscale)))
        (local.set $ms (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $off))) (local.get $b1))
                                (f32.mul (local.get $gs) (local.get $omb1))))
        (local.set $vs (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $off))) (local.get $b2))
                                (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $omb2))))
        (f32.store (i32.add (local.get $om) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $ov) (local.get $off)) (local.get $vs))
        (local.set $ws
          (f32.add
            (f32.mul
              (f32.div (f32.div (local.get $ms) (local.get $c1))
                       (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (local.get $negLr))
            (f32.mul (f32.load (i32.add (local.get $w) (local.get $off))) (local.get $decay))))
        (f32.store (i32.add (local.get $ow) (local.get $off)) (local.get $ws))
        (local.set $bads
          (f32.add (local.get $bads)
            (f32.add (f32.sub (local.get $ws) (local.get $ws)) (f32.sub (local.get $vs) (local.get $vs)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop)))
    (f32.add (local.get $bads)
      (f32.add (f32.add (f32x4.extract_lane 0 (local.get $bad)) (f32x4.extract_lane 1 (local.get $bad)))
               (f32.add (f32x4.extract_lane 2 (local.get $bad)) (f32x4.extract_lane 3 (local.get $bad))))))

  ;; tanh: out[i] = tanh(x[i]), i < n, as Eigen's float tanh: x clamped to ±7.90531110763549805,
  ;; x·P(x²)/Q(x²) with odd degree-13 and even degree-6 polynomials, and x itself for
  ;; |x| < 0.0004. Largest error against the exact tanh 3.9e-7 (checked on a dense grid of
  ;; [-9, 9]); every step is a rounded float32 mul or add, so the SIMD and scalar paths agree.
  (func (export "tanh") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32) (local $v v128) (local $c v128) (local $x2 v128) (local $s f32) (local $cs f32) (local $x2s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $c (f32x4.max (f32x4.min (local.get $v) (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805))
                                 (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805)))
        (local.set $x2 (f32x4.mul (local.get $c) (local.get $c)))
        (v128.store (local.get $out)
          (v128.bitselect (local.get $v)
            (f32x4.div (f32x4.mul (local.get $c) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13))) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11))) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08))) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05))) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04))) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03))) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04))) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03))) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
            (f32x4.lt (f32x4.abs (local.get $v)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (local.set $cs (f32.max (f32.min (local.get $s) (f32.const 7.90531110763549805)) (f32.const -7.90531110763549805)))
        (local.set $x2s (f32.mul (local.get $cs) (local.get $cs)))
        (f32.store (local.get $out)
          (select (local.get $s)
            (f32.div (f32.mul (local.get $cs) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.const -2.76076847742355e-16)) (f32.const 2.00018790482477e-13))) (f32.const -8.60467152213735e-11))) (f32.const 5.12229709037114e-08))) (f32.const 1.48572235717979e-05))) (f32.const 6.37261928875436e-04))) (f32.const 4.89352455891786e-03))) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.add (f32.mul (local.get $x2s) (f32.const 1.19825839466702e-06)) (f32.const 1.18534705686654e-04))) (f32.const 2.26843463243900e-03))) (f32.const 4.89352518554385e-03)))
            (f32.lt (f32.abs (local.get $s)) (f32.const 0.0004))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; binary: out(i, j) = A(i, j) op B(i, j) over an M x N output (row-major, contiguous), with
  ;;   A(i, j) = a[i·sa + j·ta]   B(i, j) = b[i·sb + j·tb]   (ta, tb: 1 = a row, 0 = one value)
  ;; so one function covers same shapes (M = 1), rows [N] (sa = 0), columns [M, 1] (ta = 0) and
  ;; scalars (sa = ta = 0) on either side. op: 0 add, 1 sub, 2 mul, 3 div, 4 squared difference
  ;; (a − b)², 5 max, 6 min, 7 a (a copy of A: tile and broadcastTo). max and min follow the cpu
  ;; backend (Math.max/min, NaN wins) through the compare-and-select below.
  (func (export "binary") (param $op i32) (param $M i32) (param $N i32)
    (param $a i32) (param $sa i32) (param $ta i32) (param $b i32) (param $sb i32) (param $tb i32) (param $out i32)
    (local $i i32) (local $j i32) (local $N4 i32) (local $pa i32) (local $pb i32)
    (local $va v128) (local $vb v128) (local $r v128) (local $fa f32) (local $fb f32) (local $fr f32)
    (local.set $sa (i32.shl (local.get $sa) (i32.const 2)))
    (local.set $sb (i32.shl (local.get $sb) (i32.const 2)))
    (local.set $ta (i32.shl (local.get $ta) (i32.const 2)))
    (local.set $tb (i32.shl (local.get $tb) (i32.const 2)))
    (local.set $N4 (i32.and (local.get $N) (i32.const -4)))
    (block $idone
      (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sa))))
        (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $i) (local.get $sb))))
        ;; a one-value side is splat once per row
        (if (i32.eqz (local.get $ta)) (then (local.set $va (v128.load32_splat (local.get $pa)))))
        (if (i32.eqz (local.get $tb)) (then (local.set $vb (v128.load32_splat (local.get $pb)))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $N4)))
            (if (local.get $ta) (then (local.set $va (v128.load (local.get $pa)))))
            (if (local.get $tb) (then (local.set $vb (v128.load (local.get $pb)))))
            (block $set
              (block $copy (block $min (block $max (block $sqd (block $div (block $mul (block $sub (block $add
                (br_table $add $sub $mul $div $sqd $max $min $copy (local.get $op)))
                (local.set $r (f32x4.add (local.get $va) (local.get $vb))) (br $set))
                (local.set $r (f32x4.sub (local.get $va) (local.get $vb))) (br $set))
                (local.set $r (f32x4.mul (local.get $va) (local.get $vb))) (br $set))
                (local.set $r (f32x4.div (local.get $va) (local.get $vb))) (br $set))
                (local.set $r (f32x4.sub (local.get $va) (local.get $vb)))
                (local.set $r (f32x4.mul (local.get $r) (local.get $r))) (br $set))
                (local.set $r (f32x4.max (local.get $va) (local.get $vb))) (br $set))
                (local.set $r (f32x4.min (local.get $va) (local.get $vb))) (br $set))
              (local.set $r (local.get $va)))
            (v128.store (local.get $out) (local.get $r))
            (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $ta) (i32.const 2))))
            (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $tb) (i32.const 2))))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jloop)))
        (block $tdone
          (loop $tloop
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $N)))
            (local.set $fa (f32.load (local.get $pa)))
            (local.set $fb (f32.load (local.get $pb)))
            (block $fset
              (block $fcopy (block $fmin (block $fmax (block $fsqd (block $fdiv (block $fmul (block $fsub (block $fadd
                (br_table $fadd $fsub $fmul $fdiv $fsqd $fmax $fmin $fcopy (local.get $op)))
                (local.set $fr (f32.add (local.get $fa) (local.get $fb))) (br $fset))
                (local.set $fr (f32.sub (local.get $fa) (local.get $fb))) (br $fset))
                (local.set $fr (f32.mul (local.get $fa) (local.get $fb))) (br $fset))
                (local.set $fr (f32.div (local.get $fa) (local.get $fb))) (br $fset))
                (local.set $fr (f32.sub (local.get $fa) (local.get $fb)))
                (local.set $fr (f32.mul (local.get $fr) (local.get $fr))) (br $fset))
                (local.set $fr (f32.max (local.get $fa) (local.get $fb))) (br $fset))
                (local.set $fr (f32.min (local.get $fa) (local.get $fb))) (br $fset))
              (local.set $fr (local.get $fa)))
            (f32.store (local.get $out) (local.get $fr))
            (local.set $pa (i32.add (local.get $pa) (local.get $ta)))
            (local.set $pb (i32.add (local.get $pb) (local.get $tb)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop))))

  ;; erf: out[i] = erf(x[i]), i < n, as the cpu backend computes it (Abramowitz & Stegun 7.1.26,
  ;; error ≤ 1.5e-7): t = 1/(1 + p|x|), erf = sign(x)·(1 − t·(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e^(−x²)),
  ;; with e^y (y ≤ 0, clamped at −87) as Cephes' expf: y = n·ln2 + r, a degree-6 polynomial in r,
  ;; times 2ⁿ built in the exponent bits. The tail runs the same vector code on a splat.
  (func $erf4 (param $x v128) (result v128)
    (local $v v128) (local $t v128) (local $y v128) (local $k v128) (local $r v128) (local $e v128)
    (local.set $v (f32x4.abs (local.get $x)))
    (local.set $t (f32x4.div (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $v) (v128.const f32x4 0.3275911 0.3275911 0.3275911 0.3275911)))))
    ;; y = max(−v², −87)
    (local.set $y (f32x4.max (f32x4.neg (f32x4.mul (local.get $v) (local.get $v))) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $y) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $y) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $e
      (f32x4.add
        (f32x4.add
          (f32x4.mul (f32x4.mul (local.get $r) (local.get $r))
            (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul
              (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $r))
              (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $r))
              (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $r))
              (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $r))
              (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $r))
              (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
          (local.get $r))
        (v128.const f32x4 1 1 1 1)))
    ;; times 2^k: (k + 127) << 23 as float bits
    (local.set $e (f32x4.mul (local.get $e)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
    ;; 1 − t·poly(t)·e, with the sign of x (copysign: ±0 stays ±0 in sign, NaN stays NaN)
    (local.set $r
      (f32x4.sub (v128.const f32x4 1 1 1 1)
        (f32x4.mul (f32x4.mul (local.get $t)
          (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul
            (v128.const f32x4 1.061405429 1.061405429 1.061405429 1.061405429) (local.get $t))
            (v128.const f32x4 -1.453152027 -1.453152027 -1.453152027 -1.453152027)) (local.get $t))
            (v128.const f32x4 1.421413741 1.421413741 1.421413741 1.421413741)) (local.get $t))
            (v128.const f32x4 -0.284496736 -0.284496736 -0.284496736 -0.284496736)) (local.get $t))
            (v128.const f32x4 0.254829592 0.254829592 0.254829592 0.254829592)))
          (local.get $e))))
    ;; NaN inputs: r is NaN already (t is NaN); sign from x
    (v128.or (v128.and (local.get $r) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
             (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))

  (func (export "erf") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (v128.store (local.get $out) (call $erf4 (v128.load (local.get $x))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $out) (f32x4.extract_lane 0 (call $erf4 (v128.load32_splat (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; tanh4: four lanes of Eigen's float tanh, as "tanh" above (the GELU kernels' helper), with the
  ;; clamp written with pmin/pmax (one instruction each, where V8 spends several on min/max's
  ;; NaN and signed-zero rules): the same values for every number, and +1 instead of NaN for a
  ;; NaN (pmin(7.905…, NaN) is the bound 7.905…, as no comparison with NaN holds; GELU's own
  ;; output is NaN either way: it multiplies by x).
  (func $tanh4 (param $v v128) (result v128)
    (local $c v128) (local $x2 v128)
    (local.set $c (f32x4.pmax (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805) (f32x4.pmin (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805) (local.get $v))))
    (local.set $x2 (f32x4.mul (local.get $c) (local.get $c)))
    (v128.bitselect (local.get $v)
            (f32x4.div (f32x4.mul (local.get $c) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13))) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11))) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08))) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05))) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04))) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03))) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (f32x4.add (f32x4.mul (local.get $x2) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04))) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03))) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
            (f32x4.lt (f32x4.abs (local.get $v)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))

  ;; gelu: out[i] = 0.5·x·(1 + t), t = tanh(√(2/π)·(x + 0.044715·x³)) (GPT-2's GELU), and
  ;; tanhOut[i] = t (for "geluGrad"), for i below n rounded down to a multiple of 4 (the caller
  ;; computes the last n mod 4). √(2/π) = 0.7978845608028654, √(2/π)·0.044715 = 0.035677408136300125.
  ;; The tanh is "tanh4"'s (Eigen's rational function), written out here for four vectors at a
  ;; time, step by step, so that their four dependency chains (two Horner polynomials and a
  ;; division each) overlap instead of one call per vector waiting for the last; every lane
  ;; sees the same float32 operations in the same order as "tanh4", so the results are the
  ;; same (the clamp with pmin/pmax, as "tanh4"). The last vectors (n mod 16 < 16 elements) go
  ;; one at a time through "tanh4".
  (func (export "gelu") (param $x i32) (param $out i32) (param $tanhOut i32) (param $n i32)
    (local $end4 i32) (local $end16 i32) (local $v v128) (local $t v128)
    (local $v0 v128) (local $u0 v128) (local $c0 v128) (local $s0 v128) (local $p0 v128) (local $q0 v128) (local $t0 v128) (local $v1 v128) (local $u1 v128) (local $c1 v128) (local $s1 v128) (local $p1 v128) (local $q1 v128) (local $t1 v128) (local $v2 v128) (local $u2 v128) (local $c2 v128) (local $s2 v128) (local $p2 v128) (local $q2 v128) (local $t2 v128) (local $v3 v128) (local $u3 v128) (local $c3 v128) (local $s3 v128) (local $p3 v128) (local $q3 v128) (local $t3 v128)
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $loop16
        (br_if $done16 (i32.ge_u (local.get $x) (local.get $end16)))
        (local.set $v0 (v128.load offset=0 (local.get $x)))
        (local.set $v1 (v128.load offset=16 (local.get $x)))
        (local.set $v2 (v128.load offset=32 (local.get $x)))
        (local.set $v3 (v128.load offset=48 (local.get $x)))
        (local.set $u0 (f32x4.mul (local.get $v0) (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125) (f32x4.mul (local.get $v0) (local.get $v0))))))
        (local.set $u1 (f32x4.mul (local.get $v1) (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125) (f32x4.mul (local.get $v1) (local.get $v1))))))
        (local.set $u2 (f32x4.mul (local.get $v2) (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125) (f32x4.mul (local.get $v2) (local.get $v2))))))
        (local.set $u3 (f32x4.mul (local.get $v3) (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125) (f32x4.mul (local.get $v3) (local.get $v3))))))
        (local.set $c0 (f32x4.pmax (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805) (f32x4.pmin (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805) (local.get $u0))))
        (local.set $c1 (f32x4.pmax (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805) (f32x4.pmin (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805) (local.get $u1))))
        (local.set $c2 (f32x4.pmax (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805) (f32x4.pmin (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805) (local.get $u2))))
        (local.set $c3 (f32x4.pmax (v128.const f32x4 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805 -7.90531110763549805) (f32x4.pmin (v128.const f32x4 7.90531110763549805 7.90531110763549805 7.90531110763549805 7.90531110763549805) (local.get $u3))))
        (local.set $s0 (f32x4.mul (local.get $c0) (local.get $c0)))
        (local.set $s1 (f32x4.mul (local.get $c1) (local.get $c1)))
        (local.set $s2 (f32x4.mul (local.get $c2) (local.get $c2)))
        (local.set $s3 (f32x4.mul (local.get $c3) (local.get $c3)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (v128.const f32x4 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16 -2.76076847742355e-16)) (v128.const f32x4 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13 2.00018790482477e-13)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (v128.const f32x4 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06 1.19825839466702e-06)) (v128.const f32x4 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04 1.18534705686654e-04)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11 -8.60467152213735e-11)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $q0)) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $q1)) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $q2)) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $q3)) (v128.const f32x4 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03 2.26843463243900e-03)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08 5.12229709037114e-08)))
        (local.set $q0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $q0)) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
        (local.set $q1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $q1)) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
        (local.set $q2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $q2)) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
        (local.set $q3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $q3)) (v128.const f32x4 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03 4.89352518554385e-03)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05 1.48572235717979e-05)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04 6.37261928875436e-04)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $s0) (local.get $p0)) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $s1) (local.get $p1)) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03)))
        (local.set $p2 (f32x4.add (f32x4.mul (local.get $s2) (local.get $p2)) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03)))
        (local.set $p3 (f32x4.add (f32x4.mul (local.get $s3) (local.get $p3)) (v128.const f32x4 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03 4.89352455891786e-03)))
        (local.set $t0 (v128.bitselect (local.get $u0) (f32x4.div (f32x4.mul (local.get $c0) (local.get $p0)) (local.get $q0)) (f32x4.lt (f32x4.abs (local.get $u0)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (local.set $t1 (v128.bitselect (local.get $u1) (f32x4.div (f32x4.mul (local.get $c1) (local.get $p1)) (local.get $q1)) (f32x4.lt (f32x4.abs (local.get $u1)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (local.set $t2 (v128.bitselect (local.get $u2) (f32x4.div (f32x4.mul (local.get $c2) (local.get $p2)) (local.get $q2)) (f32x4.lt (f32x4.abs (local.get $u2)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (local.set $t3 (v128.bitselect (local.get $u3) (f32x4.div (f32x4.mul (local.get $c3) (local.get $p3)) (local.get $q3)) (f32x4.lt (f32x4.abs (local.get $u3)) (v128.const f32x4 0.0004 0.0004 0.0004 0.0004))))
        (v128.store offset=0 (local.get $out) (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v0)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t0))))
        (v128.store offset=16 (local.get $out) (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v1)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t1))))
        (v128.store offset=32 (local.get $out) (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v2)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t2))))
        (v128.store offset=48 (local.get $out) (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v3)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t3))))
        (v128.store offset=0 (local.get $tanhOut) (local.get $t0))
        (v128.store offset=16 (local.get $tanhOut) (local.get $t1))
        (v128.store offset=32 (local.get $tanhOut) (local.get $t2))
        (v128.store offset=48 (local.get $tanhOut) (local.get $t3))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (local.set $tanhOut (i32.add (local.get $tanhOut) (i32.const 64)))
        (br $loop16)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $t (call $tanh4 (f32x4.mul (local.get $v)
          (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.035677408136300125 0.035677408136300125 0.035677408136300125 0.035677408136300125) (f32x4.mul (local.get $v) (local.get $v)))))))
        (v128.store (local.get $out)
          (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v)) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t))))
        (v128.store (local.get $tanhOut) (local.get $t))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $tanhOut (i32.add (local.get $tanhOut) (i32.const 16)))
        (br $loop))))

  ;; geluGrad: out[i] = dy·(0.5·(1 + t) + 0.5·x·(1 − t²)·(√(2/π) + 3·√(2/π)·0.044715·x²)), the
  ;; derivative of "gelu" times dy, with t = tanh[i] as "gelu" wrote it, for i below n rounded
  ;; down to a multiple of 4 (as "gelu"); four vectors per iteration while 16 elements remain.
  (func (export "geluGrad") (param $dy i32) (param $x i32) (param $tanh i32) (param $out i32) (param $n i32)
    (local $end4 i32) (local $end16 i32) (local $v v128) (local $x2 v128) (local $t v128)
    (local $v0 v128) (local $t0 v128) (local $v1 v128) (local $t1 v128) (local $v2 v128) (local $t2 v128) (local $v3 v128) (local $t3 v128)
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $loop16
        (br_if $done16 (i32.ge_u (local.get $x) (local.get $end16)))
        (local.set $v0 (v128.load offset=0 (local.get $x)))
        (local.set $v1 (v128.load offset=16 (local.get $x)))
        (local.set $v2 (v128.load offset=32 (local.get $x)))
        (local.set $v3 (v128.load offset=48 (local.get $x)))
        (local.set $t0 (v128.load offset=0 (local.get $tanh)))
        (local.set $t1 (v128.load offset=16 (local.get $tanh)))
        (local.set $t2 (v128.load offset=32 (local.get $tanh)))
        (local.set $t3 (v128.load offset=48 (local.get $tanh)))
        (v128.store offset=0 (local.get $out)
          (f32x4.mul (v128.load offset=0 (local.get $dy))
            (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t0)))
              (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v0)) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t0) (local.get $t0))))
                (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037) (f32x4.mul (local.get $v0) (local.get $v0))))))))
        (v128.store offset=16 (local.get $out)
          (f32x4.mul (v128.load offset=16 (local.get $dy))
            (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t1)))
              (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v1)) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t1) (local.get $t1))))
                (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037) (f32x4.mul (local.get $v1) (local.get $v1))))))))
        (v128.store offset=32 (local.get $out)
          (f32x4.mul (v128.load offset=32 (local.get $dy))
            (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t2)))
              (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v2)) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t2) (local.get $t2))))
                (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037) (f32x4.mul (local.get $v2) (local.get $v2))))))))
        (v128.store offset=48 (local.get $out)
          (f32x4.mul (v128.load offset=48 (local.get $dy))
            (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t3)))
              (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v3)) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t3) (local.get $t3))))
                (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037) (f32x4.mul (local.get $v3) (local.get $v3))))))))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 64)))
        (local.set $tanh (i32.add (local.get $tanh) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (br $loop16)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $x2 (f32x4.mul (local.get $v) (local.get $v)))
        (local.set $t (v128.load (local.get $tanh)))
        (v128.store (local.get $out)
          (f32x4.mul (v128.load (local.get $dy))
            (f32x4.add (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $t)))
              (f32x4.mul (f32x4.mul (f32x4.mul (v128.const f32x4 0.5 0.5 0.5 0.5) (local.get $v)) (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $t) (local.get $t))))
                (f32x4.add (v128.const f32x4 0.7978845608028654 0.7978845608028654 0.7978845608028654 0.7978845608028654) (f32x4.mul (v128.const f32x4 0.10703222440890037 0.10703222440890037 0.10703222440890037 0.10703222440890037) (local.get $x2)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $tanh (i32.add (local.get $tanh) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop))))

  ;; layerNorm: each of `rows` rows of C values (C a multiple of 4) normalized on its own, sums
  ;; in float32 lanes: μ = mean(x), σ² = mean((x − μ)²), r = 1/√(σ² + ε), x̂ = (x − μ)·r and
  ;; y = γ·x̂ + β (γ, β: C values); writes y, x̂ (rows·C) and r (rows).
  (func (export "layerNorm") (param $x i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $xhat i32) (param $r i32)
        (param $rows i32) (param $C i32) (param $eps f32)
    (local $row i32) (local $k i32) (local $bytes i32) (local $acc v128) (local $d v128) (local $h v128)
    (local $mean v128) (local $rr f32) (local $rv v128)
    (local.set $bytes (i32.shl (local.get $C) (i32.const 2)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $k) (local.get $bytes)))
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $x) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l1)))
        (local.set $mean (f32x4.splat (f32.div (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))) (f32.convert_i32_u (local.get $C)))))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $k) (local.get $bytes)))
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $mean)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l2)))
        (local.set $rr (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))) (f32.convert_i32_u (local.get $C))) (local.get $eps)))))
        (f32.store (local.get $r) (local.get $rr))
        (local.set $rv (f32x4.splat (local.get $rr)))
        (local.set $k (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_u (local.get $k) (local.get $bytes)))
          (local.set $h (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $mean)) (local.get $rv)))
          (v128.store (i32.add (local.get $xhat) (local.get $k)) (local.get $h))
          (v128.store (i32.add (local.get $y) (local.get $k))
            (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $k))) (local.get $h))
                       (v128.load (i32.add (local.get $beta) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l3)))
        (local.set $x (i32.add (local.get $x) (local.get $bytes)))
        (local.set $y (i32.add (local.get $y) (local.get $bytes)))
        (local.set $xhat (i32.add (local.get $xhat) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  ;; layerNormGrad: with g = γ·dy and means over each row of C (a multiple of 4),
  ;; dx = r·(g − mean(g) − x̂·mean(g·x̂)); adds Σ_rows dy·x̂ to dGamma and Σ_rows dy to dBeta
  ;; (C values each, zeroed by the caller).
  (func (export "layerNormGrad") (param $dy i32) (param $xhat i32) (param $r i32) (param $gamma i32) (param $dx i32)
        (param $dGamma i32) (param $dBeta i32) (param $rows i32) (param $C i32)
    (local $row i32) (local $k i32) (local $bytes i32) (local $sg v128) (local $sgh v128) (local $d v128) (local $h v128)
    (local $g v128) (local $mg v128) (local $mgh v128) (local $rv v128) (local $n f32)
    (local.set $bytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $n (f32.convert_i32_u (local.get $C)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $sg (v128.const f32x4 0 0 0 0))
        (local.set $sgh (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $k) (local.get $bytes)))
          (local.set $d (v128.load (i32.add (local.get $dy) (local.get $k))))
          (local.set $h (v128.load (i32.add (local.get $xhat) (local.get $k))))
          (local.set $g (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $k))) (local.get $d)))
          (local.set $sg (f32x4.add (local.get $sg) (local.get $g)))
          (local.set $sgh (f32x4.add (local.get $sgh) (f32x4.mul (local.get $g) (local.get $h))))
          (v128.store (i32.add (local.get $dGamma) (local.get $k))
            (f32x4.add (v128.load (i32.add (local.get $dGamma) (local.get $k))) (f32x4.mul (local.get $d) (local.get $h))))
          (v128.store (i32.add (local.get $dBeta) (local.get $k))
            (f32x4.add (v128.load (i32.add (local.get $dBeta) (local.get $k))) (local.get $d)))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l1)))
        (local.set $mg (f32x4.splat (f32.div (f32.add (f32.add (f32x4.extract_lane 0 (local.get $sg)) (f32x4.extract_lane 1 (local.get $sg))) (f32.add (f32x4.extract_lane 2 (local.get $sg)) (f32x4.extract_lane 3 (local.get $sg)))) (local.get $n))))
        (local.set $mgh (f32x4.splat (f32.div (f32.add (f32.add (f32x4.extract_lane 0 (local.get $sgh)) (f32x4.extract_lane 1 (local.get $sgh))) (f32.add (f32x4.extract_lane 2 (local.get $sgh)) (f32x4.extract_lane 3 (local.get $sgh)))) (local.get $n))))
        (local.set $rv (f32x4.splat (f32.load (local.get $r))))
        (local.set $k (i32.const 0))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $k) (local.get $bytes)))
          (v128.store (i32.add (local.get $dx) (local.get $k))
            (f32x4.mul (local.get $rv)
              (f32x4.sub
                (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $k))) (v128.load (i32.add (local.get $dy) (local.get $k))))
                           (local.get $mg))
                (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $k))) (local.get $mgh)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l2)))
        (local.set $dy (i32.add (local.get $dy) (local.get $bytes)))
        (local.set $xhat (i32.add (local.get $xhat) (local.get $bytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  ;; sumSquares: Σ x[i]² over i < n, in four float32 lanes (the last n mod 4 in a fifth), summed
  ;; at the end: one gradient's share of a global norm.
  (func (export "sumSquares") (param $x i32) (param $n i32) (result f32)
    (local $end i32) (local $end4 i32) (local $acc v128) (local $v v128) (local $tail f32) (local $s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $v) (local.get $v))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (local.set $tail (f32.add (local.get $tail) (f32.mul (local.get $s) (local.get $s))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $loop)))
    (f32.add (local.get $tail)
      (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
               (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))

  ;; scale: out[i] = x[i]·s, i < n.
  (func (export "scale") (param $x i32) (param $out i32) (param $n i32) (param $s f32)
    (local $end i32) (local $end4 i32) (local $sv v128)
    (local.set $sv (f32x4.splat (local.get $s)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $x)) (local.get $sv)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $out) (f32.mul (f32.load (local.get $x)) (local.get $s)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))
  ;; ---- group normalization (genblocks "unetstep"; see group-norm.ts) ----
  ;; $sumGroup: Σ (as f64) of the f32 values at p[k], k in [g·S, (g+1)·S) (p a per-channel row).
  (func $sumGroup (param $p i32) (param $g i32) (param $S i32) (result f64)
    (local $k i32) (local $end i32) (local $s f64)
    (local.set $k (i32.add (local.get $p) (i32.shl (i32.mul (local.get $g) (local.get $S)) (i32.const 2))))
    (local.set $end (i32.add (local.get $k) (i32.shl (local.get $S) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $loop)))
    (local.get $s))
  ;; $sumGroupScaled: Σ (as f64) of w[k]·p[k] over group g.
  (func $sumGroupScaled (param $p i32) (param $w i32) (param $g i32) (param $S i32) (result f64)
    (local $k i32) (local $end i32) (local $o i32) (local $s f64)
    (local.set $o (i32.shl (i32.mul (local.get $g) (local.get $S)) (i32.const 2)))
    (local.set $k (i32.const 0))
    (local.set $end (i32.shl (local.get $S) (i32.const 2)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $s (f64.add (local.get $s)
          (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $w) (i32.add (local.get $o) (local.get $k)))))
                   (f64.promote_f32 (f32.load (i32.add (local.get $p) (i32.add (local.get $o) (local.get $k))))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $loop)))
    (local.get $s))
  ;; $fillGroup: q[k] = v for k in group g.
  (func $fillGroup (param $q i32) (param $g i32) (param $S i32) (param $v f32)
    (local $k i32) (local $end i32)
    (local.set $k (i32.add (local.get $q) (i32.shl (i32.mul (local.get $g) (local.get $S)) (i32.const 2))))
    (local.set $end (i32.add (local.get $k) (i32.shl (local.get $S) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (f32.store (local.get $k) (local.get $v))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $loop))))
  ;; $zero: n floats at p set to 0 (n a multiple of 4).
  (func $zero (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $loop))))

  ;; groupNorm: for `batch` examples of x [P positions, C = G·S channels] (C % 4 == 0), per
  ;; (example, group): μ = mean, σ² = mean((x − μ)²), r = 1/√(σ² + ε) (f64), x̂ = (x − μ)·r,
  ;; y = γ·x̂ + β; r stored at r[n·G + g]. Per-channel sums over positions in f32x4, combined per
  ;; group in f64. scratch: 3·C floats (sums, per-channel μ, per-channel r).
  (func (export "groupNorm")
    (param $x i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $xHat i32) (param $r i32)
    (param $scratch i32) (param $batch i32) (param $P i32) (param $G i32) (param $S i32) (param $eps f32)
    (local $C i32) (local $CB i32) (local $acc i32) (local $mean i32) (local $rc i32) (local $n i32) (local $g i32)
    (local $px i32) (local $end i32) (local $c i32) (local $count f64) (local $rg f32) (local $d v128) (local $h v128)
    (local.set $C (i32.mul (local.get $G) (local.get $S)))
    (local.set $CB (i32.shl (local.get $C) (i32.const 2)))
    (local.set $acc (local.get $scratch))
    (local.set $mean (i32.add (local.get $acc) (local.get $CB)))
    (local.set $rc (i32.add (local.get $mean) (local.get $CB)))
    (local.set $count (f64.convert_i32_u (i32.mul (local.get $P) (local.get $S))))
    (block $ndone
      (loop $nloop
        (br_if $ndone (i32.ge_u (local.get $n) (local.get $batch)))
        (local.set $end (i32.add (local.get $x) (i32.mul (local.get $P) (local.get $CB))))
        ;; means
        (call $zero (local.get $acc) (local.get $C))
        (local.set $px (local.get $x))
        (block $pdone (loop $ploop
          (br_if $pdone (i32.ge_u (local.get $px) (local.get $end)))
          (local.set $c (i32.const 0))
          (block $cdone (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $CB)))
            (v128.store (i32.add (local.get $acc) (local.get $c))
              (f32x4.add (v128.load (i32.add (local.get $acc) (local.get $c))) (v128.load (i32.add (local.get $px) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop)))
          (local.set $px (i32.add (local.get $px) (local.get $CB)))
          (br $ploop)))
        (local.set $g (i32.const 0))
        (block $gdone (loop $gloop
          (br_if $gdone (i32.ge_u (local.get $g) (local.get $G)))
          (call $fillGroup (local.get $mean) (local.get $g) (local.get $S)
            (f32.demote_f64 (f64.div (call $sumGroup (local.get $acc) (local.get $g) (local.get $S)) (local.get $count))))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br $gloop)))
        ;; variances
        (call $zero (local.get $acc) (local.get $C))
        (local.set $px (local.get $x))
        (block $pdone2 (loop $ploop2
          (br_if $pdone2 (i32.ge_u (local.get $px) (local.get $end)))
          (local.set $c (i32.const 0))
          (block $cdone2 (loop $cloop2
            (br_if $cdone2 (i32.ge_u (local.get $c) (local.get $CB)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $px) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c)))))
            (v128.store (i32.add (local.get $acc) (local.get $c))
              (f32x4.add (v128.load (i32.add (local.get $acc) (local.get $c))) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop2)))
          (local.set $px (i32.add (local.get $px) (local.get $CB)))
          (br $ploop2)))
        (local.set $g (i32.const 0))
        (block $gdone2 (loop $gloop2
          (br_if $gdone2 (i32.ge_u (local.get $g) (local.get $G)))
          (local.set $rg (f32.demote_f64 (f64.div (f64.const 1)
            (f64.sqrt (f64.add (f64.div (call $sumGroup (local.get $acc) (local.get $g) (local.get $S)) (local.get $count))
                               (f64.promote_f32 (local.get $eps)))))))
          (f32.store (i32.add (local.get $r) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $G)) (local.get $g)) (i32.const 2))) (local.get $rg))
          (call $fillGroup (local.get $rc) (local.get $g) (local.get $S) (local.get $rg))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br $gloop2)))
        ;; x̂ and y
        (block $pdone3 (loop $ploop3
          (br_if $pdone3 (i32.ge_u (local.get $x) (local.get $end)))
          (local.set $c (i32.const 0))
          (block $cdone3 (loop $cloop3
            (br_if $cdone3 (i32.ge_u (local.get $c) (local.get $CB)))
            (local.set $h (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c))))
              (v128.load (i32.add (local.get $rc) (local.get $c)))))
            (v128.store (i32.add (local.get $xHat) (local.get $c)) (local.get $h))
            (v128.store (i32.add (local.get $y) (local.get $c))
              (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $c))) (local.get $h))
                         (v128.load (i32.add (local.get $beta) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop3)))
          (local.set $x (i32.add (local.get $x) (local.get $CB)))
          (local.set $xHat (i32.add (local.get $xHat) (local.get $CB)))
          (local.set $y (i32.add (local.get $y) (local.get $CB)))
          (br $ploop3)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nloop))))

  ;; groupNormGrad: for `batch` examples (layout as groupNorm), with g = γ·dy and means over each
  ;; (example, group): dx = r·(g − mean(g) − x̂·mean(g·x̂)); partial [batch, 2, C] receives each
  ;; example's per-channel Σ dy (dβ's share) and Σ dy·x̂ (dγ's share). scratch: 3·C floats.
  (func (export "groupNormGrad")
    (param $dy i32) (param $xHat i32) (param $r i32) (param $gamma i32) (param $dx i32) (param $partial i32)
    (param $scratch i32) (param $batch i32) (param $P i32) (param $G i32) (param $S i32)
    (local $C i32) (local $CB i32) (local $accB i32) (local $accH i32) (local $meanG i32) (local $meanH i32) (local $rc i32)
    (local $n i32) (local $g i32) (local $pd i32) (local $ph i32) (local $end i32) (local $c i32) (local $count f64)
    (local $d v128)
    (local.set $C (i32.mul (local.get $G) (local.get $S)))
    (local.set $CB (i32.shl (local.get $C) (i32.const 2)))
    (local.set $meanG (local.get $scratch))
    (local.set $meanH (i32.add (local.get $meanG) (local.get $CB)))
    (local.set $rc (i32.add (local.get $meanH) (local.get $CB)))
    (local.set $count (f64.convert_i32_u (i32.mul (local.get $P) (local.get $S))))
    (block $ndone
      (loop $nloop
        (br_if $ndone (i32.ge_u (local.get $n) (local.get $batch)))
        (local.set $accB (i32.add (local.get $partial) (i32.mul (local.get $n) (i32.shl (local.get $CB) (i32.const 1)))))
        (local.set $accH (i32.add (local.get $accB) (local.get $CB)))
        (call $zero (local.get $accB) (i32.shl (local.get $C) (i32.const 1)))
        (local.set $end (i32.add (local.get $dy) (i32.mul (local.get $P) (local.get $CB))))
        (local.set $pd (local.get $dy))
        (local.set $ph (local.get $xHat))
        (block $pdone (loop $ploop
          (br_if $pdone (i32.ge_u (local.get $pd) (local.get $end)))
          (local.set $c (i32.const 0))
          (block $cdone (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $CB)))
            (local.set $d (v128.load (i32.add (local.get $pd) (local.get $c))))
            (v128.store (i32.add (local.get $accB) (local.get $c))
              (f32x4.add (v128.load (i32.add (local.get $accB) (local.get $c))) (local.get $d)))
            (v128.store (i32.add (local.get $accH) (local.get $c))
              (f32x4.add (v128.load (i32.add (local.get $accH) (local.get $c)))
                         (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $ph) (local.get $c))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop)))
          (local.set $pd (i32.add (local.get $pd) (local.get $CB)))
          (local.set $ph (i32.add (local.get $ph) (local.get $CB)))
          (br $ploop)))
        (local.set $g (i32.const 0))
        (block $gdone (loop $gloop
          (br_if $gdone (i32.ge_u (local.get $g) (local.get $G)))
          (call $fillGroup (local.get $meanG) (local.get $g) (local.get $S)
            (f32.demote_f64 (f64.div (call $sumGroupScaled (local.get $accB) (local.get $gamma) (local.get $g) (local.get $S)) (local.get $count))))
          (call $fillGroup (local.get $meanH) (local.get $g) (local.get $S)
            (f32.demote_f64 (f64.div (call $sumGroupScaled (local.get $accH) (local.get $gamma) (local.get $g) (local.get $S)) (local.get $count))))
          (call $fillGroup (local.get $rc) (local.get $g) (local.get $S)
            (f32.load (i32.add (local.get $r) (i32.shl (i32.add (i32.mul (local.get $n) (local.get $G)) (local.get $g)) (i32.const 2)))))
          (local.set $g (i32.add (local.get $g) (i32.const 1)))
          (br $gloop)))
        (block $pdone2 (loop $ploop2
          (br_if $pdone2 (i32.ge_u (local.get $dy) (local.get $end)))
          (local.set $c (i32.const 0))
          (block $cdone2 (loop $cloop2
            (br_if $cdone2 (i32.ge_u (local.get $c) (local.get $CB)))
            (v128.store (i32.add (local.get $dx) (local.get $c))
              (f32x4.mul (v128.load (i32.add (local.get $rc) (local.get $c)))
                (f32x4.sub
                  (f32x4.sub
                    (f32x4.mul (v128.load (i32.add (local.get $gamma) (local.get $c))) (v128.load (i32.add (local.get $dy) (local.get $c))))
                    (v128.load (i32.add (local.get $meanG) (local.get $c))))
                  (f32x4.mul (v128.load (i32.add (local.get $xHat) (local.get $c))) (v128.load (i32.add (local.get $meanH) (local.get $c)))))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop2)))
          (local.set $dy (i32.add (local.get $dy) (local.get $CB)))
          (local.set $xHat (i32.add (local.get $xHat) (local.get $CB)))
          (local.set $dx (i32.add (local.get $dx) (local.get $CB)))
          (br $ploop2)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nloop))))

  ;; ---- transposes (genblocks "gpt2"; see transpose.ts) ----
  ;; transpose: `batch` matrices of R x C 4-byte elements (float32 or int32) at x, each written
  ;; transposed at out: out[m·R·C + c·R + r] = x[m·R·C + r·C + c]. 4 x 4 blocks go through
  ;; registers (two rounds of lane shuffles: pairs, then pairs of pairs); each strip of 4 rows
  ;; is taken in bands of 64 columns, so that the band's 64 output rows stay in cache while the
  ;; strips pass. The edges (C mod 4 columns, R mod 4 rows) are copied element by element. The
  ;; elements are moved as bits (i32 loads and stores, shuffles), never as floats.
  (func (export "transpose") (param $x i32) (param $out i32) (param $batch i32) (param $R i32) (param $C i32)
    (local $R4 i32) (local $C4 i32) (local $rowB i32) (local $colB i32)
    (local $c0 i32) (local $c1 i32) (local $r i32) (local $c i32) (local $p i32) (local $q i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    ;; bytes per input row, per output row
    (local.set $rowB (i32.shl (local.get $C) (i32.const 2)))
    (local.set $colB (i32.shl (local.get $R) (i32.const 2)))
    (block $mdone (loop $mloop
      (br_if $mdone (i32.eqz (local.get $batch)))
      (local.set $c0 (i32.const 0))
      (block $bdone (loop $bloop
        (br_if $bdone (i32.ge_u (local.get $c0) (local.get $C4)))
        (local.set $c1 (i32.add (local.get $c0) (i32.const 64)))
        (if (i32.gt_u (local.get $c1) (local.get $C4)) (then (local.set $c1 (local.get $C4))))
        (local.set $r (i32.const 0))
        (block $rdone (loop $rloop
          (br_if $rdone (i32.ge_u (local.get $r) (local.get $R4)))
          (local.set $c (local.get $c0))
          (block $cdone (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $c1)))
            ;; rows r..r+3 at columns c..c+3: a0..a3, b0..b3, c0..c3, d0..d3
            (local.set $p (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2))))
            (local.set $v0 (v128.load (local.get $p)))
            (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $rowB))))
            (local.set $v2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $rowB) (i32.const 1)))))
            (local.set $v3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $rowB) (i32.const 3)))))
            ;; a0 b0 a1 b1, a2 b2 a3 b3, c0 d0 c1 d1, c2 d2 c3 d3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
            ;; columns c..c+3 as rows of out: a0 b0 c0 d0, a1 b1 c1 d1, a2 b2 c2 d2, a3 b3 c3 d3
            (local.set $q (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2))))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (local.get $colB))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (i32.shl (local.get $colB) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $colB) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cloop)))
          (local.set $r (i32.add (local.get $r) (i32.const 4)))
          (br $rloop)))
        (local.set $c0 (local.get $c1))
        (br $bloop)))
      ;; the last C mod 4 columns, every row
      (local.set $c (local.get $C4))
      (block $edone (loop $eloop
        (br_if $edone (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $r (i32.const 0))
        (block $erdone (loop $erloop
          (br_if $erdone (i32.ge_u (local.get $r) (local.get $R)))
          (i32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2)))
            (i32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $erloop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $eloop)))
      ;; the last R mod 4 rows, the first C4 columns
      (local.set $r (local.get $R4))
      (block $fdone (loop $floop
        (br_if $fdone (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $c (i32.const 0))
        (block $fcdone (loop $fcloop
          (br_if $fcdone (i32.ge_u (local.get $c) (local.get $C4)))
          (i32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2)))
            (i32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $fcloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $floop)))
      (local.set $x (i32.add (local.get $x) (i32.mul (local.get $rowB) (local.get $R))))
      (local.set $out (i32.add (local.get $out) (i32.mul (local.get $rowB) (local.get $R))))
      (local.set $batch (i32.sub (local.get $batch) (i32.const 1)))
      (br $mloop))))

  ;; copyRuns: n0·n1·n2·n3 runs of `run` 4-byte elements written one after another at out, run
  ;; (i0, i1, i2, i3) read from x + (i0·s0 + i1·s1 + i2·s2 + i3·s3)·4 (strides in elements): a
  ;; transpose that keeps the innermost axis innermost, as nested loops over up to four outer
  ;; axes (unused ones of extent 1). Each run is copied 16 bytes at a time, its last run mod 4
  ;; elements one by one (as bits: no float conversion).
  (func (export "copyRuns") (param $x i32) (param $out i32) (param $run i32)
    (param $n0 i32) (param $n1 i32) (param $n2 i32) (param $n3 i32)
    (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32)
    (local $i0 i32) (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $k i32) (local $runB i32) (local $run16 i32)
    (local.set $s0 (i32.shl (local.get $s0) (i32.const 2)))
    (local.set $s1 (i32.shl (local.get $s1) (i32.const 2)))
    (local.set $s2 (i32.shl (local.get $s2) (i32.const 2)))
    (local.set $s3 (i32.shl (local.get $s3) (i32.const 2)))
    (local.set $runB (i32.shl (local.get $run) (i32.const 2)))
    (local.set $run16 (i32.and (local.get $runB) (i32.const -16)))
    (local.set $i0 (local.get $n0))
    (block $d0 (loop $l0
      (br_if $d0 (i32.eqz (local.get $i0)))
      (local.set $p1 (local.get $x))
      (local.set $i1 (local.get $n1))
      (block $d1 (loop $l1
        (br_if $d1 (i32.eqz (local.get $i1)))
        (local.set $p2 (local.get $p1))
        (local.set $i2 (local.get $n2))
        (block $d2 (loop $l2
          (br_if $d2 (i32.eqz (local.get $i2)))
          (local.set $p3 (local.get $p2))
          (local.set $i3 (local.get $n3))
          (block $d3 (loop $l3
            (br_if $d3 (i32.eqz (local.get $i3)))
            (local.set $k (i32.const 0))
            (block $vdone (loop $vloop
              (br_if $vdone (i32.ge_u (local.get $k) (local.get $run16)))
              (v128.store (i32.add (local.get $out) (local.get $k)) (v128.load (i32.add (local.get $p3) (local.get $k))))
              (local.set $k (i32.add (local.get $k) (i32.const 16)))
              (br $vloop)))
            (block $sdone (loop $sloop
              (br_if $sdone (i32.ge_u (local.get $k) (local.get $runB)))
              (i32.store (i32.add (local.get $out) (local.get $k)) (i32.load (i32.add (local.get $p3) (local.get $k))))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $sloop)))
            (local.set $out (i32.add (local.get $out) (local.get $runB)))
            (local.set $p3 (i32.add (local.get $p3) (local.get $s3)))
            (local.set $i3 (i32.sub (local.get $i3) (i32.const 1)))
            (br $l3)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $s2)))
          (local.set $i2 (i32.sub (local.get $i2) (i32.const 1)))
          (br $l2)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $s1)))
        (local.set $i1 (i32.sub (local.get $i1) (i32.const 1)))
        (br $l1)))
      (local.set $x (i32.add (local.get $x) (local.get $s0)))
      (local.set $i0 (i32.sub (local.get $i0) (i32.const 1)))
      (br $l0))))

  ;; ---- unet3 (issue 18): column sums ----

  ;; sumRows: out[b·cols + j] = Σ_i x[(b·rows + i)·cols + j] for b < batch, j < cols: the sums of
  ;; the rows of `batch` matrices [rows, cols], each column accumulated from 0 in order of i (as
  ;; a gemm by a row of ones would, at a quarter of its work: no repeated tile rows). Columns in
  ;; blocks of 16 (four f32x4 accumulators), then of 4, then one by one.
  (func (export "sumRows") (param $x i32) (param $out i32) (param $batch i32) (param $rows i32) (param $cols i32)
    (local $ld i32) (local $j i32) (local $i i32) (local $p i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f32)
    (local.set $ld (i32.shl (local.get $cols) (i32.const 2)))
    (block $bdone
      (loop $bloop
        (br_if $bdone (i32.eqz (local.get $batch)))
        (local.set $j (i32.const 0))
        (block $d16
          (loop $l16
            (br_if $d16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $cols)))
            (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $i (local.get $rows))
            (block $rdone
              (loop $rloop
                (br_if $rdone (i32.eqz (local.get $i)))
                (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
                (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $p))))
                (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $p))))
                (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $ld)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $rloop)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (local.get $o) (local.get $a0))
            (v128.store offset=16 (local.get $o) (local.get $a1))
            (v128.store offset=32 (local.get $o) (local.get $a2))
            (v128.store offset=48 (local.get $o) (local.get $a3))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l16)))
        (block $d4
          (loop $l4
            (br_if $d4 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $i (local.get $rows))
            (block $rdone4
              (loop $rloop4
                (br_if $rdone4 (i32.eqz (local.get $i)))
                (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $ld)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $rloop4)))
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $a0))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $s (f32.const 0))
            (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $i (local.get $rows))
            (block $rdone1
              (loop $rloop1
                (br_if $rdone1 (i32.eqz (local.get $i)))
                (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $ld)))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $rloop1)))
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l1)))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $ld))))
        (local.set $out (i32.add (local.get $out) (local.get $ld)))
        (local.set $batch (i32.sub (local.get $batch) (i32.const 1)))
        (br $bloop))))
;; siluGrad: out[i] = dy[i]·s[i]·(1 + x[i]·(1 − s[i])) for i < n, s = σ(x) kept by the forward
  ;; pass: the derivative of x·σ(x), one pass where tfjs' gradient of x·σ(x) runs about six.
  (func (export "siluGrad") (param $dy i32) (param $x i32) (param $s i32) (param $out i32) (param $n i32)
    (local $end i32) (local $end4 i32) (local $sv v128) (local $ss f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $sv (v128.load (local.get $s)))
        (v128.store (local.get $out)
          (f32x4.mul (f32x4.mul (v128.load (local.get $dy)) (local.get $sv))
            (f32x4.add (v128.const f32x4 1 1 1 1)
              (f32x4.mul (v128.load (local.get $x)) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $sv))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $loop4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $ss (f32.load (local.get $s)))
        (f32.store (local.get $out)
          (f32.mul (f32.mul (f32.load (local.get $dy)) (local.get $ss))
            (f32.add (f32.const 1) (f32.mul (f32.load (local.get $x)) (f32.sub (f32.const 1) (local.get $ss))))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))
;; copyStrided: rows runs of `run` 4-byte elements from x (run r at element r·sx) to out (at
  ;; r·so), bit copies: a concatenation's strided writes (each input's part of every output row).
  (func (export "copyStrided") (param $x i32) (param $sx i32) (param $out i32) (param $so i32) (param $rows i32) (param $run i32)
    (local $runB i32) (local $run16 i32) (local $k i32)
    (local.set $runB (i32.shl (local.get $run) (i32.const 2)))
    (local.set $run16 (i32.and (local.get $runB) (i32.const -16)))
    (local.set $sx (i32.shl (local.get $sx) (i32.const 2)))
    (local.set $so (i32.shl (local.get $so) (i32.const 2)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.eqz (local.get $rows)))
        (local.set $k (i32.const 0))
        (block $vdone (loop $vloop
          (br_if $vdone (i32.ge_u (local.get $k) (local.get $run16)))
          (v128.store (i32.add (local.get $out) (local.get $k)) (v128.load (i32.add (local.get $x) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $vloop)))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $k) (local.get $runB)))
          (i32.store (i32.add (local.get $out) (local.get $k)) (i32.load (i32.add (local.get $x) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $sloop)))
        (local.set $x (i32.add (local.get $x) (local.get $sx)))
        (local.set $out (i32.add (local.get $out) (local.get $so)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rloop))))

  ;; gatherRuns: out[k·run + j] = x[idx[k]·run + j] for k < count, j < run (idx: int32), bit
  ;; copies: nearest-neighbour resizing, one run of channels per output pixel.
  (func (export "gatherRuns") (param $x i32) (param $out i32) (param $idx i32) (param $count i32) (param $run i32)
    (local $runB i32) (local $run16 i32) (local $k i32) (local $src i32)
    (local.set $runB (i32.shl (local.get $run) (i32.const 2)))
    (local.set $run16 (i32.and (local.get $runB) (i32.const -16)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.eqz (local.get $count)))
        (local.set $src (i32.add (local.get $x) (i32.mul (i32.load (local.get $idx)) (local.get $runB))))
        (local.set $k (i32.const 0))
        (block $vdone (loop $vloop
          (br_if $vdone (i32.ge_u (local.get $k) (local.get $run16)))
          (v128.store (i32.add (local.get $out) (local.get $k)) (v128.load (i32.add (local.get $src) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $vloop)))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $k) (local.get $runB)))
          (i32.store (i32.add (local.get $out) (local.get $k)) (i32.load (i32.add (local.get $src) (local.get $k))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $sloop)))
        (local.set $out (i32.add (local.get $out) (local.get $runB)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $rloop))))

  ;; scatterAddRuns: dx[idx[k]·run + j] += dy[k·run + j] for k < count in order, j < run (float32
  ;; additions, as a scalar loop makes them): the adjoint of gatherRuns.
  (func (export "scatterAddRuns") (param $dy i32) (param $dx i32) (param $idx i32) (param $count i32) (param $run i32)
    (local $runB i32) (local $run16 i32) (local $k i32) (local $dst i32)
    (local.set $runB (i32.shl (local.get $run) (i32.const 2)))
    (local.set $run16 (i32.and (local.get $runB) (i32.const -16)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.eqz (local.get $count)))
        (local.set $dst (i32.add (local.get $dx) (i32.mul (i32.load (local.get $idx)) (local.get $runB))))
        (local.set $k (i32.const 0))
        (block $vdone (loop $vloop
          (br_if $vdone (i32.ge_u (local.get $k) (local.get $run16)))
          (v128.store (i32.add (local.get $dst) (local.get $k))
            (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $k))) (v128.load (i32.add (local.get $dy) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $vloop)))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $k) (local.get $runB)))
          (f32.store (i32.add (local.get $dst) (local.get $k))
            (f32.add (f32.load (i32.add (local.get $dst) (local.get $k))) (f32.load (i32.add (local.get $dy) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $sloop)))
        (local.set $dy (i32.add (local.get $dy) (local.get $runB)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $rloop))))
  ;; ---- end unet3 ----

  ;; ---- strided transpose (genblocks "gptthreads": lets the heap pool split one matrix's transpose by rows) ----
  ;; transposeStrided: one R x C matrix of 4-byte elements at x (rows ldx elements apart) written
  ;; transposed at out (rows ldo elements apart): out[c·ldo + r] = x[r·ldx + c]. The same 4 x 4
  ;; register blocks, 64-column bands and element-wise edges as `transpose` (which is this with
  ;; ldx = C, ldo = R, looped over a batch); a block of rows of x is a block of columns of out.
  (func (export "transposeStrided") (param $x i32) (param $out i32) (param $R i32) (param $C i32) (param $ldx i32) (param $ldo i32)
    (local $R4 i32) (local $C4 i32) (local $rowB i32) (local $colB i32)
    (local $c0 i32) (local $c1 i32) (local $r i32) (local $c i32) (local $p i32) (local $q i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    ;; bytes per input row, per output row
    (local.set $rowB (i32.shl (local.get $ldx) (i32.const 2)))
    (local.set $colB (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $c0 (i32.const 0))
    (block $bdone (loop $bloop
      (br_if $bdone (i32.ge_u (local.get $c0) (local.get $C4)))
      (local.set $c1 (i32.add (local.get $c0) (i32.const 64)))
      (if (i32.gt_u (local.get $c1) (local.get $C4)) (then (local.set $c1 (local.get $C4))))
      (local.set $r (i32.const 0))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $R4)))
        (local.set $c (local.get $c0))
        (block $cdone (loop $cloop
          (br_if $cdone (i32.ge_u (local.get $c) (local.get $c1)))
          ;; rows r..r+3 at columns c..c+3: a0..a3, b0..b3, c0..c3, d0..d3
          (local.set $p (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldx)) (local.get $c)) (i32.const 2))))
          (local.set $v0 (v128.load (local.get $p)))
          (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $rowB))))
          (local.set $v2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $rowB) (i32.const 1)))))
          (local.set $v3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $rowB) (i32.const 3)))))
          ;; a0 b0 a1 b1, a2 b2 a3 b3, c0 d0 c1 d1, c2 d2 c3 d3
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
          ;; columns c..c+3 as rows of out: a0 b0 c0 d0, a1 b1 c1 d1, a2 b2 c2 d2, a3 b3 c3 d3
          (local.set $q (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $ldo)) (local.get $r)) (i32.const 2))))
          (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $q) (local.get $colB))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $q) (i32.shl (local.get $colB) (i32.const 1)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $q) (i32.mul (local.get $colB) (i32.const 3)))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rloop)))
      (local.set $c0 (local.get $c1))
      (br $bloop)))
    ;; the last C mod 4 columns, every row
    (local.set $c (local.get $C4))
    (block $edone (loop $eloop
      (br_if $edone (i32.ge_u (local.get $c) (local.get $C)))
      (local.set $r (i32.const 0))
      (block $erdone (loop $erloop
        (br_if $erdone (i32.ge_u (local.get $r) (local.get $R)))
        (i32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $ldo)) (local.get $r)) (i32.const 2)))
          (i32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldx)) (local.get $c)) (i32.const 2)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $erloop)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $eloop)))
    ;; the last R mod 4 rows, the first C4 columns
    (local.set $r (local.get $R4))
    (block $fdone (loop $floop
      (br_if $fdone (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $c (i32.const 0))
      (block $fcdone (loop $fcloop
        (br_if $fcdone (i32.ge_u (local.get $c) (local.get $C4)))
        (i32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $ldo)) (local.get $r)) (i32.const 2)))
          (i32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldx)) (local.get $c)) (i32.const 2)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $fcloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $floop))))

  ;; ---- causal self-attention (genblocks "attn3"; see causal-attention.ts) ----
  ;; The heads of the fused projection's rows qkv [B·T, 3C] (row b·T + i: q | k | v, head h at
  ;; columns h·D of each part) are read where they lie; pair p = b·H + h is one (batch, head).
  ;; Products run as 4 x 8 register tiles ($attnTile), only over the causal part (a row block
  ;; of 4 queries against the keys up to its last row); each pair is computed on one thread in
  ;; a fixed order, so results do not depend on how pairs are shared out. D % 4 == 0.

  ;; e^y for four lanes y ≤ 0 (clamped at −87): Cephes' expf as in $erf4.
  (func $expNeg4 (param $y v128) (result v128)
    (local $k v128) (local $r v128) (local $e v128)
    (local.set $y (f32x4.max (local.get $y) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $y) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $y) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $e
      (f32x4.add
        (f32x4.add
          (f32x4.mul (f32x4.mul (local.get $r) (local.get $r))
            (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul
              (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $r))
              (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $r))
              (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $r))
              (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $r))
              (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $r))
              (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
          (local.get $r))
        (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $e)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; One 4 x 8 tile: C(r, 0..7) = Σ_{k<K} A(r, k)·B(k, 0..7) for r < rows (1..4), with A(r, k) at
  ;; a + r·sai + k·sak, B(k, ·) at b + k·sbk (8 floats), C(r, ·) at c + r·sci (strides in bytes).
  ;; Rows from `rows` on read row 0 and are not stored. Each output summed from 0 over k in order.
  (func $attnTile (param $a i32) (param $sai i32) (param $sak i32) (param $b i32) (param $sbk i32)
    (param $c i32) (param $sci i32) (param $rows i32) (param $K i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end i32)
    (local $w v128) (local $u0 v128) (local $u1 v128)
    (local $acc00 v128) (local $acc01 v128) (local $acc10 v128) (local $acc11 v128)
    (local $acc20 v128) (local $acc21 v128) (local $acc30 v128) (local $acc31 v128)
    (local.set $p0 (local.get $a))
    (local.set $p1 (select (i32.add (local.get $a) (local.get $sai)) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 1))))
    (local.set $p2 (select (i32.add (local.get $a) (i32.shl (local.get $sai) (i32.const 1))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $p3 (select (i32.add (local.get $a) (i32.mul (local.get $sai) (i32.const 3))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 3))))
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $K) (local.get $sbk))))
    (block $kdone
      (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $b) (local.get $end)))
        (local.set $u0 (v128.load (local.get $b)))
        (local.set $u1 (v128.load offset=16 (local.get $b)))
        (local.set $w (v128.load32_splat (local.get $p0)))
        (local.set $acc00 (f32x4.add (local.get $acc00) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $acc01 (f32x4.add (local.get $acc01) (f32x4.mul (local.get $w) (local.get $u1))))
        (local.set $w (v128.load32_splat (local.get $p1)))
        (local.set $acc10 (f32x4.add (local.get $acc10) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $acc11 (f32x4.add (local.get $acc11) (f32x4.mul (local.get $w) (local.get $u1))))
        (local.set $w (v128.load32_splat (local.get $p2)))
        (local.set $acc20 (f32x4.add (local.get $acc20) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $acc21 (f32x4.add (local.get $acc21) (f32x4.mul (local.get $w) (local.get $u1))))
        (local.set $w (v128.load32_splat (local.get $p3)))
        (local.set $acc30 (f32x4.add (local.get $acc30) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $acc31 (f32x4.add (local.get $acc31) (f32x4.mul (local.get $w) (local.get $u1))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $sak)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
        (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
        (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
        (local.set $b (i32.add (local.get $b) (local.get $sbk)))
        (br $kloop)))
    (v128.store (local.get $c) (local.get $acc00))
    (v128.store offset=16 (local.get $c) (local.get $acc01))
    (if (i32.gt_u (local.get $rows) (i32.const 1))
      (then
        (local.set $c (i32.add (local.get $c) (local.get $sci)))
        (v128.store (local.get $c) (local.get $acc10))
        (v128.store offset=16 (local.get $c) (local.get $acc11))))
    (if (i32.gt_u (local.get $rows) (i32.const 2))
      (then
        (local.set $c (i32.add (local.get $c) (local.get $sci)))
        (v128.store (local.get $c) (local.get $acc20))
        (v128.store offset=16 (local.get $c) (local.get $acc21))))
    (if (i32.gt_u (local.get $rows) (i32.const 3))
      (then
        (local.set $c (i32.add (local.get $c) (local.get $sci)))
        (v128.store (local.get $c) (local.get $acc30))
        (v128.store offset=16 (local.get $c) (local.get $acc31)))))

  ;; As $attnTile for a 4-column tile: C(r, 0..3) = Σ_{k<K} A(r, k)·B(k, 0..3).
  (func $attnTile4 (param $a i32) (param $sai i32) (param $sak i32) (param $b i32) (param $sbk i32)
    (param $c i32) (param $sci i32) (param $rows i32) (param $K i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end i32) (local $u0 v128) (local $w v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $p0 (local.get $a))
    (local.set $p1 (select (i32.add (local.get $a) (local.get $sai)) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 1))))
    (local.set $p2 (select (i32.add (local.get $a) (i32.shl (local.get $sai) (i32.const 1))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $p3 (select (i32.add (local.get $a) (i32.mul (local.get $sai) (i32.const 3))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 3))))
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $K) (local.get $sbk))))
    (block $kdone
      (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $b) (local.get $end)))
        (local.set $u0 (v128.load (local.get $b)))
        (local.set $w (v128.load32_splat (local.get $p0)))
        (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $w (v128.load32_splat (local.get $p1)))
        (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $w (v128.load32_splat (local.get $p2)))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $w (v128.load32_splat (local.get $p3)))
        (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $w) (local.get $u0))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $sak)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
        (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
        (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
        (local.set $b (i32.add (local.get $b) (local.get $sbk)))
        (br $kloop)))
    (v128.store (local.get $c) (local.get $acc0))
    (if (i32.gt_u (local.get $rows) (i32.const 1))
      (then (v128.store (i32.add (local.get $c) (local.get $sci)) (local.get $acc1))))
    (if (i32.gt_u (local.get $rows) (i32.const 2))
      (then (v128.store (i32.add (local.get $c) (i32.shl (local.get $sci) (i32.const 1))) (local.get $acc2))))
    (if (i32.gt_u (local.get $rows) (i32.const 3))
      (then (v128.store (i32.add (local.get $c) (i32.mul (local.get $sci) (i32.const 3))) (local.get $acc3)))))

  ;; The tiles of N columns (N % 4 == 0) of C: $attnTile by 8 columns, $attnTile4 for the last 4.
  (func $attnCols (param $a i32) (param $sai i32) (param $sak i32) (param $b i32) (param $sbk i32)
    (param $c i32) (param $sci i32) (param $rows i32) (param $K i32) (param $N i32)
    (local $j i32)
    (block $done (loop $loop
      (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
      (call $attnTile (local.get $a) (local.get $sai) (local.get $sak)
        (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $sbk)
        (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $sci) (local.get $rows) (local.get $K))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $loop)))
    (if (i32.lt_u (local.get $j) (local.get $N))
      (then
        (call $attnTile4 (local.get $a) (local.get $sai) (local.get $sak)
          (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $sbk)
          (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))) (local.get $sci) (local.get $rows) (local.get $K)))))

  ;; The T x D matrix at x (rows rs bytes apart) written transposed at out as D rows of Tp floats
  ;; (Tp ≥ T; columns T..Tp−1 zero): keys (values) as the rows of a tile's B. 4 x 4 blocks through
  ;; registers (the lane shuffles of "transposeStrided"), the last T mod 4 rows element by element.
  (func $attnTranspose (param $x i32) (param $rs i32) (param $T i32) (param $D i32) (param $Tp i32) (param $out i32)
    (local $d i32) (local $j i32) (local $src i32) (local $dst i32) (local $T4 i32) (local $ob i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $T4 (i32.and (local.get $T) (i32.const -4)))
    (local.set $ob (i32.shl (local.get $Tp) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $T4)))
      (local.set $d (i32.const 0))
      (block $ddone (loop $dloop
        (br_if $ddone (i32.ge_u (local.get $d) (local.get $D)))
        (local.set $src (i32.add (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $rs))) (i32.shl (local.get $d) (i32.const 2))))
        (local.set $v0 (v128.load (local.get $src)))
        (local.set $v1 (v128.load (i32.add (local.get $src) (local.get $rs))))
        (local.set $v2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $rs) (i32.const 1)))))
        (local.set $v3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rs) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
        (local.set $dst (i32.add (i32.add (local.get $out) (i32.mul (local.get $d) (local.get $ob))) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $dst) (local.get $ob))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $ob) (i32.const 1)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store (i32.add (local.get $dst) (i32.mul (local.get $ob) (i32.const 3)))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (br $dloop)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $jloop)))
    ;; rows T4..T−1, and the zero columns T..Tp−1
    (local.set $d (i32.const 0))
    (block $edone (loop $eloop
      (br_if $edone (i32.ge_u (local.get $d) (local.get $D)))
      (local.set $j (local.get $T4))
      (block $fdone (loop $floop
        (br_if $fdone (i32.ge_u (local.get $j) (local.get $Tp)))
        (f32.store (i32.add (i32.add (local.get $out) (i32.mul (local.get $d) (local.get $ob))) (i32.shl (local.get $j) (i32.const 2)))
          (if (result f32) (i32.lt_u (local.get $j) (local.get $T))
            (then (f32.load (i32.add (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $rs))) (i32.shl (local.get $d) (i32.const 2)))))
            (else (f32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $floop)))
      (local.set $d (i32.add (local.get $d) (i32.const 1)))
      (br $eloop))))

  ;; Sum of the four lanes of v.
  (func $attnLanes (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v))))

  ;; causalAttention: for pairs p = first .. first + count − 1 (b = p / H, h = p mod H), with
  ;; s = scale and queries, keys, values q, k, v of the pair read in qkv,
  ;;   P(i, j) = e^(s·q_i·k_j − m_i) / Σ_{j'≤i} e^(s·q_i·k_j' − m_i) for j ≤ i, 0 for j > i
  ;;   (m_i the row's largest s·q_i·k_j), written at probs + p·T·T (row-major T x T), and
  ;;   O(i) = Σ_{j≤i} P(i, j)·v_j at out row b·T + i, columns h·D (out is [B·T, H·D]).
  ;; scratch: D·Tp + 4·Tp floats, Tp = T rounded up to a multiple of 8 (keys transposed, and the
  ;; scores of 4 rows).
  (func (export "causalAttention") (param $qkv i32) (param $out i32) (param $probs i32) (param $scratch i32)
    (param $first i32) (param $count i32) (param $T i32) (param $H i32) (param $D i32) (param $scale f32)
    (local $p i32) (local $pend i32) (local $bt i32) (local $hd i32) (local $rs i32) (local $ro i32) (local $Tp i32) (local $tpb i32)
    (local $kt i32) (local $sb i32) (local $q i32) (local $v i32) (local $o i32) (local $pr i32)
    (local $i0 i32) (local $rows i32) (local $j0 i32) (local $r i32) (local $n i32) (local $j i32)
    (local $srow i32) (local $prow i32) (local $m f32) (local $sum f32) (local $e v128) (local $sums v128) (local $vs v128) (local $vm v128)
    (local $n4 i32) (local $at i32) (local $y v128) (local $kk v128) (local $rr v128)
    (local.set $hd (i32.shl (i32.mul (local.get $H) (local.get $D)) (i32.const 2)))
    (local.set $rs (i32.mul (local.get $hd) (i32.const 3)))
    (local.set $ro (local.get $hd))
    (local.set $Tp (i32.and (i32.add (local.get $T) (i32.const 7)) (i32.const -8)))
    (local.set $tpb (i32.shl (local.get $Tp) (i32.const 2)))
    (local.set $kt (local.get $scratch))
    (local.set $sb (i32.add (local.get $scratch) (i32.mul (local.get $D) (local.get $tpb))))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $p (local.get $first))
    (local.set $pend (i32.add (local.get $first) (local.get $count)))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $pend)))
      (local.set $bt (i32.mul (i32.div_u (local.get $p) (local.get $H)) (local.get $T)))
      (local.set $q (i32.add (i32.add (local.get $qkv) (i32.mul (local.get $bt) (local.get $rs)))
        (i32.shl (i32.mul (i32.rem_u (local.get $p) (local.get $H)) (local.get $D)) (i32.const 2))))
      (local.set $v (i32.add (local.get $q) (i32.shl (local.get $hd) (i32.const 1))))
      (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $bt) (local.get $ro)))
        (i32.shl (i32.mul (i32.rem_u (local.get $p) (local.get $H)) (local.get $D)) (i32.const 2))))
      (local.set $pr (i32.add (local.get $probs) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $T) (local.get $T))) (i32.const 2))))
      (call $attnTranspose (i32.add (local.get $q) (local.get $hd)) (local.get $rs) (local.get $T) (local.get $D) (local.get $Tp) (local.get $kt))
      (local.set $i0 (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i0) (local.get $T)))
        (local.set $rows (i32.sub (local.get $T) (local.get $i0)))
        (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        ;; scores q_i·k_j of the block's rows, keys 0 .. i0 + rows − 1 (whole tiles of 8)
        (local.set $j0 (i32.const 0))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $j0) (i32.add (local.get $i0) (local.get $rows))))
          (call $attnTile (i32.add (local.get $q) (i32.mul (local.get $i0) (local.get $rs))) (local.get $rs) (i32.const 4)
            (i32.add (local.get $kt) (i32.shl (local.get $j0) (i32.const 2))) (local.get $tpb)
            (i32.add (local.get $sb) (i32.shl (local.get $j0) (i32.const 2))) (local.get $tpb) (local.get $rows) (local.get $D))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
          (br $sloop)))
        ;; softmax of each row over j ≤ i, zeros after: the exponentials in place in the scores
        ;; (lanes from n on set to 0: whole vectors, the exp written out so that successive
        ;; vectors overlap), then divided by their sum into the row of P
        (local.set $r (i32.const 0))
        (block $rdone (loop $rloop
          (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
          (local.set $srow (i32.add (local.get $sb) (i32.mul (local.get $r) (local.get $tpb))))
          (local.set $prow (i32.add (local.get $pr) (i32.shl (i32.mul (i32.add (local.get $i0) (local.get $r)) (local.get $T)) (i32.const 2))))
          (local.set $n (i32.add (i32.add (local.get $i0) (local.get $r)) (i32.const 1)))
          (local.set $n4 (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)))
          ;; m = the largest score (four lanes, then the last n mod 4; pmax, one instruction: a NaN
          ;; score it drops still makes its exponential, the sum and so the row NaN)
          (local.set $vm (v128.load32_splat (local.get $srow)))
          (local.set $j (i32.const 0))
          (block $mdone (loop $mloop
            (br_if $mdone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
            (local.set $vm (f32x4.pmax (local.get $vm) (v128.load (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $mloop)))
          (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vm)) (f32x4.extract_lane 1 (local.get $vm)))
            (f32.max (f32x4.extract_lane 2 (local.get $vm)) (f32x4.extract_lane 3 (local.get $vm)))))
          (block $m1done (loop $m1loop
            (br_if $m1done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $m (f32.max (local.get $m) (f32.load (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $m1loop)))
          (local.set $vm (f32x4.splat (f32.mul (local.get $m) (local.get $scale))))
          (local.set $sums (v128.const f32x4 0 0 0 0))
          (local.set $j (i32.const 0))
          (block $edone (loop $eloop
            (br_if $edone (i32.ge_u (local.get $j) (local.get $n4)))
            (local.set $at (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2))))
            ;; y = max(s·S − s·m, −87); e^y as $expNeg4
            (local.set $y (f32x4.max (f32x4.sub (f32x4.mul (v128.load (local.get $at)) (local.get $vs)) (local.get $vm))
              (v128.const f32x4 -87 -87 -87 -87)))
            (local.set $kk (f32x4.nearest (f32x4.mul (local.get $y) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
            (local.set $rr (f32x4.sub (f32x4.sub (local.get $y) (f32x4.mul (local.get $kk) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
              (f32x4.mul (local.get $kk) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
            (local.set $e
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (f32x4.mul (local.get $rr) (local.get $rr))
                    (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul (f32x4.add (f32x4.mul
                      (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $rr))
                      (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)) (local.get $rr))
                      (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)) (local.get $rr))
                      (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)) (local.get $rr))
                      (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)) (local.get $rr))
                      (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
                  (local.get $rr))
                (v128.const f32x4 1 1 1 1)))
            ;; times 2^k, and lanes j + l ≥ n set to 0
            (local.set $e (v128.and
              (f32x4.mul (local.get $e)
                (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $kk)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
              (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $n)))))
            (v128.store (local.get $at) (local.get $e))
            (local.set $sums (f32x4.add (local.get $sums) (local.get $e)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $eloop)))
          (local.set $sum (call $attnLanes (local.get $sums)))
          (local.set $e (f32x4.splat (local.get $sum)))
          ;; P(i, j) = e_j / sum for j < n4 (0 from n on), 0 after, by vectors while 4 fit in the row
          (local.set $j (i32.const 0))
          (block $ndone (loop $nloop
            (br_if $ndone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $T)))
            (v128.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 2)))
              (if (result v128) (i32.lt_u (local.get $j) (local.get $n4))
                (then (f32x4.div (v128.load (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2)))) (local.get $e)))
                (else (v128.const f32x4 0 0 0 0))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $nloop)))
          (block $n1done (loop $n1loop
            (br_if $n1done (i32.ge_u (local.get $j) (local.get $T)))
            (f32.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 2)))
              (if (result f32) (i32.lt_u (local.get $j) (local.get $n))
                (then (f32.div (f32.load (i32.add (local.get $srow) (i32.shl (local.get $j) (i32.const 2)))) (local.get $sum)))
                (else (f32.const 0))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $n1loop)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rloop)))
        ;; O(i) = Σ_{j < i0 + rows} P(i, j)·v_j (P is 0 after the diagonal)
        (call $attnCols (i32.add (local.get $pr) (i32.shl (i32.mul (local.get $i0) (local.get $T)) (i32.const 2)))
          (i32.shl (local.get $T) (i32.const 2)) (i32.const 4) (local.get $v) (local.get $rs)
          (i32.add (local.get $o) (i32.mul (local.get $i0) (local.get $ro))) (local.get $ro)
          (local.get $rows) (i32.add (local.get $i0) (local.get $rows)) (local.get $D))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $iloop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $ploop))))

  ;; causalAttentionGrad: the gradient of "causalAttention" for pairs first .. first + count − 1,
  ;; given dy (dO, [B·T, H·D] as out), the forward's out (O) and probs (P):
  ;;   δ_i = Σ_d dO(i, d)·O(i, d),  dS(i, j) = s·P(i, j)·(dO_i·v_j − δ_i) (j ≤ i, else 0),
  ;;   dq_i = Σ_j dS(i, j)·k_j,  dk_j = Σ_i dS(i, j)·q_i,  dv_j = Σ_i P(i, j)·dO_i,
  ;; written into dqkv [B·T, 3·H·D] at the pair's columns (every element of dqkv is written by
  ;; exactly one pair). scratch: D·Tp + Tr·Tp + Tr floats, Tr = T rounded up to a multiple of 4
  ;; (values transposed, dS, δ).
  (func (export "causalAttentionGrad") (param $qkv i32) (param $out i32) (param $probs i32) (param $dy i32) (param $dqkv i32)
    (param $scratch i32) (param $first i32) (param $count i32) (param $T i32) (param $H i32) (param $D i32) (param $scale f32)
    (local $p i32) (local $pend i32) (local $bt i32) (local $col i32) (local $hd i32) (local $rs i32) (local $ro i32)
    (local $Tp i32) (local $tpb i32) (local $Tr i32) (local $vt i32) (local $ds i32) (local $delta i32)
    (local $q i32) (local $o i32) (local $g i32) (local $pr i32) (local $dq i32)
    (local $i0 i32) (local $rows i32) (local $j0 i32) (local $i i32) (local $j i32) (local $n i32) (local $d i32)
    (local $drow i32) (local $prow i32) (local $acc v128) (local $vd v128) (local $vs v128) (local $z f32) (local $zend i32)
    (local.set $hd (i32.shl (i32.mul (local.get $H) (local.get $D)) (i32.const 2)))
    (local.set $rs (i32.mul (local.get $hd) (i32.const 3)))
    (local.set $ro (local.get $hd))
    (local.set $Tp (i32.and (i32.add (local.get $T) (i32.const 7)) (i32.const -8)))
    (local.set $tpb (i32.shl (local.get $Tp) (i32.const 2)))
    (local.set $Tr (i32.and (i32.add (local.get $T) (i32.const 3)) (i32.const -4)))
    (local.set $vt (local.get $scratch))
    (local.set $ds (i32.add (local.get $vt) (i32.mul (local.get $D) (local.get $tpb))))
    (local.set $delta (i32.add (local.get $ds) (i32.mul (local.get $Tr) (local.get $tpb))))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $p (local.get $first))
    (local.set $pend (i32.add (local.get $first) (local.get $count)))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $pend)))
      (local.set $bt (i32.mul (i32.div_u (local.get $p) (local.get $H)) (local.get $T)))
      (local.set $col (i32.shl (i32.mul (i32.rem_u (local.get $p) (local.get $H)) (local.get $D)) (i32.const 2)))
      (local.set $q (i32.add (i32.add (local.get $qkv) (i32.mul (local.get $bt) (local.get $rs))) (local.get $col)))
      (local.set $dq (i32.add (i32.add (local.get $dqkv) (i32.mul (local.get $bt) (local.get $rs))) (local.get $col)))
      (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $bt) (local.get $ro))) (local.get $col)))
      (local.set $g (i32.add (i32.add (local.get $dy) (i32.mul (local.get $bt) (local.get $ro))) (local.get $col)))
      (local.set $pr (i32.add (local.get $probs) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $T) (local.get $T))) (i32.const 2))))
      (call $attnTranspose (i32.add (local.get $q) (i32.shl (local.get $hd) (i32.const 1))) (local.get $rs) (local.get $T) (local.get $D) (local.get $Tp) (local.get $vt))
      ;; δ_i
      (local.set $i (i32.const 0))
      (block $xdone (loop $xloop
        (br_if $xdone (i32.ge_u (local.get $i) (local.get $T)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $d (i32.const 0))
        (block $ddone (loop $dloop
          (br_if $ddone (i32.ge_u (local.get $d) (local.get $D)))
          (local.set $acc (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load (i32.add (i32.add (local.get $g) (i32.mul (local.get $i) (local.get $ro))) (i32.shl (local.get $d) (i32.const 2))))
                       (v128.load (i32.add (i32.add (local.get $o) (i32.mul (local.get $i) (local.get $ro))) (i32.shl (local.get $d) (i32.const 2)))))))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br $dloop)))
        (f32.store (i32.add (local.get $delta) (i32.shl (local.get $i) (i32.const 2))) (call $attnLanes (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $xloop)))
      ;; dS by blocks of 4 rows: dP = dO·vᵀ (keys 0 .. i0 + rows − 1), then s·P·(dP − δ)
      (local.set $i0 (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i0) (local.get $T)))
        (local.set $rows (i32.sub (local.get $T) (local.get $i0)))
        (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        (local.set $j0 (i32.const 0))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $j0) (i32.add (local.get $i0) (local.get $rows))))
          (call $attnTile (i32.add (local.get $g) (i32.mul (local.get $i0) (local.get $ro))) (local.get $ro) (i32.const 4)
            (i32.add (local.get $vt) (i32.shl (local.get $j0) (i32.const 2))) (local.get $tpb)
            (i32.add (i32.add (local.get $ds) (i32.mul (local.get $i0) (local.get $tpb))) (i32.shl (local.get $j0) (i32.const 2))) (local.get $tpb)
            (local.get $rows) (local.get $D))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
          (br $sloop)))
        (local.set $i (local.get $i0))
        (block $rdone (loop $rloop
          (br_if $rdone (i32.ge_u (local.get $i) (i32.add (local.get $i0) (local.get $rows))))
          (local.set $drow (i32.add (local.get $ds) (i32.mul (local.get $i) (local.get $tpb))))
          (local.set $prow (i32.add (local.get $pr) (i32.shl (i32.mul (local.get $i) (local.get $T)) (i32.const 2))))
          (local.set $vd (f32x4.splat (f32.load (i32.add (local.get $delta) (i32.shl (local.get $i) (i32.const 2))))))
          (local.set $n (i32.add (local.get $i) (i32.const 1)))
          (local.set $j (i32.const 0))
          (block $vdone (loop $vloop
            (br_if $vdone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
            (v128.store (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2)))
              (f32x4.mul (f32x4.mul (local.get $vs) (v128.load (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 2)))))
                (f32x4.sub (v128.load (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vd))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $vloop)))
          (block $v1done (loop $v1loop
            (br_if $v1done (i32.ge_u (local.get $j) (local.get $n)))
            (f32.store (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2)))
              (f32x4.extract_lane 0
                (f32x4.mul (f32x4.mul (local.get $vs) (v128.load32_splat (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 2)))))
                  (f32x4.sub (v128.load32_splat (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vd)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $v1loop)))
          ;; zeros up to the end of the row block's columns (i0 + 4), which dq and dk read
          (local.set $zend (i32.add (local.get $i0) (i32.const 4)))
          (block $zdone (loop $zloop
            (br_if $zdone (i32.ge_u (local.get $j) (local.get $zend)))
            (f32.store (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $zloop)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rloop)))
        ;; dq of the block's rows: Σ_{j < i0 + rows} dS(i, j)·k_j
        (call $attnCols (i32.add (local.get $ds) (i32.mul (local.get $i0) (local.get $tpb))) (local.get $tpb) (i32.const 4)
          (i32.add (local.get $q) (local.get $hd)) (local.get $rs)
          (i32.add (local.get $dq) (i32.mul (local.get $i0) (local.get $rs))) (local.get $rs)
          (local.get $rows) (i32.add (local.get $i0) (local.get $rows)) (local.get $D))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $iloop)))
      ;; dk and dv of keys j0 .. j0 + 3: sums over the queries i ≥ j0 (dS and P are 0 for i < j)
      (local.set $j0 (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $j0) (local.get $T)))
        (local.set $rows (i32.sub (local.get $T) (local.get $j0)))
        (if (i32.gt_u (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        (call $attnCols (i32.add (local.get $ds) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $Tp)) (local.get $j0)) (i32.const 2)))
          (i32.const 4) (local.get $tpb)
          (i32.add (local.get $q) (i32.mul (local.get $j0) (local.get $rs))) (local.get $rs)
          (i32.add (i32.add (local.get $dq) (local.get $hd)) (i32.mul (local.get $j0) (local.get $rs))) (local.get $rs)
          (local.get $rows) (i32.sub (local.get $T) (local.get $j0)) (local.get $D))
        (call $attnCols (i32.add (local.get $pr) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $T)) (local.get $j0)) (i32.const 2)))
          (i32.const 4) (i32.shl (local.get $T) (i32.const 2))
          (i32.add (local.get $g) (i32.mul (local.get $j0) (local.get $ro))) (local.get $ro)
          (i32.add (i32.add (local.get $dq) (i32.shl (local.get $hd) (i32.const 1))) (i32.mul (local.get $j0) (local.get $rs))) (local.get $rs)
          (local.get $rows) (i32.sub (local.get $T) (local.get $j0)) (local.get $D))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
        (br $kloop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $ploop))))
)

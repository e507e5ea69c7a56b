;; Pillow's 8-bit bicubic convolution passes with WebAssembly SIMD (the arithmetic of src/model/pil-resample.ts,
;; which documents the method). The host (src/model/wasm-resample.ts) computes the coefficient tables, lays
;; out the memory and calls one pass at a time; this module only multiplies and adds.
;;
;; Exactness: every product and sum is an i32 lane (i32x4.mul / i32x4.add wrap exactly like the C code's
;; int32 arithmetic, and never actually overflow: |weights| sum to < 2^23 and pixels are < 2^8), the result is
;; shifted arithmetically by 22 and narrowed with signed then unsigned saturation, which is the clip to 0..255.
;;
;; Buffers: interleaved RGB. Loads read up to 16 bytes past a row's last used byte and stores write up to 16
;; bytes past the last output byte; the host pads every buffer by 16 bytes, and rows are written in order so
;; any overrun into the next row is overwritten by that row.
;;
;; Build: `npm run build:wasm` (scripts/build-wasm.mjs, wabt) writes resample.wasm next to this file; a test
;; rebuilds it and compares bytes.
(module
  (memory (export "memory") 1)

  ;; Along x. Row y of src (w pixels) → row y of dst (outW pixels). Per output pixel: one i32x4 accumulator
  ;; over the lanes (R, G, B, next R); the fourth lane is discarded. weights: ksize pre-splatted v128 per output
  ;; index (so the inner loop is load, widen, mul, add); bounds: (first input index, tap count) i32 pairs.
  (func (export "hpass")
    (param $src i32) (param $w i32) (param $h i32) (param $dst i32) (param $outW i32)
    (param $bounds i32) (param $weights i32) (param $ksize i32)
    (local $y i32) (local $xx i32) (local $row i32) (local $p i32) (local $k i32) (local $n i32)
    (local $o i32) (local $acc v128) (local $kstride i32)
    (local.set $kstride (i32.shl (local.get $ksize) (i32.const 4)))
    (local.set $o (local.get $dst))
    (local.set $row (local.get $src))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $xx (i32.const 0))
        (block $px_done
          (loop $px
            (br_if $px_done (i32.ge_u (local.get $xx) (local.get $outW)))
            ;; p = row + xmin * 3; n = count; k = weights + xx * ksize * 16
            (local.set $p (i32.add (local.get $row)
              (i32.mul (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $xx) (i32.const 3)))) (i32.const 3))))
            (local.set $n (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $xx) (i32.const 3)))))
            (local.set $k (i32.add (local.get $weights) (i32.mul (local.get $xx) (local.get $kstride))))
            (local.set $acc (i32x4.splat (i32.const 2097152))) ;; 1 << 21, half a unit
            (block $taps_done
              (loop $taps
                (br_if $taps_done (i32.eqz (local.get $n)))
                (local.set $acc (i32x4.add (local.get $acc)
                  (i32x4.mul
                    (i32x4.extend_low_i16x8_u (v128.load8x8_u (local.get $p)))
                    (v128.load (local.get $k)))))
                (local.set $p (i32.add (local.get $p) (i32.const 3)))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $taps)))
            (v128.store32_lane 0 (local.get $o)
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s
                  (i32x4.shr_s (local.get $acc) (i32.const 22))
                  (local.get $acc))
                (local.get $acc)))
            (local.set $o (i32.add (local.get $o) (i32.const 3)))
            (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
            (br $px)))
        (local.set $row (i32.add (local.get $row) (i32.mul (local.get $w) (i32.const 3))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows)))
  )

  ;; Along y. Rows of rowLen bytes; output row yy = sum over its taps of weight × input row, 16 bytes at a time
  ;; with four i32x4 accumulators. weights: ksize plain i32 per output index; bounds as in hpass.
  (func (export "vpass")
    (param $src i32) (param $rowLen i32) (param $dst i32) (param $outH i32)
    (param $bounds i32) (param $weights i32) (param $ksize i32)
    (local $yy i32) (local $x i32) (local $first i32) (local $count i32) (local $wk i32)
    (local $p i32) (local $k i32) (local $n i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $wt v128) (local $v v128) (local $lo v128) (local $hi v128)
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $yy) (local.get $outH)))
        (local.set $first (i32.add (local.get $src)
          (i32.mul (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $yy) (i32.const 3)))) (local.get $rowLen))))
        (local.set $count (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $yy) (i32.const 3)))))
        (local.set $wk (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $yy) (local.get $ksize)) (i32.const 2))))
        (local.set $o (i32.add (local.get $dst) (i32.mul (local.get $yy) (local.get $rowLen))))
        (local.set $x (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $x) (local.get $rowLen)))
            (local.set $a0 (i32x4.splat (i32.const 2097152)))
            (local.set $a1 (local.get $a0))
            (local.set $a2 (local.get $a0))
            (local.set $a3 (local.get $a0))
            (local.set $p (i32.add (local.get $first) (local.get $x)))
            (local.set $k (local.get $wk))
            (local.set $n (local.get $count))
            (block $taps_done
              (loop $taps
                (br_if $taps_done (i32.eqz (local.get $n)))
                (local.set $wt (v128.load32_splat (local.get $k)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $wt))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $wt))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $wt))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $wt))))
                (local.set $p (i32.add (local.get $p) (local.get $rowLen)))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $taps)))
            (v128.store (i32.add (local.get $o) (local.get $x))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $cols)))
        (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
        (br $rows)))
  )
)

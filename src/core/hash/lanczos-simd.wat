;; The two passes of Pillow's 8-bit Lanczos resample (lanczos.ts has the reference in TypeScript),
;; with 128-bit SIMD. Built into lanczos-simd.wasm.ts by `npm run wasm`; lanczos-wasm.ts drives it.
;;
;; Exactness: Pillow sums pixel × 22-bit fixed-point weight in int32, and those sums never
;; overflow, so any order of summation gives the same integer. The horizontal pass splits each
;; weight k into k = hi·2048 + lo (hi = k >> 11, lo = k & 2047), both of which fit in int16, so
;; i32x4.dot_i16x8_s can multiply eight pixels at once; hi-sum·2048 + lo-sum is the same int32.
;;
;; Callers pad: tap counts to a multiple of 8 with zero weights, and at least 16 readable and
;; writable bytes after every image, since the vector loops read and write whole 8-byte groups.

(module
  (memory (export "memory") 1)

  ;; Pillow's clip8: (sum >> 22) clamped to 0..255.
  (func $clip8 (param $s i32) (result i32)
    (local.set $s (i32.shr_s (local.get $s) (i32.const 22)))
    (if (i32.lt_s (local.get $s) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.gt_s (local.get $s) (i32.const 255)) (then (return (i32.const 255))))
    (local.get $s))

  (func $hsum (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; rows × outSize bytes at $dst from rows of $srcW bytes at $src. Output xx reads
  ;; $groups[xx] × 8 pixels from $start[xx] (int32 arrays); its weights are int16 halves at
  ;; $wHi/$wLo + xx × $kstride × 2.
  (func (export "hpass")
    (param $src i32) (param $srcW i32) (param $rows i32) (param $outSize i32)
    (param $start i32) (param $groups i32) (param $wHi i32) (param $wLo i32) (param $kstride i32)
    (param $dst i32)
    (local $y i32) (local $xx i32) (local $g i32) (local $n i32)
    (local $p i32) (local $wo i32) (local $row i32)
    (local $accH v128) (local $accL v128) (local $px v128)
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $srcW))))
        (local.set $xx (i32.const 0))
        (block $outDone
          (loop $outLoop
            (br_if $outDone (i32.ge_u (local.get $xx) (local.get $outSize)))
            (local.set $p (i32.add (local.get $row)
              (i32.load (i32.add (local.get $start) (i32.shl (local.get $xx) (i32.const 2))))))
            (local.set $n (i32.load (i32.add (local.get $groups) (i32.shl (local.get $xx) (i32.const 2)))))
            (local.set $wo (i32.shl (i32.mul (local.get $xx) (local.get $kstride)) (i32.const 1)))
            (local.set $accH (v128.const i32x4 0 0 0 0))
            (local.set $accL (v128.const i32x4 0 0 0 0))
            (local.set $g (i32.const 0))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.ge_u (local.get $g) (local.get $n)))
                (local.set $px (v128.load8x8_u (local.get $p)))
                (local.set $accH (i32x4.add (local.get $accH)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load (i32.add (local.get $wHi) (local.get $wo))))))
                (local.set $accL (i32x4.add (local.get $accL)
                  (i32x4.dot_i16x8_s (local.get $px) (v128.load (i32.add (local.get $wLo) (local.get $wo))))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $wo (i32.add (local.get $wo) (i32.const 16)))
                (local.set $g (i32.add (local.get $g) (i32.const 1)))
                (br $tapLoop)))
            (i32.store8
              (i32.add (local.get $dst) (local.get $xx))
              (call $clip8
                (i32.add
                  (i32.add (i32.shl (call $hsum (local.get $accH)) (i32.const 11)) (call $hsum (local.get $accL)))
                  (i32.const 2097152))))
            (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
            (br $outLoop)))
        (local.set $dst (i32.add (local.get $dst) (local.get $outSize)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))

  ;; outSize rows of $w bytes at $dst from rows of $w bytes at $src. Output row yy sums
  ;; $count[yy] source rows from $start[yy] with int32 weights at $weights + yy × $kstride × 4.
  ;; $acc is scratch for ceil($w / 8) × 8 int32 sums.
  (func (export "vpass")
    (param $src i32) (param $w i32) (param $outSize i32)
    (param $start i32) (param $count i32) (param $weights i32) (param $kstride i32)
    (param $acc i32) (param $dst i32)
    (local $yy i32) (local $t i32) (local $n i32) (local $k i32) (local $x i32) (local $a i32)
    (local $row i32) (local $kv v128) (local $px v128) (local $lo v128) (local $hi v128)
    (block $outDone
      (loop $outLoop
        (br_if $outDone (i32.ge_u (local.get $yy) (local.get $outSize)))
        ;; acc := HALF (1 << 21) everywhere
        (local.set $x (i32.const 0))
        (block $fillDone
          (loop $fill
            (br_if $fillDone (i32.ge_u (local.get $x) (local.get $w)))
            (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $x) (i32.const 2))))
            (v128.store (local.get $a) (v128.const i32x4 2097152 2097152 2097152 2097152))
            (v128.store offset=16 (local.get $a) (v128.const i32x4 2097152 2097152 2097152 2097152))
            (local.set $x (i32.add (local.get $x) (i32.const 8)))
            (br $fill)))
        (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $yy) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $tapsDone
          (loop $tapLoop
            (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $n)))
            (local.set $k (i32.load (i32.add (local.get $weights)
              (i32.shl (i32.add (i32.mul (local.get $yy) (local.get $kstride)) (local.get $t)) (i32.const 2)))))
            (if (i32.ne (local.get $k) (i32.const 0))
              (then
                (local.set $kv (i32x4.splat (local.get $k)))
                (local.set $row (i32.add (local.get $src)
                  (i32.mul
                    (i32.add (i32.load (i32.add (local.get $start) (i32.shl (local.get $yy) (i32.const 2)))) (local.get $t))
                    (local.get $w))))
                (local.set $x (i32.const 0))
                (block $rowDone
                  (loop $rowLoop
                    (br_if $rowDone (i32.ge_u (local.get $x) (local.get $w)))
                    (local.set $px (v128.load8x8_u (i32.add (local.get $row) (local.get $x))))
                    (local.set $lo (i32x4.extend_low_i16x8_u (local.get $px)))
                    (local.set $hi (i32x4.extend_high_i16x8_u (local.get $px)))
                    (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $x) (i32.const 2))))
                    (v128.store (local.get $a)
                      (i32x4.add (v128.load (local.get $a)) (i32x4.mul (local.get $lo) (local.get $kv))))
                    (v128.store offset=16 (local.get $a)
                      (i32x4.add (v128.load offset=16 (local.get $a)) (i32x4.mul (local.get $hi) (local.get $kv))))
                    (local.set $x (i32.add (local.get $x) (i32.const 8)))
                    (br $rowLoop)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tapLoop)))
        ;; clip8 eight sums at a time: >> 22, then the saturating narrows clamp to 0..255.
        (local.set $x (i32.const 0))
        (block $storeDone
          (loop $store
            (br_if $storeDone (i32.ge_u (local.get $x) (local.get $w)))
            (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $x) (i32.const 2))))
            (local.set $px
              (i16x8.narrow_i32x4_s
                (i32x4.shr_s (v128.load (local.get $a)) (i32.const 22))
                (i32x4.shr_s (v128.load offset=16 (local.get $a)) (i32.const 22))))
            (v128.store64_lane 0
              (i32.add (local.get $dst) (local.get $x))
              (i8x16.narrow_i16x8_u (local.get $px) (local.get $px)))
            (local.set $x (i32.add (local.get $x) (i32.const 8)))
            (br $store)))
        (local.set $dst (i32.add (local.get $dst) (local.get $w)))
        (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
        (br $outLoop))))
;; Pillow's convert('L') of $n RGBA pixels at $src into $n bytes at $dst:
;; (R·19595 + G·38470 + B·7471 + 0x8000) >> 16, four pixels per step (the last step may read and
;; write past the end: callers pad).
  (func (export "grey") (param $src i32) (param $n i32) (param $dst i32)
    (local $i i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128) (local $t0 v128) (local $t1 v128)
    (local $w v128)
    (local.set $w (v128.const i16x8 19595 38470 7471 0 19595 38470 7471 0))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (v128.load (local.get $src)))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        ;; One pixel's three weighted channels per vector (alpha weighted 0).
        (local.set $p0 (i32x4.extmul_low_i16x8_u (local.get $lo) (local.get $w)))
        (local.set $p1 (i32x4.extmul_high_i16x8_u (local.get $lo) (local.get $w)))
        (local.set $p2 (i32x4.extmul_low_i16x8_u (local.get $hi) (local.get $w)))
        (local.set $p3 (i32x4.extmul_high_i16x8_u (local.get $hi) (local.get $w)))
        ;; Transpose-and-add to [sum p0, sum p1, sum p2, sum p3].
        (local.set $t0 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p0) (local.get $p1))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p0) (local.get $p1))))
        (local.set $t1 (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p2) (local.get $p3))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p2) (local.get $p3))))
        (local.set $v (i32x4.shr_u
          (i32x4.add
            (i32x4.add
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $t0) (local.get $t1))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $t0) (local.get $t1)))
            (v128.const i32x4 32768 32768 32768 32768))
          (i32.const 16)))
        (local.set $v (i16x8.narrow_i32x4_u (local.get $v) (local.get $v)))
        (v128.store32_lane 0 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $step))))
)

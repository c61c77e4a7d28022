// gpt2-lens engine kernels, in AssemblyScript, compiled to WebAssembly with 128-bit SIMD by scripts/build-wasm.ts.
//
// Everything works on raw byte addresses into one linear memory that the TypeScript side (src/engine/engine.ts)
// lays out: weights, KV cache, activations. Nothing is allocated here (runtime stub).
//
// Weight layout of a Conv1D `y = x @ W + b`, W [K, N] (in, out): W is packed into column panels of 8:
// panel p holds columns 8p..8p+7 of every row k, contiguously: [K][8]. A matrix-vector product then reads the
// weights as one contiguous stream, and a 4-row x 8-column register block reuses every loaded weight 4 times.
// The last panel is zero-padded when N is not a multiple of 8; biases and scales are padded the same way.
// Element types (the generic T): f32; u16 = f16 bits, widened in registers; i8 with one f32 scale per output
// column (per row of wte for the LM head).
//
// Work is split between threads by panels (matmul), rows (LM head) or (batch, head) pairs (attention): each
// kernel takes a slice [lo, hi). The pool (worker_loop / dispatch) runs one op at a time over all threads.

// ---- loading weights of any element type as f32 ----------------------------------------------------------------

// 4 f16 bit patterns, sign-extended into i32 lanes -> f32x4. Exact for normal and subnormal halves (weights hold
// no inf/nan): shifted up by 13, the half's sign lands on f32's sign bit and its exponent and mantissa line up with
// f32's; the and clears bits 28-30 (copies of the sign), and multiplying by 2^112 re-biases the exponent from 15
// to 127 (which also normalises subnormals).
// @ts-ignore: decorator
@inline function h2f(bits: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shl(bits, 13), i32x4.splat(0x8fffffff)), f32x4.splat(5.192296858534828e33));
}

// fp16 decoding (one row of x) leaves the multiply out of the inner loop: shifted and masked, a half h reads as
// the f32 h * 2^-112 exactly (its bits), so the kernels dot it with x * 2^F16_XSHIFT (scaled once per row, exact)
// and multiply each finished sum by 2^(112 - F16_XSHIFT): the same products and sums up to a power of two, so the
// same rounding, as long as nothing overflows (|x| < 2^72) or underflows (|x * w| >= 2^-70 stays normal).
// Subnormal halves (|w| < 2^-14) become subnormal f32 operands: no slower here (AMD Zen: measured, docs/engine.md).
/** x is scaled by 2^F16_XSHIFT for the fp16 row kernels (see above). */
const F16_XSHIFT: f32 = 72057594037927936.0; // 2^56
/** ... and their sums by 2^(112 - 56). */
const F16_YSHIFT: f32 = 72057594037927936.0; // 2^56

/** h2f's mask: clears bits 28-30 (copies of the sign) of a sign-extended half shifted up by 13. */
const F16_MASK: i32 = 0x8fffffff;

/** 4 f16 bit patterns (sign-extended i32 lanes) as the f32s h * 2^-112: h2f without its multiply. */
// @ts-ignore: decorator
@inline function h2fRaw(bits: v128): v128 {
  return v128.and(i32x4.shl(bits, 13), i32x4.splat(F16_MASK));
}

/** dst[0..n) = src[0..n) * s (f32). */
function scaleRow(src: usize, n: i32, s: f32, dst: usize): void {
  const s4 = f32x4.splat(s);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), f32x4.mul(v128.load(src + (<usize>i << 2)), s4));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) * s);
}

/** Weights 0..3 of the 8 at byte address p, as f32x4. */
// @ts-ignore: decorator
@inline function wlo<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return v128.load(p);
  if (sizeof<T>() == 2) return h2f(v128.load16x4_s(p));
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(v128.load8x8_s(p)));
}

/** Weights 4..7 of the 8 at byte address p, as f32x4. */
// @ts-ignore: decorator
@inline function whi<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return v128.load(p, 16);
  if (sizeof<T>() == 2) return h2f(v128.load16x4_s(p, 8));
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(v128.load8x8_s(p)));
}

/** One weight at byte address p, as f32. */
// @ts-ignore: decorator
@inline function wone<T>(p: usize): f32 {
  if (sizeof<T>() == 4) return load<f32>(p);
  if (sizeof<T>() == 2) return f32x4.extract_lane(h2f(i32x4.splat(<i32>load<i16>(p))), 0);
  return <f32>load<i8>(p);
}

// ---- multiply-add ------------------------------------------------------------------------------------------------

/**
 * acc + a * b, 4 lanes. Built twice (scripts/build-wasm.ts): with relaxed SIMD this is one fused multiply-add
 * (f32x4.relaxed_madd: fused where the CPU has FMA, so rounded once), otherwise a mul then an add (rounded twice,
 * the plain-SIMD kernels' exact arithmetic). Every kernel's dot products go through here.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** 4 weights at byte address p, as f32x4 (the LM head's blocked kernel reads rows 4 at a time). */
// @ts-ignore: decorator
@inline function w4<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return v128.load(p);
  if (sizeof<T>() == 2) return h2f(v128.load16x4_s(p));
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

// ---- gelu_new ----------------------------------------------------------------------------------------------------

// tanh as a clamped rational function (the [13/6] minimax fit Eigen uses): |error| < 4e-7 over all floats.
// @ts-ignore: decorator
@inline function tanh4(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-7.9053111)), f32x4.splat(7.9053111));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-8));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-5));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-4));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.185347056866540e-4));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-3));
  return f32x4.div(p, q);
}

/** gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), 4 lanes at a time. */
// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u = f32x4.mul(f32x4.add(x, f32x4.mul(x3, f32x4.splat(0.044715))), f32x4.splat(0.7978845608028654));
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(f32x4.splat(1.0), tanh4(u)));
}

// ---- matmul: y[M, N] (=, gelu, +=) x[M, K] @ W[K, N] + b ---------------------------------------------------------

// Exported as globals: src/engine/wasm/module.ts's MODE must equal them (test/engine-kernels.test.ts checks).
export const MODE_STORE: i32 = 0; // y = x @ W + b
export const MODE_GELU: i32 = 1; // y = gelu_new(x @ W + b)
export const MODE_ADD: i32 = 2; // y += x @ W + b (the residual add)

// Writes the 8 finished columns (lo, hi) of one output row; `n` of them are real (n < 8 only in the last panel).
// @ts-ignore: decorator
@inline function epilogue(yp: usize, lo0: v128, hi0: v128, sp: usize, bp: usize, mode: i32, n: i32, scaled: bool): void {
  let lo = lo0;
  let hi = hi0;
  if (scaled) {
    lo = f32x4.mul(lo, v128.load(sp));
    hi = f32x4.mul(hi, v128.load(sp, 16));
  }
  lo = f32x4.add(lo, v128.load(bp));
  hi = f32x4.add(hi, v128.load(bp, 16));
  if (mode == MODE_GELU) {
    lo = gelu4(lo);
    hi = gelu4(hi);
  }
  if (n == 8) {
    if (mode == MODE_ADD) {
      lo = f32x4.add(lo, v128.load(yp));
      hi = f32x4.add(hi, v128.load(yp, 16));
    }
    v128.store(yp, lo);
    v128.store(yp, hi, 16);
    return;
  }
  // A partial last panel: lane by lane.
  for (let j = 0; j < n; j++) {
    let v: f32;
    switch (j) {
      case 0: v = f32x4.extract_lane(lo, 0); break;
      case 1: v = f32x4.extract_lane(lo, 1); break;
      case 2: v = f32x4.extract_lane(lo, 2); break;
      case 3: v = f32x4.extract_lane(lo, 3); break;
      case 4: v = f32x4.extract_lane(hi, 0); break;
      case 5: v = f32x4.extract_lane(hi, 1); break;
      case 6: v = f32x4.extract_lane(hi, 2); break;
      default: v = f32x4.extract_lane(hi, 3);
    }
    const q = yp + (<usize>j << 2);
    if (mode == MODE_ADD) v += load<f32>(q);
    store<f32>(q, v);
  }
}

// The inner loops below are separate, never-inlined functions that leave their accumulators in `acc` (this
// thread's 128 bytes of scratch): with few values alive around the loop, V8 keeps every accumulator in a
// register, which it does not when the loop sits inside the larger matmul function.

// One 4-row block of one panel: rows x0, x0+xs, x0+2xs, x0+3xs against the panel at wp (element type T).
// Each loaded weight row feeds 4 rows of x: 8 accumulators (4 rows x 8 columns) stay in registers.
// acc: [4 rows][8] f32.
// @ts-ignore: decorator
@noinline function kernel4x8<T>(wp: usize, x0: usize, xs: usize, K: i32, acc: usize): void {
  const rowBytes: usize = 8 * sizeof<T>();
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let wk = wp;
  let xk = x0;
  const end = wp + <usize>K * rowBytes;
  while (wk < end) {
    const lo = wlo<T>(wk);
    const hi = whi<T>(wk);
    let s = v128.load32_splat(xk);
    a0 = madd(s, lo, a0);
    b0 = madd(s, hi, b0);
    s = v128.load32_splat(xk + xs);
    a1 = madd(s, lo, a1);
    b1 = madd(s, hi, b1);
    s = v128.load32_splat(xk + 2 * xs);
    a2 = madd(s, lo, a2);
    b2 = madd(s, hi, b2);
    s = v128.load32_splat(xk + 3 * xs);
    a3 = madd(s, lo, a3);
    b3 = madd(s, hi, b3);
    wk += rowBytes;
    xk += 4;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
}

// The prompt kernel of the relaxed (FMA) build: 6 rows x 8 columns, 12 accumulators. With FMA's 4-cycle latency
// and 2 FMA a cycle, 8 independent accumulators (kernel4x8) are just enough to keep both units busy and any stall
// shows; 12 leave slack, and each loaded weight vector feeds 6 rows. The 12 accumulators, 2 weight vectors and
// one splat are 15 xmm registers, all V8 has; the plain build's mul + add needs one more, so it keeps kernel4x8.
// acc: [6 rows][8] f32.
// @ts-ignore: decorator
@noinline function kernel6x8(wp: usize, x0: usize, xs: usize, K: i32, acc: usize): void {
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), b4 = f32x4.splat(0);
  let a5 = f32x4.splat(0), b5 = f32x4.splat(0);
  let wk = wp;
  let xk = x0;
  const x3 = x0 + 3 * xs;
  const end = wp + (<usize>K << 5);
  // (unrolling k by 2 made V8 load the second step's weights early and spill: 47 -> 30 GFLOP/s)
  while (wk < end) {
    const lo = v128.load(wk);
    const hi = v128.load(wk, 16);
    let s = v128.load32_splat(xk);
    a0 = madd(s, lo, a0);
    b0 = madd(s, hi, b0);
    s = v128.load32_splat(xk + xs);
    a1 = madd(s, lo, a1);
    b1 = madd(s, hi, b1);
    s = v128.load32_splat(xk + 2 * xs);
    a2 = madd(s, lo, a2);
    b2 = madd(s, hi, b2);
    const xh = xk + (x3 - x0);
    s = v128.load32_splat(xh);
    a3 = madd(s, lo, a3);
    b3 = madd(s, hi, b3);
    s = v128.load32_splat(xh + xs);
    a4 = madd(s, lo, a4);
    b4 = madd(s, hi, b4);
    s = v128.load32_splat(xh + 2 * xs);
    a5 = madd(s, lo, a5);
    b5 = madd(s, hi, b5);
    wk += 32;
    xk += 4;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
  v128.store(acc, a4, 128);
  v128.store(acc, b4, 144);
  v128.store(acc, a5, 160);
  v128.store(acc, b5, 176);
}

// The small-M (decoding a batch, beam search) kernel: two rows of x against two panels at once, k in [k0, k1).
// 8 accumulators (row i, panel j, 8 columns) are loaded from and stored back to acc ([2 rows][2 panels][8] f32),
// so that the caller can run the k range in chunks and pass over each chunk once per pair of rows (the second
// pass hits L1). The 4 weight vectors, 2 splats and 8 accumulators of one step fit V8's 15 xmm registers (4 rows
// x 2 panels would not: V8 spills an accumulator, and the loop then waits on store-to-load forwarding).
// @ts-ignore: decorator
@noinline function kernel2x8x2(wa: usize, wb: usize, x0: usize, xs: usize, k0: i32, k1: i32, acc: usize): void {
  let a0 = v128.load(acc), b0 = v128.load(acc, 16), c0 = v128.load(acc, 32), d0 = v128.load(acc, 48);
  let a1 = v128.load(acc, 64), b1 = v128.load(acc, 80), c1 = v128.load(acc, 96), d1 = v128.load(acc, 112);
  let pa = wa + (<usize>k0 << 5);
  let pb = wb + (<usize>k0 << 5);
  let xk = x0 + (<usize>k0 << 2);
  const end = wa + (<usize>k1 << 5);
  while (pa < end) {
    const alo = v128.load(pa);
    const ahi = v128.load(pa, 16);
    const blo = v128.load(pb);
    const bhi = v128.load(pb, 16);
    let s = v128.load32_splat(xk);
    a0 = madd(s, alo, a0);
    b0 = madd(s, ahi, b0);
    c0 = madd(s, blo, c0);
    d0 = madd(s, bhi, d0);
    s = v128.load32_splat(xk + xs);
    a1 = madd(s, alo, a1);
    b1 = madd(s, ahi, b1);
    c1 = madd(s, blo, c1);
    d1 = madd(s, bhi, d1);
    pa += 32;
    pb += 32;
    xk += 4;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, c0, 32);
  v128.store(acc, d0, 48);
  v128.store(acc, a1, 64);
  v128.store(acc, b1, 80);
  v128.store(acc, c1, 96);
  v128.store(acc, d1, 112);
}

/** Rows of a panel per chunk of matmulSmall: 2 panels x 32 rows x 32 bytes = 2 KB, read from memory by the first pair of rows and from L1 by the second. */
const KCHUNK: i32 = 32;

/**
 * Rows of x up to which the f32 matmul takes matmulSmall (decoding a batch, beams, short prompts), and the LM head
 * dotRowsSmall; from SMALL_ROWS + 1 rows on the prompt blocks (kernel6x8 / kernel4x8 once per panel and row block;
 * the LM head's tiles).
 */
const SMALL_ROWS: i32 = 16;

/**
 * f32 matmul for 2 <= M <= SMALL_ROWS rows (a batched decoding step, beams, a short prompt) over the panels [p0, p1),
 * with the fused epilogue. The slice is cut in two halves and panel p of the first half goes with panel p of the
 * second through kernel2x8x2, so the weights are read once for all rows as two sequential streams side by side: the
 * hardware prefetchers keep two streams going while the arithmetic runs (one stream at 4 rows' arithmetic per weight
 * falls behind: measured, a batch-4 step then costs 2x a batch-1 step instead of about 1.4x). Within a chunk of
 * KCHUNK rows of the two panels (2 KB, L1) every pair of rows of x passes (an odd M's last row goes twice, stored
 * once): at 5-16 rows this beats the prompt blocks, which read each panel from memory in their first row block at
 * one stream's pace and then run the rows left over 1 at a time (docs/engine.md, round 7). acc: 128 bytes a pair.
 */
function matmulSmall(x: usize, M: i32, K: i32, w: usize, N: i32, bias: usize, y: usize, mode: i32, p0: i32, p1: i32, acc: usize): void {
  const xs: usize = <usize>K << 2;
  const ys: usize = <usize>N << 2;
  const pb: usize = <usize>K << 5;
  const half = (p1 - p0 + 1) >> 1;
  const accBytes: usize = <usize>((M + 1) >> 1) << 7;
  for (let i = 0; i < half; i++) {
    const pa = p0 + i;
    const pbb = pa + half < p1 ? pa + half : pa; // an odd count's middle panel goes alone (read twice, written once)
    const wa = w + <usize>pa * pb;
    const wb = w + <usize>pbb * pb;
    memory.fill(acc, 0, accBytes);
    for (let k0 = 0; k0 < K; k0 += KCHUNK) {
      const k1 = min(K, k0 + KCHUNK);
      // two call sites: Binaryen inlines a function that has one caller whatever @noinline says (and inlined, it spills)
      kernel2x8x2(wa, wb, x, xs, k0, k1, acc);
      for (let r = 2; r < M; r += 2) kernel2x8x2(wa, wb, x + <usize>r * xs, r + 1 < M ? xs : 0, k0, k1, acc + (<usize>(r >> 1) << 7));
    }
    for (let r = 0; r < M; r++) {
      const ar = acc + (<usize>(r >> 1) << 7) + (<usize>(r & 1) << 6);
      let col = pa << 3;
      epilogue(y + <usize>r * ys + (<usize>col << 2), v128.load(ar), v128.load(ar, 16), 0, bias + (<usize>col << 2), mode, min(8, N - col), false);
      if (pbb != pa) {
        col = pbb << 3;
        epilogue(y + <usize>r * ys + (<usize>col << 2), v128.load(ar, 32), v128.load(ar, 48), 0, bias + (<usize>col << 2), mode, min(8, N - col), false);
      }
    }
  }
}

// One row of x against one panel (the matrix-vector product of decoding): k unrolled by 4 into 4 independent
// accumulator pairs, so the adds do not wait on each other while the weights stream in. acc: [8] f32.
// @ts-ignore: decorator
@noinline function kernel1x8<T>(wp: usize, x0: usize, K: i32, acc: usize): void {
  const rowBytes: usize = 8 * sizeof<T>();
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let wk = wp;
  let xk = x0;
  const end4 = wp + <usize>(K & ~3) * rowBytes;
  const end = wp + <usize>K * rowBytes;
  while (wk < end4) {
    let s = v128.load32_splat(xk);
    a0 = madd(s, wlo<T>(wk), a0);
    b0 = madd(s, whi<T>(wk), b0);
    s = v128.load32_splat(xk, 4);
    a1 = madd(s, wlo<T>(wk + rowBytes), a1);
    b1 = madd(s, whi<T>(wk + rowBytes), b1);
    s = v128.load32_splat(xk, 8);
    a2 = madd(s, wlo<T>(wk + 2 * rowBytes), a2);
    b2 = madd(s, whi<T>(wk + 2 * rowBytes), b2);
    s = v128.load32_splat(xk, 12);
    a3 = madd(s, wlo<T>(wk + 3 * rowBytes), a3);
    b3 = madd(s, whi<T>(wk + 3 * rowBytes), b3);
    wk += 4 * rowBytes;
    xk += 16;
  }
  while (wk < end) {
    const s = v128.load32_splat(xk);
    a0 = madd(s, wlo<T>(wk), a0);
    b0 = madd(s, whi<T>(wk), b0);
    wk += rowBytes;
    xk += 4;
  }
  v128.store(acc, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  v128.store(acc, f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), 16);
}

// kernel1x8 for an fp16 panel and x scaled by 2^F16_XSHIFT (see h2fRaw): per 4 weights a sign-extending load, a
// shift, an and and the multiply-add. acc: [8] f32, still to be multiplied by 2^(112 - F16_XSHIFT).
// @ts-ignore: decorator
@noinline function kernel1x8h(wp: usize, x0: usize, K: i32, acc: usize): void {
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let wk = wp;
  let xk = x0;
  const end4 = wp + (<usize>(K & ~3) << 4);
  const end = wp + (<usize>K << 4);
  while (wk < end4) {
    let s = v128.load32_splat(xk);
    a0 = madd(s, h2fRaw(v128.load16x4_s(wk)), a0);
    b0 = madd(s, h2fRaw(v128.load16x4_s(wk, 8)), b0);
    s = v128.load32_splat(xk, 4);
    a1 = madd(s, h2fRaw(v128.load16x4_s(wk, 16)), a1);
    b1 = madd(s, h2fRaw(v128.load16x4_s(wk, 24)), b1);
    s = v128.load32_splat(xk, 8);
    a2 = madd(s, h2fRaw(v128.load16x4_s(wk, 32)), a2);
    b2 = madd(s, h2fRaw(v128.load16x4_s(wk, 40)), b2);
    s = v128.load32_splat(xk, 12);
    a3 = madd(s, h2fRaw(v128.load16x4_s(wk, 48)), a3);
    b3 = madd(s, h2fRaw(v128.load16x4_s(wk, 56)), b3);
    wk += 64;
    xk += 16;
  }
  while (wk < end) {
    const s = v128.load32_splat(xk);
    a0 = madd(s, h2fRaw(v128.load16x4_s(wk)), a0);
    b0 = madd(s, h2fRaw(v128.load16x4_s(wk, 8)), b0);
    wk += 16;
    xk += 4;
  }
  v128.store(acc, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  v128.store(acc, f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), 16);
}

// The fp16 small-M (batched decoding, beam search) block: 4 rows of x, scaled by 2^F16_XSHIFT (see h2fRaw), at
// x0 + r xs, against one fp16 panel, k in [k0, k1). Each 8 halves are widened once in registers (load, shift, and:
// no multiply) and feed all 4 rows: 8 accumulators, 2 weight vectors, a splat and the and's mask (13 xmm registers
// with the plain build's product temporary; V8 has 15). The accumulators are loaded from and stored back to acc
// ([4 rows][8] f32, still to be multiplied by 2^(112 - F16_XSHIFT)), so the caller may run k in chunks.
// @ts-ignore: decorator
@noinline function kernel4x8h(wp: usize, x0: usize, xs: usize, k0: i32, k1: i32, acc: usize, maskp: usize): void {
  const mask = v128.load(maskp);
  let a0 = v128.load(acc), b0 = v128.load(acc, 16);
  let a1 = v128.load(acc, 32), b1 = v128.load(acc, 48);
  let a2 = v128.load(acc, 64), b2 = v128.load(acc, 80);
  let a3 = v128.load(acc, 96), b3 = v128.load(acc, 112);
  let wk = wp + (<usize>k0 << 4);
  let xk = x0 + (<usize>k0 << 2);
  const end = wp + (<usize>k1 << 4);
  while (wk < end) {
    const lo = v128.and(i32x4.shl(v128.load16x4_s(wk), 13), mask);
    const hi = v128.and(i32x4.shl(v128.load16x4_s(wk, 8), 13), mask);
    let s = v128.load32_splat(xk);
    a0 = madd(s, lo, a0);
    b0 = madd(s, hi, b0);
    s = v128.load32_splat(xk + xs);
    a1 = madd(s, lo, a1);
    b1 = madd(s, hi, b1);
    s = v128.load32_splat(xk + 2 * xs);
    a2 = madd(s, lo, a2);
    b2 = madd(s, hi, b2);
    s = v128.load32_splat(xk + 3 * xs);
    a3 = madd(s, lo, a3);
    b3 = madd(s, hi, b3);
    if (!ASC_FEATURE_RELAXED_SIMD) {
      wk += 16;
      xk += 4;
      continue;
    }
    // relaxed build: k unrolled by 2 (4-row fp16 matmuls of a step 18.1 -> 16.4 ms; the plain build spills: 26.7 -> 38.0)
    if (wk + 16 >= end) break;
    const lo2 = v128.and(i32x4.shl(v128.load16x4_s(wk, 16), 13), mask);
    const hi2 = v128.and(i32x4.shl(v128.load16x4_s(wk, 24), 13), mask);
    s = v128.load32_splat(xk, 4);
    a0 = madd(s, lo2, a0);
    b0 = madd(s, hi2, b0);
    s = v128.load32_splat(xk + xs, 4);
    a1 = madd(s, lo2, a1);
    b1 = madd(s, hi2, b1);
    s = v128.load32_splat(xk + 2 * xs, 4);
    a2 = madd(s, lo2, a2);
    b2 = madd(s, hi2, b2);
    s = v128.load32_splat(xk + 3 * xs, 4);
    a3 = madd(s, lo2, a3);
    b3 = madd(s, hi2, b3);
    wk += 32;
    xk += 8;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
}

/** Rows of a panel per chunk of matmulSmallH: 2 panels x 64 rows x 16 bytes = 2 KB. */
const KCHUNK_H: i32 = 64;

/**
 * fp16 matmul for 2 <= M <= 4 rows over the panels [p0, p1), with the fused epilogue: the rows are scaled by
 * 2^F16_XSHIFT into tmp as 4 rows (rows past M repeat the last), and kernel4x8h streams the weights once for all
 * of them, widened in registers (before: each panel widened to f32 into tmp, then the f32 4-row block). As in
 * matmulSmall, panel p of the slice's first half goes with panel p of its second half, k in chunks taken in turn
 * from each, so the weights are read as two sequential streams side by side (measured, fp16 matmuls of a 4-row
 * step, relaxed, CPU: one stream 24.7 ms, two 18.5, three to six 27-31). tmp: 4 K floats and the mask; acc: 256 bytes.
 */
function matmulSmallH(x: usize, M: i32, K: i32, w: usize, N: i32, bias: usize, y: usize, mode: i32, p0: i32, p1: i32, tmp: usize, acc: usize): void {
  const xs: usize = <usize>K << 2;
  const ys: usize = <usize>N << 2;
  const pb: usize = <usize>K << 4;
  for (let r = 0; r < 4; r++) scaleRow(x + <usize>min(r, M - 1) * xs, K, F16_XSHIFT, tmp + <usize>r * xs);
  const maskp = tmp + 4 * xs;
  v128.store(maskp, i32x4.splat(F16_MASK));
  const ys4 = f32x4.splat(F16_YSHIFT);
  const half = (p1 - p0 + 1) >> 1;
  for (let i = 0; i < half; i++) {
    const pa = p0 + i;
    const pbb = pa + half < p1 ? pa + half : pa; // an odd count's middle panel goes alone (read twice, written once)
    const wa = w + <usize>pa * pb;
    const wb = w + <usize>pbb * pb;
    memory.fill(acc, 0, 256);
    // two call sites: Binaryen inlines a function that has one caller whatever @noinline says (and inlined, it spills)
    for (let k0 = 0; k0 < K; k0 += KCHUNK_H) {
      const k1 = min(K, k0 + KCHUNK_H);
      kernel4x8h(wa, tmp, xs, k0, k1, acc, maskp);
      kernel4x8h(wb, tmp, xs, k0, k1, acc + 128, maskp);
    }
    for (let r = 0; r < M; r++) {
      const ar = acc + (<usize>r << 5);
      let col = pa << 3;
      epilogue(y + <usize>r * ys + (<usize>col << 2), f32x4.mul(v128.load(ar), ys4), f32x4.mul(v128.load(ar, 16), ys4), 0, bias + (<usize>col << 2), mode, min(8, N - col), false);
      if (pbb != pa) {
        col = pbb << 3;
        epilogue(y + <usize>r * ys + (<usize>col << 2), f32x4.mul(v128.load(ar, 128), ys4), f32x4.mul(v128.load(ar, 144), ys4), 0, bias + (<usize>col << 2), mode, min(8, N - col), false);
      }
    }
  }
}

// int8 panels hold pairs of rows interleaved, [ceil(K/2)][8 columns][2], so that one i32x4.dot_i16x8_s multiplies
// 2 rows x 4 columns of weights with 2 entries of x (quantised to i16) and sums each column's pair into an i32.
// A lane gains at most 2 * 32767 * 127 per pair: flushing to f32 every 256 pairs keeps i32 from overflowing.
// acc: [8] f32, not yet multiplied by x's scale.
// @ts-ignore: decorator
@noinline function kernel1x8i8(wp: usize, xq: usize, K: i32, acc: usize): void {
  const pairs = (K + 1) >> 1;
  let fa = f32x4.splat(0), fb = f32x4.splat(0);
  let kp = 0;
  while (kp < pairs) {
    const stop = min(pairs, kp + 256);
    let ia = i32x4.splat(0), ib = i32x4.splat(0);
    let ic = i32x4.splat(0), id = i32x4.splat(0);
    for (; kp + 2 <= stop; kp += 2) {
      const w0 = v128.load(wp + (<usize>kp << 4));
      const w1 = v128.load(wp + (<usize>kp << 4), 16);
      const x0 = v128.load32_splat(xq + (<usize>kp << 2));
      const x1 = v128.load32_splat(xq + (<usize>kp << 2), 4);
      ia = i32x4.add(ia, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), x0));
      ib = i32x4.add(ib, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), x0));
      ic = i32x4.add(ic, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w1), x1));
      id = i32x4.add(id, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w1), x1));
    }
    for (; kp < stop; kp++) {
      const w0 = v128.load(wp + (<usize>kp << 4));
      const x0 = v128.load32_splat(xq + (<usize>kp << 2));
      ia = i32x4.add(ia, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), x0));
      ib = i32x4.add(ib, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), x0));
    }
    fa = f32x4.add(fa, f32x4.convert_i32x4_s(i32x4.add(ia, ic)));
    fb = f32x4.add(fb, f32x4.convert_i32x4_s(i32x4.add(ib, id)));
  }
  v128.store(acc, fa);
  v128.store(acc, fb, 16);
}

// The int8 row kernel for 4 rows of xq (quantised x) at once, pairs [kp0, kp1) (at most 256: no i32 overflow):
// each 16-byte weight pair is widened once and fed to all 4 rows, 8 i32 accumulators; their sums are added, as
// f32, into acc ([4 rows][8] f32, not yet multiplied by x's scales).
// @ts-ignore: decorator
@noinline function kernel4x8i8(wp: usize, x0: usize, x1: usize, x2: usize, x3: usize, kp0: i32, kp1: i32, acc: usize): void {
  let a0 = i32x4.splat(0), b0 = i32x4.splat(0);
  let a1 = i32x4.splat(0), b1 = i32x4.splat(0);
  let a2 = i32x4.splat(0), b2 = i32x4.splat(0);
  let a3 = i32x4.splat(0), b3 = i32x4.splat(0);
  for (let kp = kp0; kp < kp1; kp++) {
    const w = v128.load(wp + (<usize>kp << 4));
    const lo = i16x8.extend_low_i8x16_s(w);
    const hi = i16x8.extend_high_i8x16_s(w);
    const o: usize = <usize>kp << 2;
    let s = v128.load32_splat(x0 + o);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(lo, s));
    b0 = i32x4.add(b0, i32x4.dot_i16x8_s(hi, s));
    s = v128.load32_splat(x1 + o);
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(lo, s));
    b1 = i32x4.add(b1, i32x4.dot_i16x8_s(hi, s));
    s = v128.load32_splat(x2 + o);
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(lo, s));
    b2 = i32x4.add(b2, i32x4.dot_i16x8_s(hi, s));
    s = v128.load32_splat(x3 + o);
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(lo, s));
    b3 = i32x4.add(b3, i32x4.dot_i16x8_s(hi, s));
  }
  v128.store(acc, f32x4.add(v128.load(acc), f32x4.convert_i32x4_s(a0)));
  v128.store(acc, f32x4.add(v128.load(acc, 16), f32x4.convert_i32x4_s(b0)), 16);
  v128.store(acc, f32x4.add(v128.load(acc, 32), f32x4.convert_i32x4_s(a1)), 32);
  v128.store(acc, f32x4.add(v128.load(acc, 48), f32x4.convert_i32x4_s(b1)), 48);
  v128.store(acc, f32x4.add(v128.load(acc, 64), f32x4.convert_i32x4_s(a2)), 64);
  v128.store(acc, f32x4.add(v128.load(acc, 80), f32x4.convert_i32x4_s(b2)), 80);
  v128.store(acc, f32x4.add(v128.load(acc, 96), f32x4.convert_i32x4_s(a3)), 96);
  v128.store(acc, f32x4.add(v128.load(acc, 112), f32x4.convert_i32x4_s(b3)), 112);
}

/**
 * int8 rows from which kernel4x8i8 (4 rows per pass) replaces kernel1x8i8 (a pass per row). Measured (kernel CPU
 * time, 128 MB of panels): 4 rows 19.3 -> 14.2 ms; 3 rows (computed as 4) 14.7 -> 14.2, no gain, so 3 rows keep
 * the row kernel.
 */
const I8_ROWS4_FROM: i32 = 4;

/** Widens one packed panel (K rows of 8, element type T; int8 in row pairs) into f32 [K][8] at tmp. */
function widenPanel<T>(wp: usize, K: i32, tmp: usize): void {
  if (sizeof<T>() == 1) {
    for (let kp = 0; kp < (K >> 1); kp++) {
      // [8 columns][2 rows] -> row 2kp's 8 columns, then row 2kp+1's
      const v = i8x16.shuffle(v128.load(wp + (<usize>kp << 4)), i32x4.splat(0), 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
      const e = i16x8.extend_low_i8x16_s(v);
      const o = i16x8.extend_high_i8x16_s(v);
      const t = tmp + (<usize>kp << 6);
      v128.store(t, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(e)));
      v128.store(t, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(e)), 16);
      v128.store(t, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(o)), 32);
      v128.store(t, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(o)), 48);
    }
    if (K & 1) {
      const kp = K >> 1;
      for (let j = 0; j < 8; j++) store<f32>(tmp + ((<usize>(K - 1) * 8 + j) << 2), <f32>load<i8>(wp + (<usize>kp << 4) + (<usize>j << 1)));
    }
  } else {
    for (let k = 0; k < K; k++) {
      const src = wp + <usize>k * 8 * sizeof<T>();
      v128.store(tmp + (<usize>k << 5), wlo<T>(src));
      v128.store(tmp + (<usize>k << 5), whi<T>(src), 16);
    }
  }
}

/** Bytes of one packed panel of K rows. */
// @ts-ignore: decorator
@inline function panelBytes<T>(K: i32): usize {
  return sizeof<T>() == 1 ? <usize>((K + 1) >> 1) << 4 : <usize>K * 8 * sizeof<T>();
}

/**
 * From this many rows, an fp16 / int8 panel is widened to f32 once and the f32 kernels run on it (fp16 with 2-4
 * rows takes matmulSmallH before this test, so fp16 widens from 5 rows; int8's integer row path is the faster one
 * up to 8 rows).
 */
const WIDEN_FROM_F16: i32 = 2;
const WIDEN_FROM_I8: i32 = 8;

/**
 * y[M, N] (=, gelu, +=) x[M, K] @ W[K, N] + b for the column panels [p0, p1). W is packed in panels of 8
 * (see the top of this file) with element type T; `scale` (int8) holds one f32 per output column.
 * tmp: matmul_tmp_bytes(K) of scratch (this thread's): K * 8 floats, then the inner loops' accumulators. xq (int8, M < WIDEN_FROM_I8): the rows of x
 * quantised by quant_rows.
 */
function matmulT<T>(x: usize, M: i32, K: i32, w: usize, N: i32, scale: usize, bias: usize, y: usize, mode: i32, p0: i32, p1: i32, tmp: usize, xq: usize): void {
  const scaled = sizeof<T>() == 1;
  const acc = tmp + (<usize>K << 5); // the inner loops' accumulators
  const xs: usize = <usize>K << 2; // x row stride in bytes
  const ys: usize = <usize>N << 2;
  const kq: usize = <usize>((K + 1) >> 1) << 2; // xq row stride in bytes (i16, K rounded up to even)
  if (sizeof<T>() == 4 && M >= 2 && M <= SMALL_ROWS) {
    matmulSmall(x, M, K, w, N, bias, y, mode, p0, p1, acc);
    return;
  }
  if (sizeof<T>() == 2 && M >= 2 && M <= 4) {
    matmulSmallH(x, M, K, w, N, bias, y, mode, p0, p1, tmp, acc);
    return;
  }
  if (sizeof<T>() == 2 && M < WIDEN_FROM_F16) scaleRow(x, K, F16_XSHIFT, tmp); // for kernel1x8h (M = 1)
  for (let p = p0; p < p1; p++) {
    const wp = w + <usize>p * panelBytes<T>(K);
    const col = p << 3;
    const n = min(8, N - col);
    const sp = scale + (<usize>col << 2);
    const bp = bias + (<usize>col << 2);
    const yc = y + (<usize>col << 2);
    if (sizeof<T>() == 4 || M >= (sizeof<T>() == 2 ? WIDEN_FROM_F16 : WIDEN_FROM_I8)) {
      let f = wp;
      if (sizeof<T>() != 4) {
        widenPanel<T>(wp, K, tmp);
        f = tmp;
      }
      let r = 0;
      if (ASC_FEATURE_RELAXED_SIMD) {
        for (; r + 6 <= M; r += 6) {
          kernel6x8(f, x + <usize>r * xs, xs, K, acc);
          const yp = yc + <usize>r * ys;
          for (let i = 0; i < 6; i++) {
            const ai = acc + (<usize>i << 5);
            epilogue(yp + <usize>i * ys, v128.load(ai), v128.load(ai, 16), sp, bp, mode, n, scaled);
          }
        }
      }
      for (; r + 4 <= M; r += 4) {
        kernel4x8<f32>(f, x + <usize>r * xs, xs, K, acc);
        const yp = yc + <usize>r * ys;
        for (let i = 0; i < 4; i++) {
          const ai = acc + (<usize>i << 5);
          epilogue(yp + <usize>i * ys, v128.load(ai), v128.load(ai, 16), sp, bp, mode, n, scaled);
        }
      }
      for (; r < M; r++) {
        kernel1x8<f32>(f, x + <usize>r * xs, K, acc);
        epilogue(yc + <usize>r * ys, v128.load(acc), v128.load(acc, 16), sp, bp, mode, n, scaled);
      }
    } else if (sizeof<T>() == 1 && M >= I8_ROWS4_FROM && M <= 4) {
      // 4 rows (rows past M repeat the last): every widened weight pair feeds all of them
      const x0 = xq + 64;
      const x3 = x0 + <usize>min(3, M - 1) * kq;
      memory.fill(acc, 0, 128);
      const pairs = (K + 1) >> 1;
      for (let kp = 0; kp < pairs; kp += 256) kernel4x8i8(wp, x0, x0 + kq, x0 + 2 * kq, x3, kp, min(pairs, kp + 256), acc);
      for (let r = 0; r < M; r++) {
        const ar = acc + (<usize>r << 5);
        const xscale = f32x4.splat(load<f32>(xq + (<usize>r << 2)));
        epilogue(yc + <usize>r * ys, f32x4.mul(v128.load(ar), xscale), f32x4.mul(v128.load(ar, 16), xscale), sp, bp, mode, n, true);
      }
    } else if (sizeof<T>() == 1) {
      for (let r = 0; r < M; r++) {
        kernel1x8i8(wp, xq + 64 + <usize>r * kq, K, acc);
        const xscale = f32x4.splat(load<f32>(xq + (<usize>r << 2)));
        epilogue(yc + <usize>r * ys, f32x4.mul(v128.load(acc), xscale), f32x4.mul(v128.load(acc, 16), xscale), sp, bp, mode, n, true);
      }
    } else {
      // fp16, one row (M < WIDEN_FROM_F16): x scaled into tmp before the loop
      kernel1x8h(wp, tmp, K, acc);
      const ys4 = f32x4.splat(F16_YSHIFT);
      epilogue(yc, f32x4.mul(v128.load(acc), ys4), f32x4.mul(v128.load(acc, 16), ys4), sp, bp, mode, n, scaled);
    }
  }
}

export function matmul(dt: i32, x: usize, M: i32, K: i32, w: usize, N: i32, scale: usize, bias: usize, y: usize, mode: i32, p0: i32, p1: i32, tmp: usize, xq: usize): void {
  if (dt == 0) matmulT<f32>(x, M, K, w, N, scale, bias, y, mode, p0, p1, tmp, xq);
  else if (dt == 1) matmulT<u16>(x, M, K, w, N, scale, bias, y, mode, p0, p1, tmp, xq);
  else matmulT<i8>(x, M, K, w, N, scale, bias, y, mode, p0, p1, tmp, xq);
}

/** Bytes of matmul's per-thread scratch for K input rows: an fp16/int8 panel widened to f32, then the accumulators (matmulSmall's SMALL_ROWS rows x 2 panels x 8 floats; at least the 6-row block's 192 bytes). */
export function matmul_tmp_bytes(K: i32): i32 {
  return K * 32 + max(256, SMALL_ROWS * 64);
}

/**
 * For the int8 matrix-vector path: quantises each row of x [M, K] (M <= 16) to i16 with one scale per row,
 * max|x| / 32767. Layout at xq: M f32 scales (64 bytes), then M rows of K i16, K rounded up to even (zero pad).
 */
export function quant_rows(x: usize, M: i32, K: i32, xq: usize): void {
  // In SIMD, 8 at a time (it runs on the calling thread alone, between the threaded matmuls); the same numbers as
  // one at a time: max is exact in any order, and |x * inv| <= 32767 rounds to itself through the i32 -> i16 narrowing.
  const kq: usize = <usize>((K + 1) >> 1) << 2;
  const K8 = K & ~7;
  for (let m = 0; m < M; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    let m4 = f32x4.splat(0);
    let k = 0;
    for (; k < K8; k += 8) {
      m4 = f32x4.max(m4, f32x4.abs(v128.load(xr + (<usize>k << 2))));
      m4 = f32x4.max(m4, f32x4.abs(v128.load(xr + (<usize>k << 2), 16)));
    }
    let mx: f32 = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
    for (; k < K; k++) mx = max(mx, Mathf.abs(load<f32>(xr + (<usize>k << 2))));
    const s: f32 = mx > 0 ? mx / 32767 : 1;
    store<f32>(xq + (<usize>m << 2), s);
    const inv: f32 = 1 / s;
    const inv4 = f32x4.splat(inv);
    const q = xq + 64 + <usize>m * kq;
    for (k = 0; k < K8; k += 8) {
      const lo = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xr + (<usize>k << 2)), inv4)));
      const hi = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xr + (<usize>k << 2), 16), inv4)));
      v128.store(q + (<usize>k << 1), i16x8.narrow_i32x4_s(lo, hi));
    }
    for (; k < K; k++) store<i16>(q + (<usize>k << 1), <i16>nearest<f32>(load<f32>(xr + (<usize>k << 2)) * inv));
    if (K & 1) store<i16>(q + (<usize>K << 1), 0);
  }
}

// ---- dot products with the rows of a [V, C] matrix: the tied LM head, logits = h @ wte^T -----------------------

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * The LM head over many rows: 4 rows of h (L1-resident) against 2 rows of W (f32), c in [0, C4), 8 accumulators;
 * each loaded W vector is used 4 times and each h vector twice. Leaves the 8 accumulators (row i, vocabulary row j
 * at acc + 32i + 16j) for the caller to sum: with only the loop in this never-inlined function V8 keeps all 8 in
 * registers (see kernel4x8).
 */
// @ts-ignore: decorator
@noinline function kernel4x2(h: usize, hs: usize, w0: usize, w1: usize, C4: i32, acc: usize): void {
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let p0 = h;
  let q0 = w0;
  let q1 = w1;
  const end = w0 + (<usize>C4 << 2);
  while (q0 < end) {
    const x = v128.load(q0);
    const y = v128.load(q1);
    let hv = v128.load(p0);
    a0 = madd(hv, x, a0);
    b0 = madd(hv, y, b0);
    hv = v128.load(p0 + hs);
    a1 = madd(hv, x, a1);
    b1 = madd(hv, y, b1);
    hv = v128.load(p0 + 2 * hs);
    a2 = madd(hv, x, a2);
    b2 = madd(hv, y, b2);
    hv = v128.load(p0 + 3 * hs);
    a3 = madd(hv, x, a3);
    b3 = madd(hv, y, b3);
    p0 += 16;
    q0 += 16;
    q1 += 16;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
}

/**
 * Rows [m0, m0 + 4) of h against f32 rows [v, ve) of F (row stride C floats; F's row v is vocabulary row v + vOff),
 * pairs of rows through kernel4x2, the C % 4 tail in scalars; out[(m0 + i) * outStride + v + vOff] = dot * scale.
 */
function head4Rows(h: usize, m0: i32, C: i32, F: usize, v: i32, ve: i32, vOff: i32, scaled: bool, scale: usize, out: usize, outStride: i32, acc: usize): void {
  const hs: usize = <usize>C << 2;
  const C4 = C & ~3;
  const hb = h + <usize>m0 * hs;
  for (; v < ve; v += 2) {
    const two = v + 1 < ve;
    const w0 = F + <usize>v * hs;
    const w1 = two ? w0 + hs : w0;
    kernel4x2(hb, hs, w0, w1, C4, acc);
    const nj: i32 = two ? 2 : 1;
    for (let j = 0; j < nj; j++) {
      const vv = v + vOff + j;
      const wj = j == 0 ? w0 : w1;
      const s: f32 = scaled ? load<f32>(scale + (<usize>vv << 2)) : 1;
      for (let i = 0; i < 4; i++) {
        let r = hsum(v128.load(acc + (<usize>(i * 2 + j) << 4)));
        const hr = hb + <usize>i * hs;
        for (let c = C4; c < C; c++) r += load<f32>(hr + (<usize>c << 2)) * load<f32>(wj + (<usize>c << 2));
        store<f32>(out + ((<usize>(m0 + i) * <usize>outStride + <usize>vv) << 2), r * s);
      }
    }
  }
}

/**
 * The relaxed build's LM head over many rows: kernel4x2 with 6 rows of h, 12 accumulators (row i, vocabulary row j
 * at acc + 32i + 16j); each loaded W vector feeds 6 rows. 12 accumulators + 2 W vectors + 1 h vector = V8's 15 xmm
 * registers (the plain build's mul + add needs one more, so it keeps kernel4x2).
 */
// @ts-ignore: decorator
@noinline function kernel6x2(h: usize, hs: usize, w0: usize, w1: usize, C4: i32, acc: usize): void {
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), b4 = f32x4.splat(0);
  let a5 = f32x4.splat(0), b5 = f32x4.splat(0);
  let p0 = h;
  let q0 = w0;
  const d1 = w1 - w0;
  const h3 = 3 * hs;
  const end = w0 + (<usize>C4 << 2);
  while (q0 < end) {
    const x = v128.load(q0);
    const y = v128.load(q0 + d1);
    let hv = v128.load(p0);
    a0 = madd(hv, x, a0);
    b0 = madd(hv, y, b0);
    hv = v128.load(p0 + hs);
    a1 = madd(hv, x, a1);
    b1 = madd(hv, y, b1);
    hv = v128.load(p0 + 2 * hs);
    a2 = madd(hv, x, a2);
    b2 = madd(hv, y, b2);
    const ph = p0 + h3;
    hv = v128.load(ph);
    a3 = madd(hv, x, a3);
    b3 = madd(hv, y, b3);
    hv = v128.load(ph + hs);
    a4 = madd(hv, x, a4);
    b4 = madd(hv, y, b4);
    hv = v128.load(ph + 2 * hs);
    a5 = madd(hv, x, a5);
    b5 = madd(hv, y, b5);
    p0 += 16;
    q0 += 16;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
  v128.store(acc, a4, 128);
  v128.store(acc, b4, 144);
  v128.store(acc, a5, 160);
  v128.store(acc, b5, 176);
}

/** head4Rows for 6 rows of h [m0, m0 + 6) and f32 rows [v, ve) of W through kernel6x2 (acc: 192 bytes). */
function head6Rows(h: usize, m0: i32, C: i32, W: usize, v: i32, ve: i32, out: usize, outStride: i32, acc: usize): void {
  const hs: usize = <usize>C << 2;
  const C4 = C & ~3;
  const hb = h + <usize>m0 * hs;
  for (; v < ve; v += 2) {
    const two = v + 1 < ve;
    const w0 = W + <usize>v * hs;
    const w1 = two ? w0 + hs : w0;
    // two call sites: Binaryen inlines a function that has one caller whatever @noinline says (and inlined, it spills)
    if (two) kernel6x2(hb, hs, w0, w0 + hs, C4, acc);
    else kernel6x2(hb, hs, w0, w0, C4, acc);
    const nj: i32 = two ? 2 : 1;
    for (let j = 0; j < nj; j++) {
      const vv = v + j;
      const wj = j == 0 ? w0 : w1;
      for (let i = 0; i < 6; i++) {
        let r = hsum(v128.load(acc + (<usize>(i * 2 + j) << 4)));
        const hr = hb + <usize>i * hs;
        for (let c = C4; c < C; c++) r += load<f32>(hr + (<usize>c << 2)) * load<f32>(wj + (<usize>c << 2));
        store<f32>(out + ((<usize>(m0 + i) * <usize>outStride + <usize>vv) << 2), r);
      }
    }
  }
}

/** Lane sums of 4 vectors at once: [hsum(v0), hsum(v1), hsum(v2), hsum(v3)]. */
// @ts-ignore: decorator
@inline function hsum4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const s01 = f32x4.add(i32x4.shuffle(v0, v1, 0, 4, 1, 5), i32x4.shuffle(v0, v1, 2, 6, 3, 7)); // v0 and v1's halves, interleaved
  const s23 = f32x4.add(i32x4.shuffle(v2, v3, 0, 4, 1, 5), i32x4.shuffle(v2, v3, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(s01, s23, 0, 1, 4, 5), i32x4.shuffle(s01, s23, 2, 3, 6, 7));
}

/** Stores lanes [0, M) of r at p, p + os, p + 2 os, ... */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, os: usize, r: v128, M: i32): void {
  store<f32>(p, f32x4.extract_lane(r, 0));
  if (M > 1) store<f32>(p + os, f32x4.extract_lane(r, 1));
  if (M > 2) store<f32>(p + 2 * os, f32x4.extract_lane(r, 2));
  if (M > 3) store<f32>(p + 3 * os, f32x4.extract_lane(r, 3));
}

/**
 * Pairs of rows of W per group of dotRowsSmall at more than 4 rows of h: 64 rows (192 KB in f32 at C = 768) stay in
 * L2 while each 4-row block of h (L1) passes over them. Measured (fp32 heads alone, relaxed, CPU, 8 / 16 rows): every
 * block over one pair at a time 17.3 / 35.6 ms (h no longer fits L1 beside W from 12 rows on), groups of 4 pairs
 * 15.9 / 30.0, 8: 15.0 / 29.2, 16: 14.2 / 28.1, 32: 13.8 / 27.2, 64: 13.6 / 26.8.
 */
const HEAD_GROUP: i32 = 32;

/**
 * The f32 LM head for 2 <= M <= SMALL_ROWS rows (batched decoding, beam search, short prompts): the vocabulary range
 * is cut in two halves that kernel4x2 streams side by side (its two rows of W are row v of the first half and row v
 * of the second), so W is read once for all rows as two long sequential streams, which the hardware prefetchers
 * follow (two adjacent rows at a time, as the blocked head reads them, stream no faster than the arithmetic). The
 * rows of h are copied into M rows zero-padded to a multiple of 4 at hp (C floats each; SMALL_ROWS <= HEAD_TILE, so
 * they fit dot_rows' tile scratch) first; from 5 rows the pairs go in groups of HEAD_GROUP, each block of h passing
 * over a group: blocks of 4 rows (kernel4x2), on the relaxed build blocks of 6 (kernel6x2) and 4 over M rounded up
 * to even (measured, head alone, relaxed, CPU: 5-6 rows 14.5 -> 9.8 ms, 10 rows 21.8 -> 17.1, 14 rows 28.0 -> 23.9,
 * 16 rows 28.0 -> 26.3; 8 rows stay 4 + 4). The C % 4 tail is added in scalars.
 */
function dotRowsSmall(h: usize, M: i32, C: i32, W: usize, out: usize, outStride: i32, v0: i32, v1: i32, hp: usize, acc: usize): void {
  const hs: usize = <usize>C << 2;
  const C4 = C & ~3;
  // rows computed: a multiple of 4, or on the relaxed build an even count (at least 4) as blocks of 6 and 4 (kernel6x2:
  // each W vector feeds 6 rows), as many 6s as leave a multiple of 4
  let Mp = (M + 3) & ~3;
  let m6 = 0;
  if (ASC_FEATURE_RELAXED_SIMD && M > 4) {
    Mp = (M + 1) & ~1;
    m6 = Mp - Mp % 6;
    while ((Mp - m6) % 4 != 0) m6 -= 6;
  }
  const Mz = (Mp + 3) & ~3; // zero rows up to a multiple of 4: a 6-row block's tail reads 8 rows
  memory.copy(hp, h, <usize>M * hs);
  memory.fill(hp + <usize>M * hs, 0, <usize>(Mz - M) * hs);
  const os: usize = <usize>outStride << 2;
  const half = (v1 - v0 + 1) >> 1;
  for (let g = 0; g < half; g += HEAD_GROUP) {
    const ge = min(half, g + HEAD_GROUP);
    for (let m = 0; m < Mp; m += m < m6 ? 6 : 4) {
      const hb = hp + <usize>m * hs;
      const ob = out + <usize>m * os;
      for (let i = g; i < ge; i++) {
        const va = v0 + i;
        const vb = va + half < v1 ? va + half : va; // an odd count's middle row goes alone (read twice, stored once)
        const wa = W + <usize>va * hs;
        const wb = W + <usize>vb * hs;
        if (ASC_FEATURE_RELAXED_SIMD && m < m6) {
          kernel6x2(hb, hs, wa, wb, C4, acc);
          smallHeadOut(acc, hb, hs, wa, wb, C4, C, ob, os, va, vb, M - m);
          if (M - m > 4) smallHeadOut(acc + 128, hb + 4 * hs, hs, wa, wb, C4, C, ob + 4 * os, os, va, vb, min(2, M - m - 4));
        } else {
          kernel4x2(hb, hs, wa, wb, C4, acc);
          smallHeadOut(acc, hb, hs, wa, wb, C4, C, ob, os, va, vb, M - m);
        }
      }
    }
  }
}

/**
 * dotRowsSmall's results for 4 rows of h at hb (rows [0, n) stored, n may exceed 4) and the rows wa, wb of W: the
 * accumulators at acc + 32i (wa) and + 16 (wb) summed, the C % 4 tail added in scalars, stored at ob + v * 4.
 */
// @ts-ignore: decorator
@inline function smallHeadOut(acc: usize, hb: usize, hs: usize, wa: usize, wb: usize, C4: i32, C: i32, ob: usize, os: usize, va: i32, vb: i32, n: i32): void {
  let ra = hsum4(v128.load(acc), v128.load(acc, 32), v128.load(acc, 64), v128.load(acc, 96));
  let rb = hsum4(v128.load(acc, 16), v128.load(acc, 48), v128.load(acc, 80), v128.load(acc, 112));
  if (C4 < C) {
    let ta = f32x4.splat(0), tb = f32x4.splat(0);
    for (let c = C4; c < C; c++) {
      const hv = f32x4(load<f32>(hb + (<usize>c << 2)), load<f32>(hb + hs + (<usize>c << 2)), load<f32>(hb + 2 * hs + (<usize>c << 2)), load<f32>(hb + 3 * hs + (<usize>c << 2)));
      ta = f32x4.add(ta, f32x4.mul(hv, f32x4.splat(load<f32>(wa + (<usize>c << 2)))));
      tb = f32x4.add(tb, f32x4.mul(hv, f32x4.splat(load<f32>(wb + (<usize>c << 2)))));
    }
    ra = f32x4.add(ra, ta);
    rb = f32x4.add(rb, tb);
  }
  storeLanes(ob + (<usize>va << 2), os, ra, n);
  if (vb != va) storeLanes(ob + (<usize>vb << 2), os, rb, n);
}

/**
 * kernel4x2 for two fp16 rows of W and 4 rows of h scaled by 2^F16_XSHIFT: each 4 halves of a W row are widened
 * once in registers (load, shift, and) and feed the 4 rows of h. 8 accumulators, 2 W vectors, an h vector and the
 * and's mask (13 xmm registers with the plain build's product temporary). acc as kernel4x2's, still to be multiplied
 * by 2^(112 - F16_XSHIFT).
 */
// @ts-ignore: decorator
@noinline function kernel4x2h(h: usize, hs: usize, w0: usize, w1: usize, C4: i32, acc: usize, maskp: usize): void {
  const mask = v128.load(maskp);
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
  let a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0);
  let a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let p0 = h;
  let q0 = w0;
  const d1 = w1 - w0;
  const end = w0 + (<usize>C4 << 1);
  while (q0 < end) {
    const x = v128.and(i32x4.shl(v128.load16x4_s(q0), 13), mask);
    const y = v128.and(i32x4.shl(v128.load16x4_s(q0 + d1), 13), mask);
    let hv = v128.load(p0);
    a0 = madd(hv, x, a0);
    b0 = madd(hv, y, b0);
    hv = v128.load(p0 + hs);
    a1 = madd(hv, x, a1);
    b1 = madd(hv, y, b1);
    hv = v128.load(p0 + 2 * hs);
    a2 = madd(hv, x, a2);
    b2 = madd(hv, y, b2);
    hv = v128.load(p0 + 3 * hs);
    a3 = madd(hv, x, a3);
    b3 = madd(hv, y, b3);
    p0 += 16;
    q0 += 8;
  }
  v128.store(acc, a0);
  v128.store(acc, b0, 16);
  v128.store(acc, a1, 32);
  v128.store(acc, b1, 48);
  v128.store(acc, a2, 64);
  v128.store(acc, b2, 80);
  v128.store(acc, a3, 96);
  v128.store(acc, b3, 112);
}

/**
 * dotRowsSmall for fp16 rows of W: the rows of h are scaled by 2^F16_XSHIFT into 4 zero-padded rows at hp, the
 * vocabulary range is cut in two halves streamed side by side through kernel4x2h (W read once for all rows, halves
 * widened in registers; before: 32-row tiles widened to f32 into scratch, or for 2-3 rows a pass over W per row),
 * and each sum is multiplied by 2^(112 - F16_XSHIFT). The C % 4 tail is added in scalars (before the multiply).
 */
function dotRowsSmallH(h: usize, M: i32, C: i32, W: usize, out: usize, outStride: i32, v0: i32, v1: i32, hp: usize, acc: usize): void {
  const hs: usize = <usize>C << 2;
  const rowBytes: usize = <usize>C << 1;
  const C4 = C & ~3;
  for (let m = 0; m < M; m++) scaleRow(h + <usize>m * hs, C, F16_XSHIFT, hp + <usize>m * hs);
  memory.fill(hp + <usize>M * hs, 0, <usize>(4 - M) * hs);
  const maskp = hp + 4 * hs;
  v128.store(maskp, i32x4.splat(F16_MASK));
  const os: usize = <usize>outStride << 2;
  const ys4 = f32x4.splat(F16_YSHIFT);
  const half = (v1 - v0 + 1) >> 1;
  for (let i = 0; i < half; i++) {
    const va = v0 + i;
    const vb = va + half < v1 ? va + half : va; // an odd count's middle row goes alone (read twice, stored once)
    const wa = W + <usize>va * rowBytes;
    const wb = W + <usize>vb * rowBytes;
    // Binaryen inlines a function that has one call site whatever @noinline says: inlined, the plain build's loop
    // spills (its products need a temporary register; head of a 4-row step 17.2 ms against 11.1 with two call
    // sites), the relaxed build's does not and runs a little faster (7.1 against 7.7 ms): one call site there
    if (ASC_FEATURE_RELAXED_SIMD || vb != va) kernel4x2h(hp, hs, wa, wb, C4, acc, maskp);
    else kernel4x2h(hp, hs, wa, wa, C4, acc, maskp);
    let ra = hsum4(v128.load(acc), v128.load(acc, 32), v128.load(acc, 64), v128.load(acc, 96));
    let rb = hsum4(v128.load(acc, 16), v128.load(acc, 48), v128.load(acc, 80), v128.load(acc, 112));
    if (C4 < C) {
      let ta = f32x4.splat(0), tb = f32x4.splat(0);
      for (let c = C4; c < C; c++) {
        const hv = f32x4(load<f32>(hp + (<usize>c << 2)), load<f32>(hp + hs + (<usize>c << 2)), load<f32>(hp + 2 * hs + (<usize>c << 2)), load<f32>(hp + 3 * hs + (<usize>c << 2)));
        ta = f32x4.add(ta, f32x4.mul(hv, h2fRaw(i32x4.splat(<i32>load<i16>(wa + (<usize>c << 1))))));
        tb = f32x4.add(tb, f32x4.mul(hv, h2fRaw(i32x4.splat(<i32>load<i16>(wb + (<usize>c << 1))))));
      }
      ra = f32x4.add(ra, ta);
      rb = f32x4.add(rb, tb);
    }
    storeLanes(out + (<usize>va << 2), os, f32x4.mul(ra, ys4), M);
    if (vb != va) storeLanes(out + (<usize>vb << 2), os, f32x4.mul(rb, ys4), M);
  }
}

/** Vocabulary rows per tile of the blocked LM head: 32 rows of W (96 KB in f32 at C = 768) stay in L2 while every 4-row block of h passes over them. */
const HEAD_TILE: i32 = 32;

/**
 * out[m * outStride + v] = h[m, :] . W[v, :] (* scale[v] for i8) for m < M and rows v in [v0, v1).
 * From 4 rows on (prompts, all-position logits, the logit lens, batches) the rows of h go in blocks of 4 through
 * kernel4x2 over tiles of HEAD_TILE vocabulary rows: W is read from memory once for all rows (not once per row),
 * and the rows of h from L1. fp16 / int8 tiles are widened to f32 once (into tmp: HEAD_TILE * C floats + 128 bytes
 * of accumulators). fp32 with 2-SMALL_ROWS rows (batched decoding, beams, short prompts) and fp16 with 2-4 take
 * dotRowsSmall / dotRowsSmallH instead; other fewer than 4 rows (and the M % 4 rows left over) take one dot product
 * per (row, v).
 */
function dotRowsT<T>(h: usize, M: i32, C: i32, W: usize, scale: usize, out: usize, outStride: i32, v0: i32, v1: i32, tmp: usize): void {
  const rowBytes: usize = <usize>C * sizeof<T>();
  const M4 = M & ~3;
  const acc = tmp + (<usize>(HEAD_TILE * C) << 2);
  if (sizeof<T>() == 4 && M >= 2 && M <= SMALL_ROWS) {
    dotRowsSmall(h, M, C, W, out, outStride, v0, v1, tmp, acc);
    return;
  }
  if (sizeof<T>() == 2 && M >= 2 && M <= 4) {
    dotRowsSmallH(h, M, C, W, out, outStride, v0, v1, tmp, acc);
    return;
  }
  if (M4 > 0) {
    for (let vt = v0; vt < v1; vt += HEAD_TILE) {
      const ve = min(v1, vt + HEAD_TILE);
      if (sizeof<T>() == 4) {
        let m = 0;
        if (ASC_FEATURE_RELAXED_SIMD) {
          // blocks of 6 rows (the tile region of tmp, unused in f32, holds their accumulators), as many as leave a multiple of 4
          let m6 = M4 - M4 % 6;
          while ((M4 - m6) % 4 != 0) m6 -= 6;
          for (; m < m6; m += 6) head6Rows(h, m, C, W, vt, ve, out, outStride, tmp);
        }
        for (; m < M4; m += 4) head4Rows(h, m, C, W, vt, ve, 0, false, scale, out, outStride, acc);
      } else {
        // widen the tile's rows to f32 once, for every block of h
        const C8 = C & ~7;
        for (let v = vt; v < ve; v++) {
          const src = W + <usize>v * rowBytes;
          const dst = tmp + (<usize>((v - vt) * C) << 2);
          let c = 0;
          for (; c < C8; c += 8) {
            v128.store(dst + (<usize>c << 2), wlo<T>(src + <usize>c * sizeof<T>()));
            v128.store(dst + (<usize>c << 2), whi<T>(src + <usize>c * sizeof<T>()), 16);
          }
          for (; c < C; c++) store<f32>(dst + (<usize>c << 2), wone<T>(src + <usize>c * sizeof<T>()));
        }
        for (let m = 0; m < M4; m += 4) head4Rows(h, m, C, tmp, 0, ve - vt, vt, sizeof<T>() == 1, scale, out, outStride, acc);
      }
    }
    if (M4 == M) return;
  }
  if (sizeof<T>() == 2) dotRowsRestH(h, M4, M, C, W, out, outStride, v0, v1, tmp);
  else dotRowsRest<T>(h, M4, M, C, W, scale, out, outStride, v0, v1);
}

/**
 * dotRowsRest for fp16 rows of W (at most 3 rows of h: M - m0 < 4): the rows of h are scaled by 2^F16_XSHIFT into
 * tmp once and the halves widened without their multiply (h2fRaw); each sum is multiplied by 2^(112 - F16_XSHIFT).
 */
function dotRowsRestH(h: usize, m0: i32, M: i32, C: i32, W: usize, out: usize, outStride: i32, v0: i32, v1: i32, tmp: usize): void {
  const rowBytes: usize = <usize>C << 1;
  const C16 = C & ~15;
  for (let m = m0; m < M; m++) scaleRow(h + (<usize>m * <usize>C << 2), C, F16_XSHIFT, tmp + (<usize>((m - m0) * C) << 2));
  for (let v = v0; v < v1; v++) {
    const wr = W + <usize>v * rowBytes;
    for (let m = m0; m < M; m++) {
      const hr = tmp + (<usize>((m - m0) * C) << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let c = 0;
      for (; c < C16; c += 16) {
        const wp = wr + (<usize>c << 1);
        const hp = hr + (<usize>c << 2);
        a0 = madd(v128.load(hp), h2fRaw(v128.load16x4_s(wp)), a0);
        a1 = madd(v128.load(hp, 16), h2fRaw(v128.load16x4_s(wp, 8)), a1);
        a2 = madd(v128.load(hp, 32), h2fRaw(v128.load16x4_s(wp, 16)), a2);
        a3 = madd(v128.load(hp, 48), h2fRaw(v128.load16x4_s(wp, 24)), a3);
      }
      let acc = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
      for (; c < C; c++) acc += load<f32>(hr + (<usize>c << 2)) * f32x4.extract_lane(h2fRaw(i32x4.splat(<i32>load<i16>(wr + (<usize>c << 1)))), 0);
      store<f32>(out + ((<usize>m * <usize>outStride + <usize>v) << 2), acc * F16_YSHIFT);
    }
  }
}

/** dotRowsT's rows [m0, M): one dot product (4 accumulators) per (row, vocabulary row). */
function dotRowsRest<T>(h: usize, m0: i32, M: i32, C: i32, W: usize, scale: usize, out: usize, outStride: i32, v0: i32, v1: i32): void {
  const rowBytes: usize = <usize>C * sizeof<T>();
  const C16 = C & ~15;
  for (let v = v0; v < v1; v++) {
    const wr = W + <usize>v * rowBytes;
    const s: f32 = sizeof<T>() == 1 ? load<f32>(scale + (<usize>v << 2)) : 1;
    for (let m = m0; m < M; m++) {
      const hr = h + (<usize>m * <usize>C << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let c = 0;
      for (; c < C16; c += 16) {
        const wp = wr + <usize>c * sizeof<T>();
        const hp = hr + (<usize>c << 2);
        a0 = madd(v128.load(hp), wlo<T>(wp), a0);
        a1 = madd(v128.load(hp, 16), whi<T>(wp), a1);
        a2 = madd(v128.load(hp, 32), wlo<T>(wp + 8 * sizeof<T>()), a2);
        a3 = madd(v128.load(hp, 48), whi<T>(wp + 8 * sizeof<T>()), a3);
      }
      let acc = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
      for (; c < C; c++) acc += load<f32>(hr + (<usize>c << 2)) * wone<T>(wr + <usize>c * sizeof<T>());
      store<f32>(out + ((<usize>m * <usize>outStride + <usize>v) << 2), acc * s);
    }
  }
}

/**
 * The int8 LM head with integer dot products: hq holds the rows of h quantised to i16 by quant_rows (scales first);
 * each 16 weights take one load, two widenings and two i32x4.dot_i16x8_s. A lane gains at most 2 * 32767 * 127
 * per dot: flushing to f32 every 128 dots keeps i32 from overflowing.
 */
function dotRowsI8(hq: usize, M: i32, C: i32, W: usize, scale: usize, out: usize, outStride: i32, v0: i32, v1: i32): void {
  const rowBytes: usize = <usize>C;
  const kq: usize = <usize>((C + 1) >> 1) << 2; // hq row stride in bytes
  const C16 = C & ~15;
  for (let v = v0; v < v1; v++) {
    const wr = W + <usize>v * rowBytes;
    const s = load<f32>(scale + (<usize>v << 2));
    for (let m = 0; m < M; m++) {
      const hr = hq + 64 + <usize>m * kq;
      let f = f32x4.splat(0);
      let c = 0;
      while (c < C16) {
        const stop = min(C16, c + 2048);
        let ia = i32x4.splat(0), ib = i32x4.splat(0);
        for (; c < stop; c += 16) {
          const w = v128.load(wr + <usize>c);
          ia = i32x4.add(ia, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w), v128.load(hr + (<usize>c << 1))));
          ib = i32x4.add(ib, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w), v128.load(hr + (<usize>c << 1), 16)));
        }
        f = f32x4.add(f, f32x4.convert_i32x4_s(i32x4.add(ia, ib)));
      }
      let acc = hsum(f);
      for (; c < C; c++) acc += <f32>(<i32>load<i16>(hr + (<usize>c << 1)) * <i32>load<i8>(wr + <usize>c));
      store<f32>(out + ((<usize>m * <usize>outStride + <usize>v) << 2), acc * s * load<f32>(hq + (<usize>m << 2)));
    }
  }
}

/** Rows of h at or beyond this many take the f32 path of the int8 LM head (quant_rows holds at most 8). */
const HEAD_I16_ROWS: i32 = 8;

/**
 * out[m * outStride + v] = h[m, :] . W[v, :] (* scale[v] for i8); int8 with M < 8 reads hq (quant_rows of h).
 * tmp: this thread's scratch, HEAD_TILE * C floats + 128 bytes (dot_rows_tmp_bytes).
 */
export function dot_rows(dt: i32, h: usize, M: i32, C: i32, W: usize, scale: usize, out: usize, outStride: i32, v0: i32, v1: i32, hq: usize, tmp: usize): void {
  if (dt == 0) dotRowsT<f32>(h, M, C, W, scale, out, outStride, v0, v1, tmp);
  else if (dt == 1) dotRowsT<u16>(h, M, C, W, scale, out, outStride, v0, v1, tmp);
  else if (M < HEAD_I16_ROWS) dotRowsI8(hq, M, C, W, scale, out, outStride, v0, v1);
  else dotRowsT<i8>(h, M, C, W, scale, out, outStride, v0, v1, tmp);
}

/** Bytes of dot_rows' per-thread scratch for rows of C: a widened tile and the accumulators. */
export function dot_rows_tmp_bytes(C: i32): i32 {
  return HEAD_TILE * C * 4 + 256; // dotRowsSmall's 6-row block reads 256 bytes of accumulators (192 written)
}

// ---- embeddings: x[m] = wte[ids[m]] + wpe[pos[m]] ------------------------------------------------------------------

function embedT<T>(ids: usize, pos: usize, M: i32, C: i32, wte: usize, scale: usize, wpe: usize, out: usize): void {
  for (let m = 0; m < M; m++) {
    const id = load<i32>(ids + (<usize>m << 2));
    const p = load<i32>(pos + (<usize>m << 2));
    const s: f32 = sizeof<T>() == 1 ? load<f32>(scale + (<usize>id << 2)) : 1;
    const wr = wte + <usize>id * <usize>C * sizeof<T>();
    const pr = wpe + (<usize>p * <usize>C << 2);
    const o = out + (<usize>m * <usize>C << 2);
    for (let c = 0; c < C; c++) {
      store<f32>(o + (<usize>c << 2), wone<T>(wr + <usize>c * sizeof<T>()) * s + load<f32>(pr + (<usize>c << 2)));
    }
  }
}

export function embed(dt: i32, ids: usize, pos: usize, M: i32, C: i32, wte: usize, scale: usize, wpe: usize, out: usize): void {
  if (dt == 0) embedT<f32>(ids, pos, M, C, wte, scale, wpe, out);
  else if (dt == 1) embedT<u16>(ids, pos, M, C, wte, scale, wpe, out);
  else embedT<i8>(ids, pos, M, C, wte, scale, wpe, out);
}

// ---- layer norm: y = (x - mean) / sqrt(var + eps) * g + b, biased variance, per row of C ---------------------------

export function layernorm(x: usize, M: i32, C: i32, g: usize, b: usize, eps: f32, y: usize): void {
  const C4 = C & ~3;
  for (let m = 0; m < M; m++) {
    const xr = x + (<usize>m * <usize>C << 2);
    const yr = y + (<usize>m * <usize>C << 2);
    let s4 = f32x4.splat(0);
    let c = 0;
    for (; c < C4; c += 4) s4 = f32x4.add(s4, v128.load(xr + (<usize>c << 2)));
    let sum = hsum(s4);
    for (; c < C; c++) sum += load<f32>(xr + (<usize>c << 2));
    const mean = sum / <f32>C;
    const mean4 = f32x4.splat(mean);
    let v4 = f32x4.splat(0);
    for (c = 0; c < C4; c += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>c << 2)), mean4);
      v4 = f32x4.add(v4, f32x4.mul(d, d));
    }
    let vs = hsum(v4);
    for (; c < C; c++) {
      const d = load<f32>(xr + (<usize>c << 2)) - mean;
      vs += d * d;
    }
    const rstd: f32 = 1.0 / Mathf.sqrt(vs / <f32>C + eps);
    const r4 = f32x4.splat(rstd);
    for (c = 0; c < C4; c += 4) {
      const o: usize = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(xr + o), mean4), r4);
      v128.store(yr + o, f32x4.add(f32x4.mul(n, v128.load(g + o)), v128.load(b + o)));
    }
    for (; c < C; c++) {
      const o: usize = <usize>c << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - mean) * rstd * load<f32>(g + o) + load<f32>(b + o));
    }
  }
}

// ---- KV cache and attention -------------------------------------------------------------------------------------

/**
 * Appends this step's keys and values to a layer's cache. qkv: [B*T, 3C] rows [q | k | v]; kc, vc: [B, cap, C];
 * token t of row b goes to slot past + t of row b. map: the cache's row map (i32 [B, cap], see `attention`), or 0
 * when it has none: the new slots are marked as row b's own (map[b][past + t] = b). That slot is free in row b: a
 * map only points at slots below `past`, since all rows hold the same number of positions.
 */
export function kv_append(qkv: usize, B: i32, T: i32, C: i32, kc: usize, vc: usize, cap: i32, past: i32, map: usize): void {
  const cb: usize = <usize>C << 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = qkv + (<usize>(b * T + t) * 3 * cb);
      const slot = <usize>(b * cap + past + t) * cb;
      memory.copy(kc + slot, src + cb, cb);
      memory.copy(vc + slot, src + 2 * cb, cb);
      if (map) store<i32>(map + (<usize>(b * cap + past + t) << 2), b);
    }
  }
}

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let s4 = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) s4 = f32x4.add(s4, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  let s = hsum(s4);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

// o[0..n) += p * v[0..n)
// @ts-ignore: decorator
@inline function axpy(o: usize, p: f32, v: usize, n: i32): void {
  const n4 = n & ~3;
  const p4 = f32x4.splat(p);
  let i = 0;
  for (; i < n4; i += 4) {
    const oo = o + (<usize>i << 2);
    v128.store(oo, f32x4.add(v128.load(oo), f32x4.mul(p4, v128.load(v + (<usize>i << 2)))));
  }
  for (; i < n; i++) {
    const oo = o + (<usize>i << 2);
    store<f32>(oo, load<f32>(oo) + p * load<f32>(v + (<usize>i << 2)));
  }
}

// Byte address of slot j of the row that map row `rb` names for it, in the cache layer at `base` ([B, cap, C]).
// @ts-ignore: decorator
@inline function mappedSlot(base: usize, rb: usize, j: i32, cap: i32, cb: usize): usize {
  return base + (<usize>load<i32>(rb + (<usize>j << 2)) * <usize>cap + <usize>j) * cb;
}

/**
 * Causal self-attention of this step's T queries over the cached keys (slots 0..past+T), for the (batch, head)
 * pairs [lo, hi). mask: i32 [B, past+T], 1 = attend, 0 = padding. out: [B*T, C], heads side by side.
 * scores: scratch of past+T floats. Masked keys get weight exactly 0, as HF's float32-min bias gives. A query that
 * may attend to no key at all (a pad position) reproduces HF's artefact: every key whose biased score is exactly
 * float32 min (past pads and future non-pads) gets the same weight.
 * map: 0, or the cache's row map, i32 [B, cap]: slot j of row b is stored in row map[b*cap + j] (same slot j) of
 * kc and vc. Beam search reorders the cache by composing this map (B x length integers) instead of moving
 * B x length x C floats per layer; slots of the same position stay at the same offset, so only the row changes.
 */
export function attention(qkv: usize, B: i32, T: i32, C: i32, nh: i32, kc: usize, vc: usize, cap: i32, past: i32, mask: usize, scale: f32, out: usize, scores: usize, lo: i32, hi: i32, probs: usize, map: usize): void {
  const hs = C / nh;
  const Tk = past + T;
  const cb: usize = <usize>C << 2;
  for (let pair = lo; pair < hi; pair++) {
    const b = pair / nh;
    const h = pair % nh;
    const hoff: usize = <usize>(h * hs) << 2;
    const kb = kc + <usize>b * <usize>cap * cb + hoff;
    const vb = vc + <usize>b * <usize>cap * cb + hoff;
    const mb = mask + (<usize>(b * Tk) << 2);
    const rb = map + (<usize>(b * cap) << 2); // row b of the map (unused when map is 0)
    for (let t = 0; t < T; t++) {
      const q = qkv + <usize>(b * T + t) * 3 * cb + hoff;
      const o = out + <usize>(b * T + t) * cb + hoff;
      memory.fill(o, 0, <usize>hs << 2);
      // the attention probabilities [B, nh, T, Tk], when asked for (probs != 0); unattended keys stay 0
      const pr = probs + (<usize>(((b * nh + h) * T + t) * Tk) << 2);
      if (probs) memory.fill(pr, 0, <usize>Tk << 2);
      const last = past + t; // the newest key this query may see
      let mx: f32 = -Infinity;
      let any = false;
      for (let j = 0; j <= last; j++) {
        if (load<i32>(mb + (<usize>j << 2)) == 0) continue;
        const s = dot(q, map ? mappedSlot(kc, rb, j, cap, cb) + hoff : kb + <usize>j * cb, hs) * scale;
        store<f32>(scores + (<usize>j << 2), s);
        if (s > mx) mx = s;
        any = true;
      }
      if (any) {
        let sum: f32 = 0;
        for (let j = 0; j <= last; j++) {
          if (load<i32>(mb + (<usize>j << 2)) == 0) continue;
          const e = Mathf.exp(load<f32>(scores + (<usize>j << 2)) - mx);
          store<f32>(scores + (<usize>j << 2), e);
          sum += e;
        }
        const inv: f32 = 1.0 / sum;
        for (let j = 0; j <= last; j++) {
          if (load<i32>(mb + (<usize>j << 2)) == 0) continue;
          const p = load<f32>(scores + (<usize>j << 2)) * inv;
          axpy(o, p, map ? mappedSlot(vc, rb, j, cap, cb) + hoff : vb + <usize>j * cb, hs);
          if (probs) store<f32>(pr + (<usize>j << 2), p);
        }
      } else {
        // A pad query: uniform over past keys (all pads here) and the future keys that are not pads.
        let n = 0;
        for (let j = 0; j < Tk; j++) if (j <= last || load<i32>(mb + (<usize>j << 2)) != 0) n++;
        const p: f32 = 1.0 / <f32>n;
        for (let j = 0; j < Tk; j++) {
          if (j > last && load<i32>(mb + (<usize>j << 2)) == 0) continue;
          axpy(o, p, map ? mappedSlot(vc, rb, j, cap, cb) + hoff : vb + <usize>j * cb, hs);
          if (probs) store<f32>(pr + (<usize>j << 2), p);
        }
      }
    }
  }
}

// ---- the thread pool: one op at a time, run by every thread on its slice ------------------------------------------
//
// Control block (CTRL_WORDS i32 words at `ctrl`; the word indices below): CTRL_SEQ, bumped by the main thread to
// start an op; CTRL_DONE, the number of workers finished with it; CTRL_OP; CTRL_THREADS, threads that compute
// (main included); CTRL_SPINS, polls before a worker sleeps in atomic.wait; CTRL_POOL, threads in the pool (main
// included); CTRL_MAY_WAIT, 1 if the main thread may block in atomic.wait (Node; not a browser's main thread);
// CTRL_ARGS.., the op's arguments. Thread 0 is the caller of dispatch(); workers 1..n-1 sit in worker_loop().
// The op codes and word indices are exported as globals: src/engine/wasm/module.ts's OP and CTRL must equal them
// (test/engine-kernels.test.ts checks).

export const OP_MATMUL: i32 = 1;
export const OP_DOT_ROWS: i32 = 2;
export const OP_ATTENTION: i32 = 3;
export const OP_STREAM: i32 = 4;
export const OP_EXIT: i32 = 9;

export const CTRL_SEQ: i32 = 0;
export const CTRL_DONE: i32 = 1;
export const CTRL_OP: i32 = 2;
export const CTRL_THREADS: i32 = 3;
export const CTRL_SPINS: i32 = 4;
export const CTRL_POOL: i32 = 5;
export const CTRL_MAY_WAIT: i32 = 6;
export const CTRL_ARGS: i32 = 8;
export const CTRL_WORDS: i32 = 32;

/** Byte address of control word i. */
// @ts-ignore: decorator
@inline function word(ctrl: usize, i: i32): usize {
  return ctrl + (<usize>i << 2);
}
// @ts-ignore: decorator
@inline function arg(ctrl: usize, i: i32): i32 {
  return load<i32>(word(ctrl, CTRL_ARGS + i));
}
// @ts-ignore: decorator
@inline function argf(ctrl: usize, i: i32): f32 {
  return load<f32>(word(ctrl, CTRL_ARGS + i));
}

// @ts-ignore: decorator
@inline function sliceLo(n: i32, idx: i32, threads: i32): i32 {
  return <i32>((<i64>n * idx) / threads);
}

function runOp(ctrl: usize, idx: i32): void {
  const op = load<i32>(word(ctrl, CTRL_OP));
  const nt = load<i32>(word(ctrl, CTRL_THREADS));
  if (op == OP_MATMUL) {
    // dt, x, M, K, w, N, scale, bias, y, mode, tmp (matmul_tmp_bytes(K) per thread), xq
    const N = arg(ctrl, 5);
    const np = (N + 7) >> 3;
    const tmp = <usize>arg(ctrl, 10) + <usize>idx * <usize>matmul_tmp_bytes(arg(ctrl, 3));
    matmul(arg(ctrl, 0), arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), arg(ctrl, 4), N, arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8), arg(ctrl, 9),
      sliceLo(np, idx, nt), sliceLo(np, idx + 1, nt), tmp, arg(ctrl, 11));
  } else if (op == OP_DOT_ROWS) {
    // dt, h, M, C, W, scale, out, outStride, V, hq, tmp (dot_rows_tmp_bytes(C) per thread)
    const V = arg(ctrl, 8);
    const tmp = <usize>arg(ctrl, 10) + <usize>idx * <usize>dot_rows_tmp_bytes(arg(ctrl, 3));
    dot_rows(arg(ctrl, 0), arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), arg(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7),
      sliceLo(V, idx, nt), sliceLo(V, idx + 1, nt), arg(ctrl, 9), tmp);
  } else if (op == OP_ATTENTION) {
    // qkv, B, T, C, nh, kc, vc, cap, past, mask, scale, out, scores (past + T floats per thread), probs (or 0), map (or 0)
    const pairs = arg(ctrl, 1) * arg(ctrl, 4);
    const scores = <usize>arg(ctrl, 12) + (<usize>idx * <usize>(arg(ctrl, 8) + arg(ctrl, 2)) << 2);
    attention(arg(ctrl, 0), arg(ctrl, 1), arg(ctrl, 2), arg(ctrl, 3), arg(ctrl, 4), arg(ctrl, 5), arg(ctrl, 6), arg(ctrl, 7), arg(ctrl, 8),
      arg(ctrl, 9), argf(ctrl, 10), arg(ctrl, 11), scores, sliceLo(pairs, idx, nt), sliceLo(pairs, idx + 1, nt), arg(ctrl, 13), arg(ctrl, 14));
  } else if (op == OP_STREAM) {
    // p, bytes: each thread sums its 64-byte-aligned share and leaves the sum in arg 8 + idx
    const blocks = <i32>(<u32>arg(ctrl, 1) >> 6);
    const lo = sliceLo(blocks, idx, nt);
    const hi = sliceLo(blocks, idx + 1, nt);
    store<f32>(word(ctrl, CTRL_ARGS + 8 + idx), stream_sum(<usize>arg(ctrl, 0) + (<usize>lo << 6), <usize>(hi - lo) << 6));
  }
}

/** Runs the op described in the control block on every thread (this one is thread 0) and returns when all are done. */
export function dispatch(ctrl: usize): void {
  const nt = load<i32>(word(ctrl, CTRL_THREADS));
  if (nt <= 1) {
    runOp(ctrl, 0); // the workers are not woken at all
    return;
  }
  const workers = load<i32>(word(ctrl, CTRL_POOL)) - 1;
  const done = word(ctrl, CTRL_DONE);
  atomic.store<i32>(done, 0);
  atomic.add<i32>(word(ctrl, CTRL_SEQ), 1);
  atomic.notify(word(ctrl, CTRL_SEQ), workers);
  runOp(ctrl, 0);
  // Spin: the other threads finish their slices about when this one does. Where this thread may block (Node's main
  // thread, a worker; word 6 = 1), stop spinning after a while and sleep until the last worker notifies, so that
  // on a busy machine the spinning does not steal the core a late worker needs.
  let spins = load<i32>(word(ctrl, CTRL_SPINS));
  const mayWait = load<i32>(word(ctrl, CTRL_MAY_WAIT)) != 0;
  let finished = atomic.load<i32>(done);
  while (finished < workers) {
    if (spins > 0) spins--;
    else if (mayWait) atomic.wait<i32>(done, finished, 1000000); // 1 ms at most: a notify may come before the wait
    finished = atomic.load<i32>(done);
  }
}

/**
 * A worker's life: wait for the next op (spinning a while, then sleeping), run its slice, report done.
 * The sequence word starts at 0 and only moves on once every worker has finished the op, so a worker that starts
 * late still sees the first op.
 */
export function worker_loop(ctrl: usize, idx: i32): void {
  let seen = 0;
  while (true) {
    const seq = word(ctrl, CTRL_SEQ);
    let s = atomic.load<i32>(seq);
    let spins = load<i32>(word(ctrl, CTRL_SPINS));
    while (s == seen) {
      if (spins > 0) spins--;
      else atomic.wait<i32>(seq, seen, -1);
      s = atomic.load<i32>(seq);
    }
    seen = s;
    if (load<i32>(word(ctrl, CTRL_OP)) == OP_EXIT) return;
    // A pool may run an op on fewer threads (word 3) than it has (word 5): the others sit it out, but every
    // worker reports each op done, so the sequence never moves on past a worker.
    if (idx < load<i32>(word(ctrl, CTRL_THREADS))) runOp(ctrl, idx);
    const done = word(ctrl, CTRL_DONE);
    if (atomic.add<i32>(done, 1) == load<i32>(word(ctrl, CTRL_POOL)) - 2) atomic.notify(done, 1); // the last one wakes the main thread
  }
}

// ---- the bandwidth probe of bench/engine.ts ------------------------------------------------------------------------

/** Sums `bytes` (a multiple of 64) of f32 at `p` with 4 independent SIMD accumulators: a plain streaming read. */
export function stream_sum(p: usize, bytes: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end = p + bytes;
  for (let q = p; q < end; q += 64) {
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

// ---- logits rows: max, sum of exp, argmax and the non-finite check in two passes (generation, issue 14) ----------
// The reference and the definition of every output is src/model/row-stats.ts (rowStatsReference): this kernel is
// tested against it (test/row-stats.test.ts). Per row r of n f32 at x + 4rn it writes 4 f64 at out + 32r:
//   [0] max      the largest value, NaN ignored (-inf when there is none)
//   [1] sum      Σ exp(x_i - max), accumulated in f64, when max is finite (else 0); the caller takes lse = max + log(sum)
//   [2] argmax   the first index holding max (0 when none does), as torch.argmax on rows without NaN
//   [3] bad      the first index of a NaN or +inf, else 0 for a row of only -inf (n > 0), else -1
// exp, 4 lanes: d = x - max and its reduction k = round(d / ln 2), r = d - k ln 2 in f64, then Cephes' expf
// polynomial 2^k · (1 + r + r² P(r)) in f32 (relative error ~1e-7), each term added in f64: the lse differs from
// the reference's (Math.exp in f64) by ~1e-7 at most, so a float32 log-probability (logit - lse) may differ by one
// ulp. d is clamped
// at -87 (exp ~1.6e-38, still a normal f32): -inf and far-below entries add nothing visible to a sum that holds
// exp(0) = 1 (the max's own term), as exp(-inf) = 0 in the reference.

const EXPF_FLOOR: f64 = -87.0;
const LOG2E: f64 = 1.4426950408889634;
const LN2: f64 = 0.6931471805599453;

/**
 * exp(x - m) for four f32 lanes x (m: the row's finite max, so x - m <= 0; NaN and anything below -87 count as
 * -87). The reduction is in f64: d = x - m is exact there (two f32s), as are k = round(d / ln 2) and r = d - k ln 2
 * to well below an f32 ulp; in f32, d itself would be rounded (an error of |d| · 2^-24, up to 5e-6 relative on
 * exp(d), the same sign for every equal logit: 4e-7 on the lse of a flat row). The polynomial runs on r in f32.
 */
// @ts-ignore: decorator
@inline function expDiff4(x: v128, m: v128): v128 {
  const dlo = f64x2.pmax(f64x2.splat(EXPF_FLOOR), f64x2.sub(f64x2.promote_low_f32x4(x), m)); // pmax: NaN -> floor
  const dhi = f64x2.pmax(f64x2.splat(EXPF_FLOOR), f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)), m));
  const klo = f64x2.nearest(f64x2.mul(dlo, f64x2.splat(LOG2E)));
  const khi = f64x2.nearest(f64x2.mul(dhi, f64x2.splat(LOG2E)));
  const rlo = f32x4.demote_f64x2_zero(f64x2.sub(dlo, f64x2.mul(klo, f64x2.splat(LN2))));
  const rhi = f32x4.demote_f64x2_zero(f64x2.sub(dhi, f64x2.mul(khi, f64x2.splat(LN2))));
  const r = i32x4.shuffle(rlo, rhi, 0, 1, 4, 5);
  const k = i32x4.shuffle(i32x4.trunc_sat_f64x2_s_zero(klo), i32x4.trunc_sat_f64x2_s_zero(khi), 0, 1, 4, 5);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const e = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  // 2^k, k in [-126, 0]: the exponent bits (k + 127) << 23
  return f32x4.mul(e, i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23));
}

/** The statistics of one row (see above) into out[0..3]. */
function rowStats1(p: usize, n: i32, out: usize): void {
  // pass 1: max (NaN ignored: pmax keeps the accumulator when x is NaN) and whether a NaN or +inf appears
  const inf = f32x4.splat(Infinity);
  let m4 = f32x4.splat(-Infinity);
  let bad4 = i32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const x = v128.load(p + (<usize>i << 2));
    m4 = f32x4.pmax(m4, x);
    bad4 = v128.or(bad4, v128.or(f32x4.ne(x, x), f32x4.eq(x, inf)));
  }
  let m: f32 = -Infinity;
  const l0 = f32x4.extract_lane(m4, 0), l1 = f32x4.extract_lane(m4, 1), l2 = f32x4.extract_lane(m4, 2), l3 = f32x4.extract_lane(m4, 3);
  if (l0 > m) m = l0;
  if (l1 > m) m = l1;
  if (l2 > m) m = l2;
  if (l3 > m) m = l3;
  let anyBad = v128.any_true(bad4);
  for (let i = n4; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    if (x > m) m = x;
    if (x != x || x == Infinity) anyBad = true;
  }
  let bad: i32 = -1;
  if (anyBad) {
    for (let i = 0; i < n; i++) {
      const x = load<f32>(p + (<usize>i << 2));
      if (x != x || x == Infinity) {
        bad = i;
        break;
      }
    }
  } else if (n > 0 && m == -Infinity) {
    bad = 0; // a row of only -inf
  }
  // argmax: the first index holding the max (4 lanes at a time, stopping at the first group that holds it)
  let am: i32 = 0;
  let i0: i32 = 0;
  const m4s = f32x4.splat(m);
  while (i0 < n4 && !v128.any_true(f32x4.eq(v128.load(p + (<usize>i0 << 2)), m4s))) i0 += 4;
  for (let i = i0; i < n; i++) {
    if (load<f32>(p + (<usize>i << 2)) == m) {
      am = i;
      break;
    }
  }
  // pass 2: Σ exp(x - max): exp in f32 lanes, each term added in f64 (two f64x2 accumulators)
  let sum: f64 = 0;
  if (isFinite<f32>(m)) {
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    const m2 = f64x2.splat(<f64>m);
    for (let i = 0; i < n4; i += 4) {
      const e = expDiff4(v128.load(p + (<usize>i << 2)), m2);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)));
    }
    const s = f64x2.add(s0, s1);
    sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (let i = n4; i < n; i++) sum += <f64>f32x4.extract_lane(expDiff4(f32x4.splat(load<f32>(p + (<usize>i << 2))), m2), 0);
  }
  store<f64>(out, <f64>m);
  store<f64>(out, sum, 8);
  store<f64>(out, <f64>am, 16);
  store<f64>(out, <f64>bad, 24);
}

/** row_stats: the statistics of `rows` rows of `n` f32 at `x` (row r at x + 4rn) into 4 f64 per row at `out`. */
export function row_stats(x: usize, rows: i32, n: i32, out: usize): void {
  for (let r = 0; r < rows; r++) rowStats1(x + (<usize>r * <usize>n << 2), n, out + (<usize>r << 5));
}

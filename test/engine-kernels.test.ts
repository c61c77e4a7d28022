// Each engine kernel (src/engine/wasm/assembly/kernels.ts) on its own, called directly over a small memory, against
// a plain JavaScript reference on odd shapes (sizes that are not multiples of the SIMD width, partial panels, row
// counts around every block size), in both builds: plain SIMD and relaxed SIMD (fused multiply-add). Each test
// prints the worst error it saw. Also: the kernel interface (exports and their arities, op codes, epilogue modes,
// control-block words) that src/engine/wasm/module.ts declares equals what the compiled module exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/model/random.js';
import { DTYPE_BYTES, DTYPE_CODE, type EngineDType, packPanels, packRows, panelBytes } from '../src/engine/pack.js';
import { CTRL, KERNEL_ARITY, type KernelSimd, MODE, OP, instantiateKernels, kernelModule, relaxedSimdSupported } from '../src/engine/wasm/module.js';
import { enableRelaxedSimd } from '../src/node/threads.js';

enableRelaxedSimd();
const SIMDS: KernelSimd[] = ['plain', 'relaxed'];
const DTYPES: EngineDType[] = ['fp32', 'fp16', 'int8'];

/** A kernel instance over a fresh memory with a bump allocator. */
type Harness = Awaited<ReturnType<typeof harness>>;

async function harness(simd: KernelSimd) {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  const k = await instantiateKernels(await kernelModule(false, simd), memory);
  let top = 65536;
  const alloc = (bytes: number): number => {
    const p = top;
    top += Math.ceil(bytes / 64) * 64 + 64;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return p;
  };
  const f32 = (p: number, n: number): Float32Array => new Float32Array(memory.buffer, p, n);
  const put = (a: Float32Array): number => {
    const p = alloc(a.length * 4);
    f32(p, a.length).set(a);
    return p;
  };
  return { memory, k, alloc, f32, put };
}

const rand = mulberry32(1234);
const randn = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * s);

/** IEEE half bits -> number (normals, subnormals, zeros). */
/**
 * W [K, N] packed in panels of `dtype` in the harness's memory (scales of 1 for int8), the bias padded to the
 * panels, the matmul's scratch and its int8 row buffer; Wd: what the packed weights hold, dequantised (the reference).
 */
function packedMatmul(h: Harness, W: Float32Array, bias: Float32Array, K: number, N: number, dtype: EngineDType) {
  const { k, alloc, f32, put } = h;
  const Wd = dequantPanels(W, K, N, dtype);
  const w = alloc(panelBytes(K, N, dtype));
  const scale = alloc(Math.ceil(N / 8) * 32);
  f32(scale, Math.ceil(N / 8) * 8).fill(1);
  packPanels(W, K, N, dtype, f32(w, 1).buffer, w, scale);
  const b = put(Float32Array.from({ length: Math.ceil(N / 8) * 8 }, (_, i) => (i < N ? bias[i]! : 0)));
  const tmp = alloc(k.matmul_tmp_bytes(K));
  const xq = alloc(64 + 16 * (K + 1) * 2);
  return { Wd, w, scale, b, tmp, xq };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The weights the kernels really see for `dtype` (fp16 rounded, int8 quantised per column), dequantised: [K, N]. */
function dequantPanels(W: Float32Array, K: number, N: number, dtype: EngineDType): Float32Array {
  if (dtype === 'fp32') return W;
  const bytes = new ArrayBuffer(panelBytes(K, N, dtype) + Math.ceil(N / 8) * 32 + 64);
  const scales = panelBytes(K, N, dtype) + 32;
  packPanels(W, K, N, dtype, bytes, 0, scales - (scales % 4));
  const out = new Float32Array(K * N);
  const sc = new Float32Array(bytes, scales - (scales % 4), Math.ceil(N / 8) * 8);
  const Kp = dtype === 'int8' ? 2 * Math.ceil(K / 2) : K;
  for (let n = 0; n < N; n++) {
    const p = n >> 3;
    const j = n & 7;
    for (let kk = 0; kk < K; kk++) {
      if (dtype === 'fp16') out[kk * N + n] = halfToFloat(new Uint16Array(bytes)[(p * K + kk) * 8 + j]!);
      else out[kk * N + n] = new Int8Array(bytes)[p * Kp * 8 + (kk >> 1) * 16 + (kk & 1) + 2 * j]! * sc[n]!;
    }
  }
  return out;
}

function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

test('the kernel interface: exports and arities, op codes, modes and control-block words equal module.ts', async () => {
  for (const simd of SIMDS) {
    const { k } = await harness(simd);
    const exports = k as unknown as Record<string, unknown>;
    const functions = Object.keys(exports).filter((n) => typeof exports[n] === 'function').sort();
    assert.deepEqual(functions, Object.keys(KERNEL_ARITY).sort(), `${simd}: exported functions`);
    for (const [name, arity] of Object.entries(KERNEL_ARITY)) assert.equal((exports[name] as (...a: unknown[]) => unknown).length, arity, `${simd}: ${name} takes ${arity} arguments`);
    const globalValue = (name: string): number => {
      const g = exports[name];
      assert.ok(g instanceof WebAssembly.Global, `${simd}: kernels export ${name}`);
      return g.value as number;
    };
    const groups = { OP, MODE, CTRL } as const;
    const declared: string[] = [];
    for (const [prefix, table] of Object.entries(groups)) {
      for (const [name, value] of Object.entries(table)) {
        assert.equal(globalValue(`${prefix}_${name}`), value, `${simd}: ${prefix}.${name}`);
        declared.push(`${prefix}_${name}`);
      }
    }
    const exportedGlobals = Object.keys(exports).filter((n) => exports[n] instanceof WebAssembly.Global).sort();
    assert.deepEqual(exportedGlobals, declared.sort(), `${simd}: every exported constant is declared in module.ts`);
  }
});

test('relaxed SIMD is available here (Node 20 behind a V8 flag, set at run time by gpt2-lens/node)', () => {
  assert.equal(relaxedSimdSupported(), true);
});

test('matmul against x @ W + b (store, gelu_new, add) on odd shapes, every dtype, both builds, 1-9 rows (small-M kernels: fp32 and fp16 2-4, int8 4)', async () => {
  // K and N not multiples of 8 or 4; the panels split into two slices as two threads would split them, slices of 1,
  // 2 and 3 panels (matmulSmall pairs panel p with panel p + half; an odd slice's middle panel goes alone)
  const shapes = [
    { K: 37, N: 21, slices: [[0, 1], [1, 3]] }, // 3 panels, the last holding 5 columns
    { K: 43, N: 45, slices: [[0, 3], [3, 6]] }, // 6 panels, the last holding 5 columns
    { K: 601, N: 13, slices: [[0, 1], [1, 2]] }, // k in many chunks with a tail; int8's 256-pair i32 flushes
  ] as const;
  const worst: Record<string, number> = {};
  let cases = 0;
  for (const { K, N, slices } of shapes) {
    const W = randn(K * N, 0.3);
    const bias = randn(N, 0.1);
    for (const simd of SIMDS) {
      const h = await harness(simd);
      const { k, f32, put } = h;
      for (const dtype of DTYPES) {
        const { Wd, w, scale, b, tmp, xq } = packedMatmul(h, W, bias, K, N, dtype);
        for (const M of [1, 2, 3, 4, 5, 9]) {
          const x = randn(M * K);
          for (const mode of [MODE.STORE, MODE.GELU, MODE.ADD]) {
            const y0 = randn(M * N);
            const xp = put(x);
            const yp = put(y0);
            if (dtype === 'int8' && M < 8) k.quant_rows(xp, M, K, xq);
            for (const [p0, p1] of slices) k.matmul(DTYPE_CODE[dtype], xp, M, K, w, N, scale, b, yp, mode, p0, p1, tmp, xq);
            const got = f32(yp, M * N);
            let err = 0;
            for (let m = 0; m < M; m++) {
              for (let n = 0; n < N; n++) {
                let s = bias[n]!;
                for (let kk = 0; kk < K; kk++) s += x[m * K + kk]! * Wd[kk * N + n]!;
                const want = mode === MODE.GELU ? geluNew(s) : mode === MODE.ADD ? y0[m * N + n]! + s : s;
                err = Math.max(err, Math.abs(got[m * N + n]! - want));
              }
            }
            const key = `${simd} ${dtype} ${M >= 2 && M <= 4 ? 'M=2-4' : 'M=1,5,9'}`;
            worst[key] = Math.max(worst[key] ?? 0, err);
            // int8 decoding (M < 8) also quantises x to i16 (relative error 2^-16 per entry)
            const bound = dtype === 'int8' && M < 8 ? 2e-3 : 2e-5;
            assert.ok(err < bound, `${simd} ${dtype} K=${K} N=${N} M=${M} mode=${mode}: worst error ${err}`);
            cases++;
          }
        }
      }
    }
  }
  assert.equal(cases, 3 * 2 * 3 * 6 * 3);
  console.log('matmul worst |error| vs reference:', JSON.stringify(worst));
});

test('prompt matmul (6-row FMA block on the relaxed build, 4-row block on plain, then single rows) against x @ W + b: M = 1-131, odd K and N, every dtype, both builds', async () => {
  // M around every block size (6, 4, 1) and the prompt's 128 (+3); K and N multiples of neither 8 nor 6 nor 4; the
  // panels split into two slices as two threads would split them. A sentinel row after y must stay untouched.
  const shapes = [
    { K: 37, N: 21, slices: [[0, 1], [1, 3]] },
    { K: 203, N: 45, slices: [[0, 2], [2, 6]] },
  ] as const;
  const Ms = [1, 2, 3, 5, 7, 13, 128, 131];
  const worst: Record<string, number> = {};
  let cases = 0;
  for (const { K, N, slices } of shapes) {
    const W = randn(K * N, 0.3);
    const bias = randn(N, 0.1);
    for (const simd of SIMDS) {
      const h = await harness(simd);
      const { k, f32, put } = h;
      for (const dtype of DTYPES) {
        const { Wd, w, scale, b, tmp, xq } = packedMatmul(h, W, bias, K, N, dtype);
        for (const M of Ms) {
          const x = randn(M * K);
          const xp = put(x);
          for (const mode of [MODE.STORE, MODE.GELU, MODE.ADD]) {
            const y0 = randn((M + 1) * N); // row M: the sentinel
            const yp = put(y0);
            if (dtype === 'int8' && M < 8) k.quant_rows(xp, M, K, xq);
            for (const [p0, p1] of slices) k.matmul(DTYPE_CODE[dtype], xp, M, K, w, N, scale, b, yp, mode, p0, p1, tmp, xq);
            const got = f32(yp, (M + 1) * N);
            let err = 0;
            for (let m = 0; m < M; m++) {
              for (let n = 0; n < N; n++) {
                let s = bias[n]!;
                for (let kk = 0; kk < K; kk++) s += x[m * K + kk]! * Wd[kk * N + n]!;
                const want = mode === MODE.GELU ? geluNew(s) : mode === MODE.ADD ? y0[m * N + n]! + s : s;
                err = Math.max(err, Math.abs(got[m * N + n]! - want));
              }
            }
            assert.deepEqual(got.slice(M * N), y0.slice(M * N), `${simd} ${dtype} K=${K} N=${N} M=${M}: wrote past row M`);
            worst[`${simd} ${dtype}`] = Math.max(worst[`${simd} ${dtype}`] ?? 0, err);
            const bound = dtype === 'int8' && M < 8 ? 2e-3 : 2e-5;
            assert.ok(err < bound, `${simd} ${dtype} K=${K} N=${N} M=${M} mode=${mode}: worst error ${err}`);
            cases++;
          }
        }
      }
    }
  }
  assert.equal(cases, shapes.length * SIMDS.length * DTYPES.length * Ms.length * 3);
  console.log('prompt matmul worst |error| vs reference:', JSON.stringify(worst));
});

test('dot_rows (LM head) against h @ Wᵀ: 1-20 rows (small-M at 2-4, fp32 and fp16, blocked 6x2 on relaxed and 4x2, single rows), vocab split across tiles and slices', async () => {
  const C = 37;
  const V = 131; // over several 32-row tiles, odd
  const E = randn(V * C, 0.5);
  const worst: Record<string, number> = {};
  for (const simd of SIMDS) {
    const { k, alloc, f32, put } = await harness(simd);
    for (const dtype of DTYPES) {
      const W = alloc(V * C * DTYPE_BYTES[dtype]);
      const scale = alloc(V * 4);
      packRows(E, V, C, dtype, f32(W, 1).buffer, W, scale);
      const sc = f32(scale, V).slice();
      const deq = (v: number, c: number): number => {
        if (dtype === 'fp32') return E[v * C + c]!;
        if (dtype === 'fp16') return halfToFloat(new Uint16Array(f32(W, 1).buffer, W, V * C)[v * C + c]!);
        return new Int8Array(f32(W, 1).buffer, W, V * C)[v * C + c]! * sc[v]!;
      };
      const hq = alloc(64 + 16 * (C + 1) * 2);
      // 12, 13: two 6-row blocks (+ one single row); 20: 6-row blocks and 4-row blocks (as many 6s as leave a multiple of 4)
      for (const M of [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 20]) {
        const h = randn(M * C);
        const hp = put(h);
        const stride = V + 3;
        const out = alloc(M * stride * 4);
        if (dtype === 'int8' && M < 8) k.quant_rows(hp, M, C, hq);
        const tmp = alloc(k.dot_rows_tmp_bytes(C));
        for (const [v0, v1] of [[0, 13], [13, 77], [77, V]] as const) k.dot_rows(DTYPE_CODE[dtype], hp, M, C, W, scale, out, stride, v0, v1, hq, tmp);
        const got = f32(out, M * stride);
        let err = 0;
        for (let m = 0; m < M; m++) {
          for (let v = 0; v < V; v++) {
            let s = 0;
            for (let c = 0; c < C; c++) s += h[m * C + c]! * deq(v, c);
            err = Math.max(err, Math.abs(got[m * stride + v]! - s));
          }
          for (let v = V; v < stride; v++) assert.equal(got[m * stride + v], 0, `${simd} ${dtype} M=${M}: wrote past the vocabulary`);
        }
        const key = `${simd} ${dtype} ${M >= 2 && M <= 4 ? 'M=2-4' : 'M=1,5-20'}`;
        worst[key] = Math.max(worst[key] ?? 0, err);
        const bound = dtype === 'int8' && M < 8 ? 2e-3 : 2e-5;
        assert.ok(err < bound, `${simd} ${dtype} M=${M}: worst error ${err}`);
      }
    }
  }
  console.log('dot_rows worst |error| vs reference:', JSON.stringify(worst));
});

test('short prompts, fp32: matmul (matmulSmall, every pair of rows per k chunk of two panels) and LM head (dotRowsSmall, blocks of h of 4 rows, 6 and 4 on relaxed, per group of vocabulary pairs) at M = 5-17 and 131 against the reference, odd K and N, both builds', async () => {
  // 5-16 rows take the small-M kernels (an odd M's last row goes twice, stored once; the head pads h to a multiple
  // of 4 rows), 17 and 131 the prompt blocks: the rows around the switch. K and N multiples of neither 8 nor 4; the
  // panels and the vocabulary split into slices as threads would split them (odd halves: a panel / row goes alone).
  // A sentinel row after y and columns past the vocabulary in the logits must stay untouched; the slice [13, 78) of
  // the vocabulary holds 33 pairs, over one group of 32 (HEAD_GROUP).
  const Ms = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 131];
  const shapes = [
    { K: 37, N: 21, slices: [[0, 1], [1, 3]] },
    { K: 203, N: 45, slices: [[0, 3], [3, 6]] }, // k in several chunks of 32 with a tail
  ] as const;
  const C = 37;
  const V = 133;
  const E = randn(V * C, 0.5);
  const worst: Record<string, number> = {};
  let cases = 0;
  for (const simd of SIMDS) {
    const { k, alloc, f32, put } = await harness(simd);
    for (const { K, N, slices } of shapes) {
      const W = randn(K * N, 0.3);
      const bias = randn(N, 0.1);
      const w = alloc(panelBytes(K, N, 'fp32'));
      packPanels(W, K, N, 'fp32', f32(w, 1).buffer, w, 0);
      const b = put(Float32Array.from({ length: Math.ceil(N / 8) * 8 }, (_, i) => (i < N ? bias[i]! : 0)));
      const tmp = alloc(k.matmul_tmp_bytes(K));
      for (const M of Ms) {
        const x = randn(M * K);
        const xp = put(x);
        for (const mode of [MODE.STORE, MODE.GELU, MODE.ADD]) {
          const y0 = randn((M + 1) * N); // row M: the sentinel
          const yp = put(y0);
          for (const [p0, p1] of slices) k.matmul(DTYPE_CODE.fp32, xp, M, K, w, N, 0, b, yp, mode, p0, p1, tmp, 0);
          const got = f32(yp, (M + 1) * N);
          let err = 0;
          for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
              let s = bias[n]!;
              for (let kk = 0; kk < K; kk++) s += x[m * K + kk]! * W[kk * N + n]!;
              const want = mode === MODE.GELU ? geluNew(s) : mode === MODE.ADD ? y0[m * N + n]! + s : s;
              err = Math.max(err, Math.abs(got[m * N + n]! - want));
            }
          }
          assert.deepEqual(got.slice(M * N), y0.slice(M * N), `${simd} K=${K} N=${N} M=${M}: wrote past row M`);
          const key = `${simd} matmul ${M <= 16 ? 'M=5-16' : 'M=17,131'}`;
          worst[key] = Math.max(worst[key] ?? 0, err);
          assert.ok(err < 2e-5, `${simd} matmul K=${K} N=${N} M=${M} mode=${mode}: worst error ${err}`);
          cases++;
        }
      }
    }
    const Wv = put(E);
    const dtmp = alloc(k.dot_rows_tmp_bytes(C));
    for (const M of Ms) {
      const h = randn(M * C);
      const hp = put(h);
      const stride = V + 3;
      const out = alloc((M + 4) * stride * 4); // rows M..M+3: the sentinel (the padded rows of h must not be stored)
      f32(out + M * stride * 4, 4 * stride).fill(7);
      for (const [v0, v1] of [[0, 13], [13, 78], [78, V]] as const) k.dot_rows(DTYPE_CODE.fp32, hp, M, C, Wv, 0, out, stride, v0, v1, 0, dtmp);
      const got = f32(out, (M + 4) * stride);
      assert.ok(got.subarray(M * stride).every((v) => v === 7), `${simd} head M=${M}: wrote past row M`);
      let err = 0;
      for (let m = 0; m < M; m++) {
        for (let v = 0; v < V; v++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += h[m * C + c]! * E[v * C + c]!;
          err = Math.max(err, Math.abs(got[m * stride + v]! - s));
        }
        for (let v = V; v < stride; v++) assert.equal(got[m * stride + v], 0, `${simd} M=${M}: wrote past the vocabulary`);
      }
      const key = `${simd} head ${M <= 16 ? 'M=5-16' : 'M=17,131'}`;
      worst[key] = Math.max(worst[key] ?? 0, err);
      assert.ok(err < 2e-5, `${simd} head M=${M}: worst error ${err}`);
      cases++;
    }
  }
  assert.equal(cases, SIMDS.length * (shapes.length * Ms.length * 3 + Ms.length));
  console.log('short prompts, fp32, worst |error| vs reference:', JSON.stringify(worst));
});

test('fp16 row kernels (x scaled by 2^56, halves widened in registers without a multiply; 1 row, 2-4 rows, 5 rows widened): subnormal and large halves, tiny and large x, matmul and dot_rows against the reference and bit for bit against fp32 on the same values', async () => {
  // Half values chosen directly (exact in fp16): a third subnormal (|w| < 2^-14), some zeros, the rest normal up
  // to ~6e4; x from 1e-3 to 3e4 in size. The relative error of a sum is bounded by ~K * 2^-24 of sum |x w|: a
  // subnormal flushed to zero or a wrong power of two in the re-scaling would be off by far more. Each fp16 path
  // (1 row: kernel1x8h / dotRowsRestH; 2-4 rows: matmulSmallH / dotRowsSmallH; 5 rows: widened to f32) is checked
  // against the reference; at 1-4 rows it sums in the order of the fp32 path for the same row count, and its products
  // are the fp32 ones times a power of two, so it equals the fp32 kernels on the same (exactly representable) weights
  // bit for bit (at 5-16 rows fp32 takes its small-M kernels, fp16 the widened prompt blocks: a different order).
  const halfOf = (i: number): number => {
    const r = rand();
    const sign = rand() < 0.5 ? 0x8000 : 0;
    if (i % 3 === 0) return halfToFloat(sign | (1 + Math.floor(r * 1022))); // subnormal
    if (i % 11 === 1) return 0;
    return halfToFloat(sign | ((1 + Math.floor(r * 30)) << 10) | Math.floor(rand() * 1024)); // normal, exponent 1..30
  };
  const xOf = (): number => (rand() < 0.5 ? -1 : 1) * 10 ** (rand() * 7.5 - 3);
  const Ms = [1, 2, 3, 4, 5];
  const worst: Record<string, number> = {};
  let cases = 0;
  /** got against the float64 sum of n products term(i), as an error relative to the sum of their magnitudes */
  const check = (kind: string, simd: KernelSimd, M: number, got: number, n: number, term: (i: number) => number, where: string): void => {
    let s = 0;
    let mag = 0;
    for (let i = 0; i < n; i++) {
      const t = term(i);
      s += t;
      mag += Math.abs(t);
    }
    const rel = Math.abs(got - s) / mag;
    const key = `${simd} ${kind} M=${M >= 2 && M <= 4 ? '2-4' : M}`;
    worst[key] = Math.max(worst[key] ?? 0, rel);
    assert.ok(rel < n * 2 ** -23, `${simd} ${kind} ${where}: ${got} against ${s} (relative to sum |x w|: ${rel})`);
    cases++;
  };
  // matmul: K = 45 (the 1-row loop's 4-way tail, one k chunk) and 150 (k chunks of 64 with a tail); N = 21 (3
  // panels, the last partial) cut as one slice (panels 0 and 2 side by side, 1 alone) and as two slices
  const shapes = [
    { K: 45, N: 21, slices: [[0, 3]] },
    { K: 150, N: 21, slices: [[0, 1], [1, 3]] },
  ] as const;
  for (const simd of SIMDS) {
    const { k, alloc, f32, put } = await harness(simd);
    for (const { K, N, slices } of shapes) {
      const W = Float32Array.from({ length: K * N }, (_, i) => halfOf(i));
      const wh = alloc(panelBytes(K, N, 'fp16'));
      packPanels(W, K, N, 'fp16', f32(wh, 1).buffer, wh, 0);
      const wf = alloc(panelBytes(K, N, 'fp32'));
      packPanels(W, K, N, 'fp32', f32(wf, 1).buffer, wf, 0);
      const b = put(new Float32Array(24));
      const tmp = alloc(k.matmul_tmp_bytes(K));
      for (const M of Ms) {
        const x = Float32Array.from({ length: M * K }, xOf);
        const xp = put(x);
        const yh = put(new Float32Array(M * N));
        const yf = put(new Float32Array(M * N));
        for (const [p0, p1] of slices) {
          k.matmul(DTYPE_CODE.fp16, xp, M, K, wh, N, 0, b, yh, MODE.STORE, p0, p1, tmp, 0);
          k.matmul(DTYPE_CODE.fp32, xp, M, K, wf, N, 0, b, yf, MODE.STORE, p0, p1, tmp, 0);
        }
        const got = f32(yh, M * N).slice();
        // from 5 rows fp32 runs matmulSmall (up to 16 rows) while fp16 widens its panels for the prompt blocks
        if (M <= 4) assert.deepEqual(Array.from(got), Array.from(f32(yf, M * N)), `${simd} K=${K} M=${M}: the fp16 matmul equals fp32 on the same values bit for bit`);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            check('matmul', simd, M, got[m * N + n]!, K, (kk) => x[m * K + kk]! * W[kk * N + n]!, `K=${K} M=${M} row ${m} column ${n}`);
          }
        }
      }
    }
    // dot_rows: C = 37 (the loops' tails), V = 9 cut into slices of 4 and 5 rows (an odd half: a row goes alone)
    const C = 37;
    const V = 9;
    const E = Float32Array.from({ length: V * C }, (_, i) => halfOf(i));
    const Wh = alloc(V * C * 2);
    packRows(E, V, C, 'fp16', f32(Wh, 1).buffer, Wh, 0);
    const Wf = put(E);
    const dtmp = alloc(k.dot_rows_tmp_bytes(C));
    for (const M of Ms) {
      const h = Float32Array.from({ length: M * C }, xOf);
      const hp = put(h);
      const oh = alloc(M * V * 4);
      const of = alloc(M * V * 4);
      for (const [v0, v1] of [[0, 4], [4, V]] as const) {
        k.dot_rows(DTYPE_CODE.fp16, hp, M, C, Wh, 0, oh, V, v0, v1, 0, dtmp);
        k.dot_rows(DTYPE_CODE.fp32, hp, M, C, Wf, 0, of, V, v0, v1, 0, dtmp);
      }
      const o = f32(oh, M * V).slice();
      // from 5 rows fp32 runs dotRowsSmall (up to 16 rows) while fp16 widens its tiles for the blocked head
      if (M <= 4) assert.deepEqual(Array.from(o), Array.from(f32(of, M * V)), `${simd} M=${M}: the fp16 dot_rows equals fp32 on the same values bit for bit`);
      for (let m = 0; m < M; m++) {
        for (let v = 0; v < V; v++) {
          check('dot_rows', simd, M, o[m * V + v]!, C, (c) => h[m * C + c]! * E[v * C + c]!, `M=${M} row ${m} v=${v}`);
        }
      }
    }
  }
  const rows = Ms.reduce((a, b) => a + b, 0);
  assert.equal(cases, 2 * (2 * 21 * rows + 9 * rows));
  console.log('fp16 row kernels, worst error relative to sum |x w|:', JSON.stringify(worst));
});

test('layernorm and embed against the reference (C = 37)', async () => {
  const C = 37;
  const M = 5;
  for (const simd of SIMDS) {
    const { k, alloc, f32, put } = await harness(simd);
    const x = randn(M * C, 3);
    const g = randn(C);
    const b = randn(C);
    const y = alloc(M * C * 4);
    k.layernorm(put(x), M, C, put(g), put(b), 1e-5, y);
    let err = 0;
    for (let m = 0; m < M; m++) {
      const r = x.subarray(m * C, (m + 1) * C);
      const mean = r.reduce((a, v) => a + v, 0) / C;
      const variance = r.reduce((a, v) => a + (v - mean) ** 2, 0) / C;
      for (let c = 0; c < C; c++) err = Math.max(err, Math.abs(f32(y, M * C)[m * C + c]! - ((r[c]! - mean) / Math.sqrt(variance + 1e-5)) * g[c]! - b[c]!));
    }
    assert.ok(err < 1e-5, `${simd} layernorm: worst error ${err}`);
    const V = 11;
    const wte = randn(V * C);
    const wpe = randn(7 * C);
    const ids = [3, 0, 10, 3, 7];
    const pos = [0, 1, 2, 6, 5];
    const out = alloc(M * C * 4);
    const idsP = alloc(M * 4);
    const posP = alloc(M * 4);
    new Int32Array(f32(idsP, 1).buffer, idsP, M).set(ids);
    new Int32Array(f32(posP, 1).buffer, posP, M).set(pos);
    k.embed(0, idsP, posP, M, C, put(wte), alloc(V * 4), put(wpe), out);
    let eErr = 0;
    for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) eErr = Math.max(eErr, Math.abs(f32(out, M * C)[m * C + c]! - Math.fround(wte[ids[m]! * C + c]! + wpe[pos[m]! * C + c]!)));
    assert.equal(eErr, 0, `${simd} embed is exact (one f32 add)`);
    console.log(`${simd}: layernorm worst |error| ${err.toExponential(2)}, embed ${eErr}`);
  }
});

/**
 * kv_append then attention (split into two slices of (row, head) pairs) against a float64 softmax reference, with a
 * row map (map[b][j]: the physical row holding slot j of row b; null = none, the kernels get 0) or without. The
 * reference reads the past through the map itself; a row whose mask leaves query 0 no key checks the pad-query
 * branch. Returns the worst output and probability errors, and how many (row, head, query) had no key.
 */
async function checkAttention(simd: KernelSimd, shape: { B: number; T: number; past: number; nh: number; C: number; cap: number }, mask: number[], rowMap: number[][] | null): Promise<{ err: number; pErr: number; padQueries: number }> {
  const { B, T, past, nh, C, cap } = shape;
  const hs = C / nh;
  const Tk = past + T;
  const { memory, k, alloc, f32, put } = await harness(simd);
  const kc = alloc(B * cap * C * 4);
  const vc = alloc(B * cap * C * 4);
  const pastK = randn(B * cap * C);
  const pastV = randn(B * cap * C);
  f32(kc, B * cap * C).set(pastK);
  f32(vc, B * cap * C).set(pastV);
  let mapP = 0;
  if (rowMap) {
    mapP = alloc(B * cap * 4);
    const m = new Int32Array(memory.buffer, mapP, B * cap).fill(-7); // slots >= past: kv_append must write them
    rowMap.forEach((row, b) => m.set(row, b * cap));
  }
  const qkv = randn(B * T * 3 * C);
  const qkvP = put(qkv);
  k.kv_append(qkvP, B, T, C, kc, vc, cap, past, mapP);
  const maskP = alloc(B * Tk * 4);
  new Int32Array(memory.buffer, maskP, B * Tk).set(mask);
  const out = alloc(B * T * C * 4);
  const scores = alloc(Tk * 4);
  const probs = alloc(B * nh * T * Tk * 4);
  const scale = 1 / Math.sqrt(hs);
  const split = Math.floor((B * nh) / 2);
  k.attention(qkvP, B, T, C, nh, kc, vc, cap, past, maskP, scale, out, scores, 0, split, probs, mapP);
  k.attention(qkvP, B, T, C, nh, kc, vc, cap, past, maskP, scale, out, scores, split, B * nh, probs, mapP);
  const phys = (b: number, j: number): number => (rowMap ? rowMap[b]![j]! : b);
  const key = (b: number, j: number, c: number): number => (j < past ? pastK[(phys(b, j) * cap + j) * C + c]! : qkv[(b * T + j - past) * 3 * C + C + c]!);
  const val = (b: number, j: number, c: number): number => (j < past ? pastV[(phys(b, j) * cap + j) * C + c]! : qkv[(b * T + j - past) * 3 * C + 2 * C + c]!);
  let err = 0;
  let pErr = 0;
  let padQueries = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const q = (c: number): number => qkv[(b * T + t) * 3 * C + h * hs + c]!;
        const keys = Array.from({ length: past + t + 1 }, (_, j) => j).filter((j) => mask[b * Tk + j] === 1);
        const p = new Float64Array(Tk);
        if (keys.length === 0) {
          // HF's pad-query artefact: uniform over the keys up to this query and the later non-pad keys
          padQueries++;
          const all = Array.from({ length: Tk }, (_, j) => j).filter((j) => j <= past + t || mask[b * Tk + j] === 1);
          for (const j of all) p[j] = 1 / all.length;
        } else {
          const s = keys.map((j) => {
            let d = 0;
            for (let c = 0; c < hs; c++) d += q(c) * key(b, j, h * hs + c);
            return d * scale;
          });
          const mx = s.reduce((a, v) => Math.max(a, v), -Infinity);
          const e = s.map((v) => Math.exp(v - mx));
          const sum = e.reduce((a, v) => a + v, 0);
          keys.forEach((j, i) => (p[j] = e[i]! / sum));
        }
        for (let j = 0; j < Tk; j++) pErr = Math.max(pErr, Math.abs(f32(probs, B * nh * T * Tk)[((b * nh + h) * T + t) * Tk + j]! - p[j]!));
        for (let c = 0; c < hs; c++) {
          let o = 0;
          for (let j = 0; j < Tk; j++) o += p[j]! * val(b, j, h * hs + c);
          err = Math.max(err, Math.abs(f32(out, B * T * C)[(b * T + t) * C + h * hs + c]! - o));
        }
      }
    }
  }
  // the cache now holds the new keys and values at slots past..past+T of each row's own physical row
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) assert.deepEqual(f32(kc + ((b * cap + past + t) * C) * 4, C), qkv.slice((b * T + t) * 3 * C + C, (b * T + t) * 3 * C + 2 * C));
  if (rowMap) {
    const m = new Int32Array(memory.buffer, mapP, B * cap);
    for (let b = 0; b < B; b++) {
      assert.deepEqual([...m.subarray(b * cap, b * cap + past)], rowMap[b]!.slice(0, past), `${simd}: kv_append left the map below past alone`);
      assert.deepEqual([...m.subarray(b * cap + past, b * cap + Tk)], Array.from({ length: T }, () => b), `${simd}: kv_append marked row ${b}'s new slots as its own`);
      assert.equal(m[b * cap + Tk], -7, `${simd}: nothing past the new slots`);
    }
  }
  return { err, pErr, padQueries };
}

test('kv_append + attention against a softmax reference: 2 rows, 3 heads of 5, past 2 + 3 new, a padded key, probabilities', async () => {
  for (const simd of SIMDS) {
    const mask = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1]; // row 1's first key is padding
    const { err, pErr, padQueries } = await checkAttention(simd, { B: 2, T: 3, past: 2, nh: 3, C: 15, cap: 6 }, mask, null);
    assert.equal(padQueries, 0);
    assert.ok(err < 1e-5 && pErr < 1e-6, `${simd} attention: worst error ${err}, probabilities ${pErr}`);
    console.log(`${simd}: attention worst |error| ${err.toExponential(2)}, probabilities ${pErr.toExponential(2)}`);
  }
});

test('attention through a row map (a reordered cache): 3 rows with repeated parents, past 7 (capacity 10) + 2 new, a pad query', async () => {
  const B = 3, T = 2, past = 7;
  // slot j of row b lives in physical row map[b][j]: mixed per position, as composed reorders leave it; row 2 reads
  // only other rows' slots below past, so the kernel must not use its own physical row there
  const rowMap = [
    [0, 0, 1, 2, 2, 0, 1],
    [2, 2, 2, 1, 0, 0, 0],
    [1, 0, 0, 1, 0, 1, 0],
  ];
  const Tk = past + T;
  // row 1: keys 0..7 padded, so its first new query (slot 7) has no key (the uniform branch, through the map)
  const mask = [...Array(Tk).fill(1), ...Array(8).fill(0), 1, ...Array(3).fill(1), 0, ...Array(5).fill(1)];
  assert.equal(mask.length, B * Tk);
  for (const simd of SIMDS) {
    const { err, pErr, padQueries } = await checkAttention(simd, { B, T, past, nh: 3, C: 15, cap: 10 }, mask, rowMap);
    assert.equal(padQueries, 3, 'row 1, query 0, every head');
    assert.ok(err < 1e-5 && pErr < 1e-6, `${simd} attention with a row map: worst error ${err}, probabilities ${pErr}`);
    console.log(`${simd}: attention with a row map, worst |error| ${err.toExponential(2)}, probabilities ${pErr.toExponential(2)}`);
  }
});

test('stream_sum (the bandwidth probe) and quant_rows against the reference', async () => {
  for (const simd of SIMDS) {
    const { k, alloc, f32, put } = await harness(simd);
    const a = randn(16 * 37);
    const got = k.stream_sum(put(a), a.length * 4);
    const want = a.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(got - want) < 1e-4, `${simd} stream_sum ${got} vs ${want}`);
    // quant_rows (SIMD 8 at a time, then a tail): per row, scale = max|x| / 32767 and x * (1 / scale) rounded half
    // to even, to i16 (an odd K gets a zero pad), exactly as float32 scalars give it; K under 8, with a tail, a
    // multiple of 8; the largest |x| in the SIMD part (negative) or in the tail, and a row of zeros (scale 1)
    const M = 4;
    // (+ 0: Math.round gives -0 for v in (-0.5, 0), which an i16 cannot hold and strict equality tells from 0)
    const even = (v: number): number => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v)) + 0;
    let checked = 0;
    for (const K of [5, 37, 48]) {
      const x = randn(M * K, 2);
      x[1] = -7; // row 0: the largest |x| is negative, in the SIMD part (or the tail for K = 5)
      x[K + K - 1] = 9; // row 1: the largest in the tail (K = 37), the last SIMD lane (K = 48)
      x.fill(0, 3 * K, 4 * K); // row 3: zeros
      const kq = 2 * Math.ceil(K / 2);
      const xq = alloc(64 + M * kq * 2);
      k.quant_rows(put(x), M, K, xq);
      const scales = f32(xq, M);
      for (let m = 0; m < M; m++) {
        const row = x.subarray(m * K, (m + 1) * K);
        const mx = row.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        const s = mx > 0 ? Math.fround(mx / 32767) : 1;
        assert.equal(scales[m], s, `${simd} K=${K} row ${m} scale`);
        const inv = Math.fround(1 / s);
        const q = new Int16Array(scales.buffer, xq + 64 + m * kq * 2, kq);
        for (let c = 0; c < K; c++) assert.equal(q[c], even(Math.fround(row[c]! * inv)), `${simd} K=${K} row ${m} entry ${c}`);
        if (K & 1) assert.equal(q[K], 0, 'the pad entry');
        checked++;
      }
    }
    assert.equal(checked, 3 * M);
  }
});

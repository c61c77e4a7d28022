// How weights are laid out in the engine's memory (see kernels.ts for why):
//   Conv1D W [K, N] (in, out) -> column panels of 8: panel p = columns 8p..8p+7 of every row, [ceil(N/8)][K][8],
//   zero-padded; int8 adds one scale per output column, and stores each panel's rows in interleaved pairs,
//   [ceil(K/2)][8][2], for the kernels' i16 dot products (i32x4.dot_i16x8_s sums each column's pair).
//   wte / lm_head [V, C] -> kept row-major (the LM head dots each row with h); int8 adds one scale per row.
// fp16 stores IEEE half bit patterns (u16); int8 stores round(w / scale) with scale = max|w| / 127.

export type EngineDType = 'fp32' | 'fp16' | 'int8';

/** Bytes per weight of each dtype. */
export const DTYPE_BYTES: Readonly<Record<EngineDType, number>> = { fp32: 4, fp16: 2, int8: 1 };
/** The kernels' element-type codes (kernels.ts: f32 = 0, u16 = 1, i8 = 2). */
export const DTYPE_CODE: Readonly<Record<EngineDType, number>> = { fp32: 0, fp16: 1, int8: 2 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE binary16 bits, rounding to nearest even (overflow -> inf, underflow -> subnormal or 0). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const e = (x >>> 23) & 0xff;
  const m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0); // inf, nan
  const exp = e - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    // a subnormal half: mantissa = (1.m) * 2^(e-126) in units of 2^-24
    if (exp < -10) return sign;
    const full = m | 0x800000;
    const shift = 14 - exp;
    const half = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (exp << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0)); // a carry rounds up the exponent
}

/** Bytes of a packed [K, N] Conv1D weight. */
export function panelBytes(K: number, N: number, dtype: EngineDType): number {
  const rows = dtype === 'int8' ? 2 * Math.ceil(K / 2) : K; // int8: rows in pairs, an odd K padded with a zero row
  return Math.ceil(N / 8) * rows * 8 * DTYPE_BYTES[dtype];
}

/**
 * Packs W [K, N] into panels at byte offset `dst` of `buffer` (see the top of this file); for int8 also writes
 * the N column scales (f32) at byte offset `scales`.
 */
export function packPanels(W: Float32Array, K: number, N: number, dtype: EngineDType, buffer: ArrayBufferLike, dst: number, scales: number): void {
  const np = Math.ceil(N / 8);
  const count = np * K * 8;
  if (dtype === 'fp32') {
    const out = new Float32Array(buffer, dst, count);
    for (let p = 0; p < np; p++) {
      const n = Math.min(8, N - 8 * p);
      for (let k = 0; k < K; k++) {
        const s = k * N + 8 * p; // W[k, 8p]
        const d = (p * K + k) * 8; // panel p, row k
        for (let j = 0; j < 8; j++) out[d + j] = j < n ? W[s + j]! : 0;
      }
    }
  } else if (dtype === 'fp16') {
    const out = new Uint16Array(buffer, dst, count);
    for (let p = 0; p < np; p++) {
      const n = Math.min(8, N - 8 * p);
      for (let k = 0; k < K; k++) {
        const s = k * N + 8 * p;
        const d = (p * K + k) * 8;
        for (let j = 0; j < 8; j++) out[d + j] = j < n ? toHalfBits(W[s + j]!) : 0;
      }
    }
  } else {
    // one scale per output column: max |W[:, n]| / 127
    const scale = new Float32Array(buffer, scales, np * 8);
    const maxAbs = new Float32Array(N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) maxAbs[n] = Math.max(maxAbs[n]!, Math.abs(W[k * N + n]!));
    for (let n = 0; n < N; n++) scale[n] = maxAbs[n]! > 0 ? maxAbs[n]! / 127 : 1;
    const Kp = 2 * Math.ceil(K / 2);
    const out = new Int8Array(buffer, dst, np * Kp * 8).fill(0);
    for (let p = 0; p < np; p++) {
      const n = Math.min(8, N - 8 * p);
      for (let k = 0; k < K; k++) {
        const s = k * N + 8 * p;
        const d = p * Kp * 8 + (k >> 1) * 16 + (k & 1); // panel p, pair k/2, column j at + 2j
        for (let j = 0; j < n; j++) out[d + 2 * j] = Math.round(W[s + j]! / scale[8 * p + j]!);
      }
    }
  }
}

/** The inverse of packPanels for fp32: W [K, N] back from its panels at byte offset `src` (a new array). */
export function unpackPanels(buffer: ArrayBufferLike, src: number, K: number, N: number): Float32Array {
  const np = Math.ceil(N / 8);
  const panels = new Float32Array(buffer, src, np * K * 8);
  const W = new Float32Array(K * N);
  for (let p = 0; p < np; p++) {
    const n = Math.min(8, N - 8 * p);
    for (let k = 0; k < K; k++) {
      const d = (p * K + k) * 8; // panel p, row k
      const s = k * N + 8 * p; // W[k, 8p]
      for (let j = 0; j < n; j++) W[s + j] = panels[d + j]!;
    }
  }
  return W;
}

/** Copies E [V, C] row-major at byte offset `dst`, as dtype; int8 also writes V row scales at byte offset `scales`. */
export function packRows(E: Float32Array, V: number, C: number, dtype: EngineDType, buffer: ArrayBufferLike, dst: number, scales: number): void {
  if (dtype === 'fp32') {
    new Float32Array(buffer, dst, V * C).set(E.subarray(0, V * C));
  } else if (dtype === 'fp16') {
    const out = new Uint16Array(buffer, dst, V * C);
    for (let i = 0; i < V * C; i++) out[i] = toHalfBits(E[i]!);
  } else {
    const scale = new Float32Array(buffer, scales, V);
    const out = new Int8Array(buffer, dst, V * C);
    for (let v = 0; v < V; v++) {
      let mx = 0;
      for (let c = 0; c < C; c++) mx = Math.max(mx, Math.abs(E[v * C + c]!));
      const s = mx > 0 ? mx / 127 : 1;
      scale[v] = s;
      for (let c = 0; c < C; c++) out[v * C + c] = Math.round(E[v * C + c]! / s);
    }
  }
}

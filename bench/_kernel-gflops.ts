// The prompt matmul kernels on their own (not a benchmark of bench/main.ts: the leading _ keeps it out of the list;
// bench/engine.ts and bench/_kernels-ab.ts use it). GPT-2 124M's four Conv1D shapes and the tied LM head, each over
// M = 128 rows of x, fp32, one thread, called directly over a memory of their own with random weights: GFLOP/s of
// CPU time (process.cpuUsage: the other processes of a shared machine do not count), best of `repeats`.
import { DTYPE_CODE, packPanels, panelBytes } from '../src/engine/pack.js';
import { type KernelExports, MODE } from '../src/engine/wasm/module.js';
import { mulberry32 } from '../src/model/random.js';

/** One shape: y[M, N] (mode) x[M, K] @ W[K, N] + b through `matmul`, or the LM head h[M, K] @ wte[N, K]^T through `dot_rows`. */
export interface KernelShape {
  name: string;
  K: number;
  N: number;
  mode: number;
  head?: boolean;
}

/** GPT-2 124M (C = 768, 4C = 3072, V = 50257): c_attn, attn.c_proj, c_fc (gelu_new fused), mlp.c_proj (residual add), the LM head. */
export const GPT2_SHAPES: readonly KernelShape[] = [
  { name: 'c_attn 768x2304', K: 768, N: 2304, mode: MODE.STORE },
  { name: 'attn.c_proj 768x768', K: 768, N: 768, mode: MODE.ADD },
  { name: 'c_fc 768x3072', K: 768, N: 3072, mode: MODE.GELU },
  { name: 'mlp.c_proj 3072x768', K: 3072, N: 768, mode: MODE.ADD },
  { name: 'LM head 768x50257', K: 768, N: 50257, mode: MODE.STORE, head: true },
];

/** CPU ms (user + system) of fn. */
export function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** A shape laid out in a memory: run() computes it once. */
export interface KernelCase {
  shape: KernelShape;
  flops: number;
  run(k: KernelExports): void;
}

/**
 * Lays out each shape (random x and weights, packed as the engine packs them) in `memory`, from byte `base` on,
 * and returns the cases; any KernelExports instantiated over the same memory can run them (the A/B bench runs two builds
 * over one layout).
 */
export function layoutCases(memory: WebAssembly.Memory, k: KernelExports, M: number, shapes: readonly KernelShape[] = GPT2_SHAPES, base = 65536): KernelCase[] {
  const rand = mulberry32(7);
  let top = base;
  const alloc = (bytes: number): number => {
    const p = top;
    top += Math.ceil(bytes / 64) * 64 + 64;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return p;
  };
  const fill = (p: number, n: number, s: number): void => {
    const a = new Float32Array(memory.buffer, p, n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * s;
  };
  const cases: KernelCase[] = [];
  for (const shape of shapes) {
    const { K, N } = shape;
    const x = alloc(M * K * 4);
    fill(x, M * K, 1);
    const flops = 2 * M * K * N;
    if (shape.head) {
      const W = alloc(N * K * 4);
      fill(W, N * K, 0.05);
      const out = alloc(M * N * 4);
      const tmp = alloc(k.dot_rows_tmp_bytes(K));
      const hq = alloc(64 + M * (K + 1) * 2);
      cases.push({ shape, flops, run: (kk) => kk.dot_rows(DTYPE_CODE.fp32, x, M, K, W, 0, out, N, 0, N, hq, tmp) });
      continue;
    }
    const Np = Math.ceil(N / 8) * 8;
    const w = alloc(panelBytes(K, N, 'fp32'));
    const W = new Float32Array(K * N);
    for (let i = 0; i < W.length; i++) W[i] = (rand() * 2 - 1) * 0.05;
    packPanels(W, K, N, 'fp32', memory.buffer, w, 0);
    const b = alloc(Np * 4);
    fill(b, Np, 0.1);
    const y = alloc(M * N * 4);
    fill(y, M * N, 1);
    const tmp = alloc(k.matmul_tmp_bytes(K));
    cases.push({ shape, flops, run: (kk) => kk.matmul(DTYPE_CODE.fp32, x, M, K, w, N, 0, b, y, shape.mode, 0, Np / 8, tmp, 0) });
  }
  return cases;
}

/** GFLOP/s of CPU time of one case, best of `repeats` (after one warm-up run). */
export function caseGflops(c: KernelCase, k: KernelExports, repeats: number): number {
  c.run(k);
  let ms = Infinity;
  for (let r = 0; r < repeats; r++) ms = Math.min(ms, cpuMs(() => c.run(k)));
  return c.flops / (ms / 1000) / 1e9;
}

// The compiled kernels (src/engine/wasm/assembly/kernels.ts, built by scripts/build-wasm.ts) as WebAssembly
// modules, and their exports' signatures. Byte addresses are plain numbers: wasm32 reads them as unsigned.
import { KERNELS_SHARED_BASE64, KERNELS_SHARED_RELAXED_BASE64, KERNELS_SINGLE_BASE64, KERNELS_SINGLE_RELAXED_BASE64 } from './kernels.generated.js';

/** The kernels' exports (see kernels.ts for what each computes). */
export interface KernelExports {
  matmul(dt: number, x: number, M: number, K: number, w: number, N: number, scale: number, bias: number, y: number, mode: number, p0: number, p1: number, tmp: number, xq: number): void;
  /** bytes of matmul's scratch per thread for K input rows */
  matmul_tmp_bytes(K: number): number;
  quant_rows(x: number, M: number, K: number, xq: number): void;
  dot_rows(dt: number, h: number, M: number, C: number, W: number, scale: number, out: number, outStride: number, v0: number, v1: number, hq: number, tmp: number): void;
  /** bytes of dot_rows' scratch per thread for rows of C */
  dot_rows_tmp_bytes(C: number): number;
  embed(dt: number, ids: number, pos: number, M: number, C: number, wte: number, scale: number, wpe: number, out: number): void;
  layernorm(x: number, M: number, C: number, g: number, b: number, eps: number, y: number): void;
  /** map: the cache's row map (i32 [B, cap]) or 0; the new slots are marked as their row's own */
  kv_append(qkv: number, B: number, T: number, C: number, kc: number, vc: number, cap: number, past: number, map: number): void;
  /** map: the cache's row map (slot j of row b lives in row map[b * cap + j]) or 0 (identity) */
  attention(qkv: number, B: number, T: number, C: number, nh: number, kc: number, vc: number, cap: number, past: number, mask: number, scale: number, out: number, scores: number, lo: number, hi: number, probs: number, map: number): void;
  /** runs the op in the control block on every thread of the pool (the caller is thread 0) */
  dispatch(ctrl: number): void;
  /** a worker's loop: runs ops until OP_EXIT */
  worker_loop(ctrl: number, idx: number): void;
  /** sums `bytes` of f32 at `p`: the plain streaming read that measures memory bandwidth */
  stream_sum(p: number, bytes: number): number;
  /** per row of logits: max, Σ exp(x - max), argmax, first NaN/+inf (4 f64 per row; the definition: src/model/row-stats.ts) */
  row_stats(x: number, rows: number, n: number, out: number): void;
}

/** How many arguments each export takes: test/engine-kernels.test.ts checks it against the compiled module. */
export const KERNEL_ARITY: Readonly<Record<keyof KernelExports, number>> = {
  matmul: 14, matmul_tmp_bytes: 1, quant_rows: 4, dot_rows: 12, dot_rows_tmp_bytes: 1, embed: 9, layernorm: 7, kv_append: 9, attention: 17, dispatch: 1, worker_loop: 2, stream_sum: 2, row_stats: 4,
};

// The kernels export their op codes, epilogue modes and control-block word indices as wasm globals (kernels.ts:
// OP_*, MODE_*, CTRL_*); these copies are what TypeScript can type, and test/engine-kernels.test.ts checks every
// one against the compiled module's globals.
/** Op codes of the control block (kernels.ts: OP_*). */
export const OP = { MATMUL: 1, DOT_ROWS: 2, ATTENTION: 3, STREAM: 4, EXIT: 9 } as const;
/** matmul epilogues (kernels.ts: MODE_*). */
export const MODE = { STORE: 0, GELU: 1, ADD: 2 } as const;
/** Word indices of the control block (kernels.ts: CTRL_*): op arguments start at ARGS; WORDS words in all. */
export const CTRL = { SEQ: 0, DONE: 1, OP: 2, THREADS: 3, SPINS: 4, POOL: 5, MAY_WAIT: 6, ARGS: 8, WORDS: 32 } as const;
/** The widest memory wasm32 can address, in 64 KiB pages (the kernels declare it as their maximum). */
export const MAX_PAGES = 65536;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Which build of the kernels: `plain` SIMD (mul, add), or `relaxed` SIMD (fused multiply-add). */
export type KernelSimd = 'plain' | 'relaxed';

/** (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd): validates only where relaxed SIMD is on. */
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

/** Does this runtime accept relaxed SIMD? (Chromium does; Node 20 after `--experimental-wasm-relaxed-simd`, which gpt2-lens/node sets.) Asked each time: a flag may be set later. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

/** `auto` = relaxed where the runtime has it, else plain; asking for `relaxed` where it is missing is an error. */
export function resolveSimd(simd: KernelSimd | 'auto' = 'auto'): KernelSimd {
  if (simd === 'plain') return 'plain';
  if (simd === 'relaxed' || simd === 'auto') {
    if (relaxedSimdSupported()) return 'relaxed';
    if (simd === 'relaxed') throw new Error('engine: this runtime has no relaxed SIMD (Node 20: run with --experimental-wasm-relaxed-simd, or import gpt2-lens/node, which sets it); use simd: "plain" or "auto"');
    return 'plain';
  }
  throw new Error(`engine: unknown simd "${String(simd)}"; expected auto, relaxed or plain`);
}

const BUILDS: Record<`${'single' | 'shared'}_${KernelSimd}`, string> = {
  single_plain: KERNELS_SINGLE_BASE64,
  shared_plain: KERNELS_SHARED_BASE64,
  single_relaxed: KERNELS_SINGLE_RELAXED_BASE64,
  shared_relaxed: KERNELS_SHARED_RELAXED_BASE64,
};
const compiled: Partial<Record<keyof typeof BUILDS, Promise<WebAssembly.Module>>> = {};

/** The kernels compiled for an ordinary memory (`shared` false) or a shared one (threads), plain or relaxed SIMD; compiled once. */
export function kernelModule(shared: boolean, simd: KernelSimd = 'plain'): Promise<WebAssembly.Module> {
  const key = `${shared ? 'shared' : 'single'}_${simd}` as const;
  compiled[key] ??= WebAssembly.compile(decodeBase64(BUILDS[key]) as Uint8Array<ArrayBuffer>);
  return compiled[key];
}

/** Instantiates the kernels over `memory` (imported as env.memory). */
export async function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

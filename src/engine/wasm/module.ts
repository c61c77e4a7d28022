// The compiled kernels (src/engine/wasm/assembly/kernels.ts, built by scripts/build-wasm.ts) as WebAssembly
// modules, and their exports' signatures. Byte addresses are plain numbers: wasm32 reads them as unsigned.
import { KERNELS_SHARED_BASE64, KERNELS_SINGLE_BASE64 } from './kernels.generated.js';

/** The kernels' exports (see kernels.ts for what each computes). */
export interface KernelExports {
  matmul(dt: number, x: number, M: number, K: number, w: number, N: number, scale: number, bias: number, y: number, mode: number, p0: number, p1: number, tmp: number, xq: number): void;
  quant_rows(x: number, M: number, K: number, xq: number): void;
  dot_rows(dt: number, h: number, M: number, C: number, W: number, scale: number, out: number, outStride: number, v0: number, v1: number, hq: number): void;
  embed(dt: number, ids: number, pos: number, M: number, C: number, wte: number, scale: number, wpe: number, out: number): void;
  layernorm(x: number, M: number, C: number, g: number, b: number, eps: number, y: number): void;
  kv_append(qkv: number, B: number, T: number, C: number, kc: number, vc: number, cap: number, past: number): void;
  attention(qkv: number, B: number, T: number, C: number, nh: number, kc: number, vc: number, cap: number, past: number, mask: number, scale: number, out: number, scores: number, lo: number, hi: number, probs: number): void;
  /** runs the op in the control block on every thread of the pool (the caller is thread 0) */
  dispatch(ctrl: number): void;
  /** a worker's loop: runs ops until OP_EXIT */
  worker_loop(ctrl: number, idx: number): void;
  /** sums `bytes` of f32 at `p`: the plain streaming read that measures memory bandwidth */
  stream_sum(p: number, bytes: number): number;
}

/** Op codes of the control block (kernels.ts: OP_*). */
export const OP = { MATMUL: 1, DOT_ROWS: 2, ATTENTION: 3, STREAM: 4, EXIT: 9 } as const;
/** matmul epilogues (kernels.ts: MODE_*). */
export const MODE = { STORE: 0, GELU: 1, ADD: 2 } as const;
/** The widest memory wasm32 can address, in 64 KiB pages (the kernels declare it as their maximum). */
export const MAX_PAGES = 65536;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const compiled: { single?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

/** The kernels compiled for an ordinary memory (`shared` false) or a shared one (threads); compiled once. */
export function kernelModule(shared: boolean): Promise<WebAssembly.Module> {
  const key = shared ? 'shared' : 'single';
  compiled[key] ??= WebAssembly.compile(decodeBase64(shared ? KERNELS_SHARED_BASE64 : KERNELS_SINGLE_BASE64) as Uint8Array<ArrayBuffer>);
  return compiled[key];
}

/** Instantiates the kernels over `memory` (imported as env.memory). */
export async function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}

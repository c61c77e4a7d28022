// The fast path: GPT-2's forward pass in WebAssembly SIMD kernels (wasm/assembly/kernels.ts) over one linear
// memory that holds the weights (copied in once, packed for streaming), the KV caches and the activations.
// The arithmetic is the reference path's (src/model/gpt2.ts), step for step:
//   x = wte[ids] + wpe[pos]
//   per block: x += c_proj(attn(c_attn(ln_1(x))));  x += mlp.c_proj(gelu_new(c_fc(ln_2(x))))
//   h = ln_f(x);  logits = h @ wte^T
// With `threads` > 1 the memory is shared and every matmul, the LM head and the attention are split between
// worker threads (threads.ts); the caller's thread computes its own slice, so forward() stays synchronous.
import { DTYPE_BYTES, DTYPE_CODE, type EngineDType, packPanels, packRows, panelBytes, unpackPanels } from './pack.js';
import type { WorkerHandle, WorkerSpawner } from './threads.js';
import { CTRL, instantiateKernels, kernelModule, type KernelExports, type KernelSimd, MAX_PAGES, MODE, OP, resolveSimd } from './wasm/module.js';
import type { Conv1DWeights, GPT2Config, GPT2Weights, LayerNormWeights } from '../model/types.js';
import { readerFromWeights, type WeightReader } from '../model/weight-reader.js';
import { checkRowStatsArgs, type RowStats } from '../model/row-stats.js';

export type { EngineDType } from './pack.js';

export interface EngineOptions {
  /** how the large matrices (Conv1D weights, wte, lm_head) are stored: fp32 (exact), fp16, int8 (per-row scales) */
  dtype?: EngineDType;
  /** threads to compute with, this one included (default 1); more than 1 needs `spawn` */
  threads?: number;
  /** starts the worker threads (src/node/threads.ts: nodeWorkerSpawner; threads.ts: browserWorkerSpawner) */
  spawn?: WorkerSpawner;
  /** how many times an idle thread polls before it sleeps (default 20000) */
  spins?: number;
  /** may the calling thread sleep in Atomics.wait while workers finish? (default: yes, except a browser's main thread) */
  mainThreadMayWait?: boolean;
  /** kernels with relaxed-SIMD fused multiply-add, or plain SIMD; `auto` (default): relaxed where the runtime has it */
  simd?: KernelSimd | 'auto';
}

/** A Conv1D in engine memory: byte addresses of its packed weight, column scales (int8) and padded bias. */
interface Linear {
  w: number;
  scale: number;
  bias: number;
  K: number;
  N: number;
}

interface Block {
  ln_1: { g: number; b: number };
  c_attn: Linear;
  attn_c_proj: Linear;
  ln_2: { g: number; b: number };
  c_fc: Linear;
  mlp_c_proj: Linear;
}

/**
 * A KV cache in engine memory: per layer, keys and values [batch, capacity, n_embd] (slot-major, heads side by side),
 * and the row map its reorders built (WasmEngine.reorderCache): position t of row b is stored in physical row
 * map[b * capacity + t] (same slot t); 0 = no map, row b is physical row b.
 */
export interface EngineCache {
  readonly batch: number;
  readonly capacity: number;
  /** slots filled so far */
  length: number;
  readonly keys: readonly number[];
  readonly values: readonly number[];
  /** byte address of the row map, i32 [batch, capacity] (entries below `length` are meaningful), or 0 */
  map: number;
}

export interface EngineForwardArgs {
  /** [B * T] token ids */
  ids: ArrayLike<number>;
  /** [B * T] position ids */
  positions: ArrayLike<number>;
  /** [B * (past + T)] 1 = attend, 0 = padding; null = all ones */
  mask: ArrayLike<number> | null;
  batch: number;
  /** the cache to attend over and extend by T, or null for a pass without past (nothing kept) */
  cache: EngineCache | null;
  /** logits for the last `keep` positions of each row (0 = every position, -1 = none) */
  keep: number;
  /** also return every layer's input and ln_f's output (HF's output_hidden_states) */
  hiddenStates?: boolean;
  /** also return every layer's attention probabilities (HF's output_attentions) */
  attentions?: boolean;
  /** hook points to stop at (captures and write hooks, by TransformerLens name): see ENGINE_HOOKS */
  tap?: EngineTap | null;
  /**
   * an array of at least B * keep * vocab_size floats to copy the logits into (`logits` is then a view of its
   * start); null: a new array. A decode step's logits are 200 KB a row: a fresh array each step costs more to
   * allocate and first touch (and to collect) than the copy itself.
   */
  logitsOut?: Float32Array | null;
}

/**
 * The hook points the engine stops at itself: between its kernels, the activation is in a buffer of engine
 * memory that is copied out, handed to the tap and copied back. (The others, hook_embed, hook_pos_embed,
 * attn.hook_q/k/v, attn.hook_attn_scores and mlp.hook_pre, live inside fused kernels.)
 */
export const ENGINE_HOOKS: readonly string[] = [
  'hook_resid_pre', 'ln1.hook_normalized', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out', 'hook_resid_mid',
  'ln2.hook_normalized', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post',
];
const ENGINE_HOOK_RE = new RegExp(`^(ln_final\\.hook_normalized|blocks\\.\\d+\\.(${ENGINE_HOOKS.map((n) => n.replace('.', '\\.')).join('|')}))$`);

/** true when the engine can stop at hook point `name` (capture it or run a write hook there) itself. */
export function engineRunsHook(name: string): boolean {
  return ENGINE_HOOK_RE.test(name);
}

/** What forward() does at a hook point: `touches` says whether to stop there; `run` gets a copy of the activation and returns the array to write back. */
export interface EngineTap {
  touches(name: string): boolean;
  run(name: string, value: Float32Array, dims: number[]): Float32Array;
}

export interface EngineForwardResult {
  /** [B * T, n_embd] after ln_f */
  hidden: Float32Array;
  /** [B * keep, vocab_size] */
  logits?: Float32Array;
  /** n_layer + 1 arrays [B * T, n_embd]: the embeddings, each block's output, ln_f's output (with hiddenStates) */
  hiddenStates?: Float32Array[];
  /** [B * T, n_embd]: the last block's output, before ln_f (with hiddenStates) */
  residual?: Float32Array;
  /** n_layer arrays [B, n_head, T, past + T] (with attentions) */
  attentions?: Float32Array[];
}

const ALIGN = 64;

/**
 * Attention whose work (B·T·Tk·n_embd multiply-adds, each for the scores and for the values) is at most this runs
 * on the calling thread alone, without a hand-off: at n_embd 768 a decode step over up to 10 keys (~10 µs a
 * layer), or any step of a small model. Not more: a decode step's attention costs ~0.9 µs a key and layer on one
 * thread, and with two free cores splitting it won 0.3-0.5 ms a step (int8, 9-80 keys) over running it alone; only
 * on an overloaded machine (two threads sharing one core) did alone win, by 0.4-0.9 ms (docs/engine.md, round 6).
 * Each (row, head) pair is computed by the same code either way, so the numbers do not depend on where it ran.
 */
export const ATTENTION_ALONE = 8192;

/** `plain` with a read-only getter per entry of `getters`. */
function lazy<G extends Record<string, () => unknown>, P extends object>(getters: G, plain: P): P & { readonly [K in keyof G]: ReturnType<G[K]> } {
  const out = { ...plain } as P & { [K in keyof G]: ReturnType<G[K]> };
  for (const [k, get] of Object.entries(getters)) Object.defineProperty(out, k, { get, enumerable: true });
  return out;
}

/** A browser window's thread may not block in Atomics.wait (a worker or Node may). */
function isBrowserMainThread(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined';
}
const PAGE = 65536;

/**
 * A bump allocator over the wasm memory, growing it as needed. Freed blocks are reused best fit (the smallest that
 * holds the request), and a larger block is split so its remainder stays free: first fit used to hand a freed
 * 144-position KV cache's blocks to a 72-position one and lose their second halves, so every generate() of a
 * server's life grew the memory (B = 4: 40 MiB a call) and paid fresh pages again when its cache grew.
 */
class Arena {
  top: number;
  private free: Array<{ ptr: number; bytes: number }> = [];
  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = base;
  }
  alloc(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.bytes >= size && (best < 0 || f.bytes < this.free[best]!.bytes)) best = i;
    }
    if (best >= 0) {
      const f = this.free[best]!;
      if (f.bytes === size) this.free.splice(best, 1);
      else this.free[best] = { ptr: f.ptr + size, bytes: f.bytes - size }; // the rest stays free
      return f.ptr;
    }
    const ptr = this.top;
    this.top += size;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      const pages = Math.ceil((this.top - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) throw new Error(`engine: out of memory: ${(this.top / 2 ** 20).toFixed(0)} MiB needed, wasm32 allows 4096 MiB`);
      this.memory.grow(pages);
    }
    return ptr;
  }
  /** Gives back a block of `bytes` (what was asked of alloc); it merges with a free neighbour on either side. */
  release(ptr: number, bytes: number): void {
    let block = { ptr, bytes: Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN };
    for (let i = this.free.length - 1; i >= 0; i--) {
      const f = this.free[i]!;
      if (f.ptr + f.bytes === block.ptr || block.ptr + block.bytes === f.ptr) {
        block = { ptr: Math.min(f.ptr, block.ptr), bytes: f.bytes + block.bytes };
        this.free.splice(i, 1);
      }
    }
    this.free.push(block);
  }
}

/** GPT-2 in WebAssembly: build with `WasmEngine.create(config, weights, options)`, then `forward(...)`. */
export class WasmEngine {
  readonly config: GPT2Config;
  readonly dtype: EngineDType;
  readonly threads: number;
  /** the kernels' build: relaxed SIMD (fused multiply-add) or plain SIMD */
  readonly simd: KernelSimd;
  /** bytes of weights held in engine memory */
  readonly weightBytes: number;
  readonly memory: WebAssembly.Memory;
  private readonly k: KernelExports;
  private readonly arena: Arena;
  private readonly ctrl: number;
  private readonly workers: WorkerHandle[];
  private readonly wte: { ptr: number; scale: number };
  private readonly head: { ptr: number; scale: number };
  private readonly wpe: number;
  private readonly blocks: Block[];
  private readonly ln_f: { g: number; b: number };
  private scratch: { ptr: number; bytes: number } | null = null;
  /** per thread, matmul's scratch (kernels.ts: matmul_tmp_bytes of the largest K); also dot_rows' scratch */
  private readonly panelTmp: number;
  /** int8: rows of x quantised to i16 (kernels.ts: quant_rows), for up to 8 rows */
  private readonly xq: number;
  private tmpCache: EngineCache | null = null;
  private ctlViews: { i32: Int32Array; f32: Float32Array } | null = null;
  /** ATTENTION_ALONE (a field so that a benchmark can compare thresholds in one process) */
  private attentionAlone = ATTENTION_ALONE;
  private disposed = false;

  private constructor(init: {
    config: GPT2Config;
    dtype: EngineDType;
    threads: number;
    memory: WebAssembly.Memory;
    kernels: KernelExports;
    arena: Arena;
    ctrl: number;
    workers: WorkerHandle[];
    wte: { ptr: number; scale: number };
    head: { ptr: number; scale: number };
    wpe: number;
    blocks: Block[];
    ln_f: { g: number; b: number };
    weightBytes: number;
    simd: KernelSimd;
  }) {
    this.simd = init.simd;
    this.config = init.config;
    this.dtype = init.dtype;
    this.threads = init.threads;
    this.memory = init.memory;
    this.k = init.kernels;
    this.arena = init.arena;
    this.ctrl = init.ctrl;
    this.workers = init.workers;
    this.wte = init.wte;
    this.head = init.head;
    this.wpe = init.wpe;
    this.blocks = init.blocks;
    this.ln_f = init.ln_f;
    this.weightBytes = init.weightBytes;
    const Kmax = Math.max(init.config.n_embd, init.config.n_inner ?? 4 * init.config.n_embd);
    // matmul slices it per thread by matmul_tmp_bytes(K), dot_rows by dot_rows_tmp_bytes(n_embd): room for the larger
    this.panelTmp = this.arena.alloc(this.threads * Math.max(this.k.matmul_tmp_bytes(Kmax), this.k.dot_rows_tmp_bytes(init.config.n_embd)));
    this.xq = this.arena.alloc(64 + 8 * (Kmax + 1) * 2);
  }

  /**
   * Writes the weights into a new engine memory (packed as `options.dtype`), compiles the kernels, starts the
   * threads. `weights` may be GPT2Weights or a WeightReader (a checkpoint or a random model, read tensor by
   * tensor): fp32 row-major tensors (wte, wpe, biases, LayerNorms) are then read straight into their place, each
   * Conv1D weight through one reused temporary, so loading holds no second copy of the model.
   */
  static async create(config: GPT2Config, weights: GPT2Weights | WeightReader, options: EngineOptions = {}): Promise<WasmEngine> {
    const reader = 'readInto' in weights ? weights : readerFromWeights(config, weights);
    if (reader.config !== config && JSON.stringify(reader.config) !== JSON.stringify(config)) throw new Error('engine: the weight reader was made for another config');
    const dtype = options.dtype ?? 'fp32';
    if (!(dtype in DTYPE_BYTES)) throw new Error(`engine: unknown dtype "${String(dtype)}"; expected fp32, fp16 or int8`);
    const simd = resolveSimd(options.simd);
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`engine: threads must be a positive integer, got ${threads}`);
    if (threads > 1 && !options.spawn) throw new Error('engine: threads > 1 needs a worker spawner (gpt2-lens/node: nodeWorkerSpawner; browsers: browserWorkerSpawner)');
    const { n_embd: C, vocab_size: V, n_positions: P } = config;
    const F = config.n_inner ?? 4 * C;
    if (C % config.n_head !== 0) throw new Error(`engine: n_embd ${C} is not divisible by n_head ${config.n_head}`);

    // Sizes first, so the memory is created once at about its final size.
    const linearBytes = (K: number, N: number): number => panelBytes(K, N, dtype) + 2 * Math.ceil(N / 8) * 32 + 2 * ALIGN;
    const rowsBytes = V * C * DTYPE_BYTES[dtype] + V * 4 + 2 * ALIGN;
    const perBlock = linearBytes(C, 3 * C) + linearBytes(C, C) + linearBytes(C, F) + linearBytes(F, C) + 4 * C * 4 + 4 * ALIGN;
    const total = (reader.untiedHead ? 2 : 1) * rowsBytes + P * C * 4 + config.n_layer * perBlock + 2 * C * 4 + 16 * 2 ** 20;
    const shared = threads > 1;
    const initial = Math.min(MAX_PAGES, Math.ceil(total / PAGE) + 1);
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
    } catch (e) {
      if (shared && typeof SharedArrayBuffer === 'undefined') {
        throw new Error('engine: threads need shared memory, which a browser allows only on a cross-origin isolated page (COOP: same-origin, COEP: require-corp); use threads: 1 here', { cause: e });
      }
      throw new Error(`engine: cannot allocate ${(initial / 16).toFixed(0)} MiB of WebAssembly memory: ${(e as Error).message}`, { cause: e });
    }
    const arena = new Arena(memory, PAGE); // page 0 stays free: address 0 is never a valid buffer
    const ctrl = arena.alloc(CTRL.WORDS * 4);

    let weightBytes = 0;
    const f32At = (ptr: number, n: number): Float32Array => new Float32Array(memory.buffer, ptr, n);
    // each read is awaited before the next allocation (a Blob's reads are asynchronous), so a view made for one
    // read is never of a buffer replaced by growing the memory
    const readF32 = async (name: string, n: number, padTo = n): Promise<number> => {
      const ptr = arena.alloc(padTo * 4);
      await reader.readInto(name, f32At(ptr, padTo).fill(0).subarray(0, n));
      weightBytes += n * 4;
      return ptr;
    };
    // One temporary for every Conv1D weight on its way to its panels (the largest is [C, F] or [F, C]).
    let tmp: Float32Array | null = null;
    const linear = async (name: string, K: number, N: number): Promise<Linear> => {
      const padded = Math.ceil(N / 8) * 8;
      const w = arena.alloc(panelBytes(K, N, dtype));
      const scale = arena.alloc(padded * 4);
      f32At(scale, padded).fill(1);
      tmp ??= new Float32Array(Math.max(3 * C * C, C * F));
      const W = tmp.subarray(0, K * N);
      await reader.readInto(`${name}.weight`, W);
      packPanels(W, K, N, dtype, memory.buffer, w, scale);
      weightBytes += panelBytes(K, N, dtype) + (dtype === 'int8' ? N * 4 : 0);
      return { w, scale, bias: await readF32(`${name}.bias`, N, padded), K, N };
    };
    const rows = async (name: string): Promise<{ ptr: number; scale: number }> => {
      const ptr = arena.alloc(V * C * DTYPE_BYTES[dtype]);
      const scale = arena.alloc(V * 4);
      if (dtype === 'fp32') await reader.readInto(name, f32At(ptr, V * C));
      else {
        const E = new Float32Array(V * C); // quantised from a temporary: fp16 / int8 are not under the fp32 memory bound
        await reader.readInto(name, E);
        packRows(E, V, C, dtype, memory.buffer, ptr, scale);
      }
      weightBytes += V * C * DTYPE_BYTES[dtype] + (dtype === 'int8' ? V * 4 : 0);
      return { ptr, scale };
    };
    const ln = async (name: string): Promise<{ g: number; b: number }> => ({ g: await readF32(`${name}.weight`, C), b: await readF32(`${name}.bias`, C) });

    const wte = await rows('wte.weight');
    const head = reader.untiedHead ? await rows('lm_head.weight') : wte;
    const wpe = await readF32('wpe.weight', P * C);
    const blocks: Block[] = [];
    for (let l = 0; l < config.n_layer; l++) {
      // one at a time, in this order: the arena lays the tensors out as they are allocated
      const ln_1 = await ln(`h.${l}.ln_1`);
      const c_attn = await linear(`h.${l}.attn.c_attn`, C, 3 * C);
      const attn_c_proj = await linear(`h.${l}.attn.c_proj`, C, C);
      const ln_2 = await ln(`h.${l}.ln_2`);
      const c_fc = await linear(`h.${l}.mlp.c_fc`, C, F);
      const mlp_c_proj = await linear(`h.${l}.mlp.c_proj`, F, C);
      blocks.push({ ln_1, c_attn, attn_c_proj, ln_2, c_fc, mlp_c_proj });
    }
    const ln_f = await ln('ln_f');
    tmp = null;

    const module = await kernelModule(shared, simd);
    const kernels = await instantiateKernels(module, memory);
    const ctl = new Int32Array(memory.buffer, ctrl, CTRL.WORDS);
    ctl[CTRL.THREADS] = threads; // threads computing
    ctl[CTRL.SPINS] = options.spins ?? 20000;
    ctl[CTRL.POOL] = threads; // threads in the pool
    ctl[CTRL.MAY_WAIT] = (options.mainThreadMayWait ?? !isBrowserMainThread()) ? 1 : 0;
    const workers: WorkerHandle[] = [];
    for (let idx = 1; idx < threads; idx++) workers.push(options.spawn!({ module, memory, ctrl, idx }));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new WasmEngine({ config, dtype, threads, memory, kernels, arena, ctrl, workers, wte, head, wpe, blocks, ln_f, weightBytes, simd });
  }

  /** A new KV cache for `batch` rows and up to `capacity` positions (default n_positions). */
  newCache(batch: number, capacity = this.config.n_positions): EngineCache {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`engine: a cache needs a positive integer batch, got ${batch}`);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.config.n_positions) {
      throw new Error(`engine: cache capacity must be 1..${this.config.n_positions} (n_positions), got ${capacity}`);
    }
    const C = this.config.n_embd;
    const bytes = batch * capacity * C * 4;
    const keys: number[] = [];
    const values: number[] = [];
    for (let l = 0; l < this.config.n_layer; l++) {
      keys.push(this.arena.alloc(bytes));
      values.push(this.arena.alloc(bytes));
    }
    return { batch, capacity, length: 0, keys, values, map: 0 };
  }

  /** Gives a cache's memory back to the engine (the cache must not be used again). */
  freeCache(cache: EngineCache): void {
    const bytes = cache.batch * cache.capacity * this.config.n_embd * 4;
    for (const p of [...cache.keys, ...cache.values]) this.arena.release(p, bytes);
    this.clearMap(cache);
    cache.length = -1;
  }

  /**
   * Row i of `cache` becomes its row rows[i] (KVCache.reorder's meaning, e.g. beam search's parents), for every
   * layer at once, without moving a float: the row map is composed, map'[i][t] = map[rows[i]][t] for t < length
   * (B x length integers). The next forward appends each row's new positions in its own physical row (free there:
   * the map only points below `length`) and the attention reads every older position through the map.
   */
  reorderCache(cache: EngineCache, rows: readonly number[]): void {
    const { batch: B, capacity: cap, length: L } = cache;
    if (rows.length !== B || !rows.every((r) => Number.isInteger(r) && r >= 0 && r < B)) {
      throw new Error(`engine: reorderCache wants ${B} row indices in [0, ${B}), got [${rows.slice(0, 16).join(', ')}${rows.length > 16 ? ', ...' : ''}]`);
    }
    if (cache.map === 0) {
      cache.map = this.arena.alloc(B * cap * 4);
      const map = this.i32(cache.map, B * cap);
      rows.forEach((r, i) => map.fill(r, i * cap, i * cap + L)); // the old map was the identity
      return;
    }
    const map = this.i32(cache.map, B * cap);
    const old = map.slice(0, B * cap);
    rows.forEach((r, i) => map.set(old.subarray(r * cap, r * cap + L), i * cap));
  }

  /** Drops the row map: row b is physical row b again (for a cache whose contents are about to be overwritten). */
  clearMap(cache: EngineCache): void {
    if (cache.map !== 0) this.arena.release(cache.map, cache.batch * cache.capacity * 4);
    cache.map = 0;
  }

  /**
   * A new cache of `capacity` positions holding `cache`'s (its physical rows' filled slots and its row map copied
   * as they are); `cache` itself is left as it was, for the caller to free.
   */
  resizeCache(cache: EngineCache, capacity: number): EngineCache {
    const { batch: B, capacity: cap, length: L } = cache;
    if (capacity < L) throw new Error(`engine: resizeCache to ${capacity} positions would drop some of the ${L} the cache holds`);
    const C = this.config.n_embd;
    const into = this.newCache(B, capacity);
    if (cache.map !== 0) into.map = this.arena.alloc(B * capacity * 4);
    const heap = new Float32Array(this.memory.buffer); // made after the allocations: the memory may have grown
    for (let l = 0; l < cache.keys.length; l++) {
      for (const which of ['keys', 'values'] as const) {
        const src = cache[which][l]! / 4; // byte address -> float index (not >> 2: addresses reach 4 GiB)
        const dst = into[which][l]! / 4;
        for (let b = 0; b < B; b++) heap.copyWithin(dst + b * capacity * C, src + b * cap * C, src + (b * cap + L) * C);
      }
    }
    if (cache.map !== 0) {
      const from = this.i32(cache.map, B * cap);
      const to = this.i32(into.map, B * capacity);
      for (let b = 0; b < B; b++) to.set(from.subarray(b * cap, b * cap + L), b * capacity);
    }
    into.length = L;
    return into;
  }

  /**
   * The weights as GPT2Weights that read engine memory (fp32 engines only), for everything that still reads
   * model.weights (the reference path when a hook falls back to it, the direct logit attribution, savePretrained):
   * wte, wpe, an untied lm_head, the biases and LayerNorms are views (made afresh on every access: growing the
   * memory replaces its buffer); a Conv1D weight is unpacked from its panels into a new array on each access
   * (exact: packing only moves fp32 values). The engine must outlive them.
   */
  weightsView(): GPT2Weights {
    if (this.dtype !== 'fp32') throw new Error(`engine: weightsView() needs fp32 weights; this engine holds ${this.dtype}`);
    const { n_embd: C, vocab_size: V, n_positions: P } = this.config;
    const view = (ptr: number, n: number) => (): Float32Array => this.f32(ptr, n);
    const ln = (x: { g: number; b: number }): LayerNormWeights => lazy({ weight: view(x.g, C), bias: view(x.b, C) }, {});
    const conv = (x: Linear): Conv1DWeights =>
      lazy({ weight: () => unpackPanels(this.memory.buffer, x.w, x.K, x.N), bias: view(x.bias, x.N) }, { nx: x.K, nf: x.N });
    const weights = lazy(
      { wte: view(this.wte.ptr, V * C), wpe: view(this.wpe, P * C) },
      {
        h: this.blocks.map((b) => ({ ln_1: ln(b.ln_1), attn: { c_attn: conv(b.c_attn), c_proj: conv(b.attn_c_proj) }, ln_2: ln(b.ln_2), mlp: { c_fc: conv(b.c_fc), c_proj: conv(b.mlp_c_proj) } })),
        ln_f: ln(this.ln_f),
      },
    ) as GPT2Weights;
    if (this.head !== this.wte) Object.defineProperty(weights, 'lm_head', { get: view(this.head.ptr, V * C), enumerable: true });
    return weights;
  }

  /** A Float32Array view of `n` floats at byte address `ptr` (views are re-made: the memory may have grown). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  private i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, n);
  }

  /** Posts one op to every thread (see kernels.ts: dispatch) and waits for all of them. */
  private run(op: number, args: number[], floatArg = -1): void {
    const ctl = this.ctl();
    ctl.i32[CTRL.OP] = op;
    for (let i = 0; i < args.length; i++) ctl.i32[CTRL.ARGS + i] = args[i]!;
    if (floatArg >= 0) ctl.f32[CTRL.ARGS + floatArg] = args[floatArg]!;
    this.k.dispatch(this.ctrl);
  }

  /** Views of the control block, made again only when the memory's buffer changed (60 dispatches a decode step). */
  private ctl(): { i32: Int32Array; f32: Float32Array } {
    const buffer = this.memory.buffer;
    if (this.ctlViews?.i32.buffer !== buffer) this.ctlViews = { i32: new Int32Array(buffer, this.ctrl, CTRL.WORDS), f32: new Float32Array(buffer, this.ctrl, CTRL.WORDS) };
    return this.ctlViews;
  }

  private matmul(x: number, M: number, lin: Linear, y: number, mode: number): void {
    // int8 with few rows: x quantised to i16 for the integer dot products (kernels.ts: row1i8, WIDEN_FROM_I8 = 8)
    if (this.dtype === 'int8' && M < 8) this.k.quant_rows(x, M, lin.K, this.xq);
    this.run(OP.MATMUL, [DTYPE_CODE[this.dtype], x, M, lin.K, lin.w, lin.N, lin.scale, lin.bias, y, mode, this.panelTmp, this.xq]);
  }

  /** Scratch buffers for M = B*T rows and up to Tk keys: one allocation, carved up. */
  private buffers(M: number, B: number, Tk: number, keepRows: number, withProbs = false) {
    const { n_embd: C, vocab_size: V } = this.config;
    const F = this.config.n_inner ?? 4 * C;
    const sizes = {
      x: M * C, h: M * C, qkv: M * 3 * C, att: M * C, fc: M * F, rows: keepRows * C, logits: keepRows * V,
      ids: M, pos: M, mask: B * Tk, scores: this.threads * Tk, probs: withProbs ? B * this.config.n_head * (M / B) * Tk : 0,
    };
    return this.carve(sizes);
  }

  /** Byte addresses of named float buffers (sizes in floats), carved from one scratch allocation that only grows. */
  private carve<K extends string>(sizes: Record<K, number>): Record<K, number> {
    let total = 0;
    const at: Record<string, number> = {};
    for (const [name, n] of Object.entries<number>(sizes)) {
      at[name] = total;
      total += Math.ceil((n * 4) / ALIGN) * ALIGN;
    }
    if (!this.scratch || this.scratch.bytes < total) {
      if (this.scratch) this.arena.release(this.scratch.ptr, this.scratch.bytes);
      const bytes = Math.max(total, 2 * (this.scratch?.bytes ?? 0));
      this.scratch = { ptr: this.arena.alloc(bytes), bytes };
    }
    const base = this.scratch.ptr;
    return Object.fromEntries(Object.entries(at).map(([k, off]) => [k, base + off])) as Record<K, number>;
  }

  /** Runs the network over B rows of T new tokens, attending over (and extending) `cache`. */
  forward(args: EngineForwardArgs): EngineForwardResult {
    if (this.disposed) throw new Error('engine: used after dispose()');
    const { n_embd: C, n_head: nh, vocab_size: V, layer_norm_epsilon: eps } = this.config;
    const B = args.batch;
    const M = args.ids.length;
    const T = M / B;
    if (!Number.isInteger(T) || T < 1) throw new Error(`engine: ${M} ids do not make ${B} rows of T >= 1 tokens`);
    if (args.positions.length !== M) throw new Error(`engine: ${args.positions.length} positions for ${M} ids`);
    let cache = args.cache;
    if (!cache) {
      // No cache wanted: attend over a temporary one, reused between calls.
      if (!this.tmpCache || this.tmpCache.batch !== B || this.tmpCache.capacity < T) {
        if (this.tmpCache) this.freeCache(this.tmpCache);
        this.tmpCache = this.newCache(B, T);
      }
      cache = this.tmpCache;
      cache.length = 0;
    }
    if (cache.batch !== B) throw new Error(`engine: the cache holds ${cache.batch} rows, the input ${B}`);
    const past = cache.length;
    const Tk = past + T;
    if (Tk > cache.capacity) throw new Error(`engine: ${Tk} positions exceed the cache's capacity ${cache.capacity}`);
    if (args.mask && args.mask.length !== B * Tk) throw new Error(`engine: attention mask has ${args.mask.length} values, expected ${B}x${Tk}`);
    const keep = args.keep < 0 ? 0 : args.keep === 0 ? T : Math.min(args.keep, T);

    const tap = args.tap ?? null;
    const touches = (name: string): boolean => tap !== null && tap.touches(name);
    const L = this.blocks.length;
    const patternAt = Array.from({ length: L }, (_, l) => touches(`blocks.${l}.attn.hook_pattern`));
    const buf = this.buffers(M, B, Tk, B * keep, args.attentions === true || patternAt.some(Boolean));
    const hiddenStates: Float32Array[] = [];
    const attentions: Float32Array[] = [];
    const probsN = B * nh * T * Tk;
    const F = this.config.n_inner ?? 4 * C;
    const hs = C / nh;
    // A hook point: the activation at `ptr` (n floats) is copied out, given to the tap, and what it returns copied back.
    const at = (name: string, ptr: number, n: number, dims: number[]): void => {
      if (!touches(name)) return;
      const out = tap!.run(name, this.f32(ptr, n).slice(), dims);
      this.f32(ptr, n).set(out); // a fresh view: the hook may have made the memory grow
    };
    const ids = this.i32(buf.ids, M);
    for (let i = 0; i < M; i++) {
      const id = args.ids[i]!;
      if (!(id >= 0 && id < V)) throw new Error(`engine: token id ${id} is out of range [0, ${V})`);
      ids[i] = id;
    }
    const pos = this.i32(buf.pos, M);
    for (let i = 0; i < M; i++) {
      const p = args.positions[i]!;
      if (!(p >= 0 && p < this.config.n_positions)) throw new Error(`engine: position ${p} is out of range [0, ${this.config.n_positions})`);
      pos[i] = p;
    }
    const mask = this.i32(buf.mask, B * Tk);
    if (args.mask) for (let i = 0; i < B * Tk; i++) mask[i] = args.mask[i] ? 1 : 0;
    else mask.fill(1);

    const dt = DTYPE_CODE[this.dtype];
    const k = this.k;
    const scale = this.config.scale_attn_weights ? 1 / Math.sqrt(C / nh) : 1;
    k.embed(dt, buf.ids, buf.pos, M, C, this.wte.ptr, this.wte.scale, this.wpe, buf.x); // x = wte[ids] + wpe[pos]
    for (let l = 0; l < L; l++) {
      const b = this.blocks[l]!;
      const p = `blocks.${l}.`;
      at(p + 'hook_resid_pre', buf.x, M * C, [B, T, C]);
      if (args.hiddenStates) hiddenStates.push(this.f32(buf.x, M * C).slice()); // the block's input
      k.layernorm(buf.x, M, C, b.ln_1.g, b.ln_1.b, eps, buf.h);
      at(p + 'ln1.hook_normalized', buf.h, M * C, [B, T, C]);
      this.matmul(buf.h, M, b.c_attn, buf.qkv, MODE.STORE); // [M, C] -> [M, 3C]: q | k | v
      k.kv_append(buf.qkv, B, T, C, cache.keys[l]!, cache.values[l]!, cache.capacity, past, cache.map);
      const probs = args.attentions || patternAt[l] ? buf.probs : 0;
      if (B * T * Tk * C <= this.attentionAlone) {
        // a decode step's attention over a short past: on this thread, every (row, head) pair, without a hand-off
        k.attention(buf.qkv, B, T, C, nh, cache.keys[l]!, cache.values[l]!, cache.capacity, past, buf.mask, scale, buf.att, buf.scores, 0, B * nh, probs, cache.map);
      } else {
        this.run(OP.ATTENTION, [buf.qkv, B, T, C, nh, cache.keys[l]!, cache.values[l]!, cache.capacity, past, buf.mask, scale, buf.att, buf.scores, probs, cache.map], 10);
      }
      if (patternAt[l]) {
        // rows of the pattern the hook changed weigh the cached values again with its probabilities (float64 sums,
        // as the reference path); the other rows keep the kernel's z
        const before = this.f32(buf.probs, probsN).slice();
        const after = tap!.run(p + 'attn.hook_pattern', before.slice(), [B, nh, T, Tk]);
        this.f32(buf.probs, probsN).set(after);
        this.reweigh(before, after, B, T, Tk, cache, l, buf.att);
      }
      if (args.attentions) attentions.push(this.f32(buf.probs, probsN).slice()); // [B, nh, T, Tk]
      at(p + 'attn.hook_z', buf.att, M * C, [B, T, nh, hs]);
      this.residualAdd(buf.att, M, b.attn_c_proj, buf.x, buf.h, touches(p + 'hook_attn_out') ? (y) => at(p + 'hook_attn_out', y, M * C, [B, T, C]) : null); // x += attn
      at(p + 'hook_resid_mid', buf.x, M * C, [B, T, C]);
      k.layernorm(buf.x, M, C, b.ln_2.g, b.ln_2.b, eps, buf.h);
      at(p + 'ln2.hook_normalized', buf.h, M * C, [B, T, C]);
      this.matmul(buf.h, M, b.c_fc, buf.fc, MODE.GELU); // [M, C] -> [M, 4C], gelu_new fused
      at(p + 'mlp.hook_post', buf.fc, M * F, [B, T, F]);
      this.residualAdd(buf.fc, M, b.mlp_c_proj, buf.x, buf.h, touches(p + 'hook_mlp_out') ? (y) => at(p + 'hook_mlp_out', y, M * C, [B, T, C]) : null); // x += mlp
      at(p + 'hook_resid_post', buf.x, M * C, [B, T, C]);
    }
    cache.length = Tk;
    const residual = args.hiddenStates ? this.f32(buf.x, M * C).slice() : undefined;
    k.layernorm(buf.x, M, C, this.ln_f.g, this.ln_f.b, eps, buf.h);
    at('ln_final.hook_normalized', buf.h, M * C, [B, T, C]);
    const result: EngineForwardResult = { hidden: this.f32(buf.h, M * C).slice() };
    if (args.hiddenStates) {
      result.hiddenStates = [...hiddenStates, result.hidden];
      result.residual = residual!;
    }
    if (args.attentions) result.attentions = attentions;
    if (keep > 0) {
      let rows = buf.h;
      if (keep < T) {
        // the last `keep` positions of each row: [B, T, C] -> [B, keep, C]
        const heap = new Float32Array(this.memory.buffer);
        for (let b = 0; b < B; b++) {
          const from = buf.h / 4 + (b * T + T - keep) * C; // byte address / 4 (not >> 2: addresses reach 4 GiB)
          heap.copyWithin(buf.rows / 4 + b * keep * C, from, from + keep * C);
        }
        rows = buf.rows;
      }
      if (this.dtype === 'int8' && B * keep < 8) this.k.quant_rows(rows, B * keep, C, this.xq); // for the integer dot products
      this.run(OP.DOT_ROWS, [dt, rows, B * keep, C, this.head.ptr, this.head.scale, buf.logits, V, V, this.xq, this.panelTmp]);
      const n = B * keep * V;
      const src = this.f32(buf.logits, n);
      if (args.logitsOut) {
        if (args.logitsOut.length < n) throw new Error(`engine: logitsOut holds ${args.logitsOut.length} floats, the logits need ${n}`);
        result.logits = args.logitsOut.subarray(0, n);
        result.logits.set(src);
      } else result.logits = src.slice();
    }
    return result;
  }

  /**
   * x += input @ lin: fused in the matmul (MODE.ADD), or, when `hook` wants to see the output, stored into `tmp`,
   * hooked there, then added (the same float32 sum the fused add makes).
   */
  private residualAdd(input: number, M: number, lin: Linear, x: number, tmp: number, hook: ((ptr: number) => void) | null): void {
    if (!hook) {
      this.matmul(input, M, lin, x, MODE.ADD);
      return;
    }
    this.matmul(input, M, lin, tmp, MODE.STORE);
    hook(tmp);
    const n = M * lin.N;
    const xs = this.f32(x, n);
    const ys = this.f32(tmp, n);
    for (let i = 0; i < n; i++) xs[i] = xs[i]! + ys[i]!;
  }

  /**
   * After a write hook on the attention pattern: z = pattern @ values again for the rows (b, h, i) whose
   * probabilities changed, from the cached values of `layer` ([B, capacity, C] in engine memory), into `att`.
   */
  private reweigh(before: Float32Array, after: Float32Array, B: number, T: number, Tk: number, cache: EngineCache, layer: number, att: number): void {
    const { n_embd: C, n_head: nh } = this.config;
    const hs = C / nh;
    const values = this.f32(cache.values[layer]!, B * cache.capacity * C);
    const map = cache.map !== 0 ? this.i32(cache.map, B * cache.capacity) : null;
    const z = this.f32(att, B * T * C);
    const acc = new Float64Array(hs);
    for (let r = 0; r < B * nh * T; r++) {
      let changed = false;
      for (let j = r * Tk; j < (r + 1) * Tk && !changed; j++) changed = before[j] !== after[j] && !(before[j] !== before[j] && after[j] !== after[j]);
      if (!changed) continue;
      const i = r % T;
      const bh = (r - i) / T;
      const b = Math.floor(bh / nh);
      const h = bh % nh;
      acc.fill(0);
      for (let j = 0; j < Tk; j++) {
        const p = after[r * Tk + j]!;
        if (p === 0) continue;
        const v = ((map ? map[b * cache.capacity + j]! : b) * cache.capacity + j) * C + h * hs; // through the row map
        for (let d = 0; d < hs; d++) acc[d] += p * values[v + d]!;
      }
      const o = (b * T + i) * C + h * hs;
      for (let d = 0; d < hs; d++) z[o + d] = acc[d]!;
    }
  }

  /**
   * ln_f then the LM head over `rows` rows of the residual stream, hidden [rows, n_embd] -> logits [rows, vocab_size]:
   * the end of forward() on rows taken from anywhere (the logit lens reads every layer this way). The vocabulary is
   * split between the threads, and the head is stored as `dtype`, as in forward().
   */
  unembed(hidden: Float32Array, rows: number): Float32Array {
    if (this.disposed) throw new Error('engine: used after dispose()');
    const { n_embd: C, vocab_size: V, layer_norm_epsilon: eps } = this.config;
    if (!Number.isInteger(rows) || rows < 0 || hidden.length !== rows * C) {
      throw new Error(`engine: unembed wants ${rows} rows of n_embd ${C} (${rows * C} values), got ${hidden.length}`);
    }
    if (rows === 0) return new Float32Array(0);
    const buf = this.carve({ x: rows * C, h: rows * C, logits: rows * V });
    this.f32(buf.x, rows * C).set(hidden);
    this.k.layernorm(buf.x, rows, C, this.ln_f.g, this.ln_f.b, eps, buf.h);
    if (this.dtype === 'int8' && rows < 8) this.k.quant_rows(buf.h, rows, C, this.xq); // for the integer dot products
    this.run(OP.DOT_ROWS, [DTYPE_CODE[this.dtype], buf.h, rows, C, this.head.ptr, this.head.scale, buf.logits, V, V, this.xq, this.panelTmp]);
    return this.f32(buf.logits, rows * V).slice();
  }

  /**
   * RowStats (src/model/row-stats.ts) of `rows` rows of `n` logits, by the row_stats kernel: the rows are copied
   * into engine memory (scratch, free between forward passes), the kernel returns max, Σ exp(x - max), argmax and
   * the non-finite check per row, and lse = max + log(sum) is taken here (Math.log, as the reference).
   */
  rowStats(data: Float32Array, rows: number, n: number, out: RowStats): void {
    if (this.disposed) throw new Error('engine: used after dispose()');
    checkRowStatsArgs(data, rows, n, out);
    if (rows === 0) return;
    const buf = this.carve({ x: rows * n, stats: rows * 8 });
    this.f32(buf.x, rows * n).set(data.subarray(0, rows * n));
    this.k.row_stats(buf.x, rows, n, buf.stats);
    const s = new Float64Array(this.memory.buffer, buf.stats, rows * 4);
    for (let r = 0; r < rows; r++) {
      const max = s[4 * r]!;
      out.max[r] = max;
      out.lse[r] = max === Infinity || max === -Infinity ? max : max + Math.log(s[4 * r + 1]!);
      out.argmax[r] = s[4 * r + 2]!;
      out.bad[r] = s[4 * r + 3]!;
    }
  }

  /** Threads that compute from now on: 1..threads (the others stay idle); benchmarks compare 1 and N this way. */
  setActiveThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.threads) throw new Error(`engine: active threads must be 1..${this.threads}, got ${n}`);
    this.i32(this.ctrl, CTRL.WORDS)[CTRL.THREADS] = n;
  }

  /** Threads that compute now (see setActiveThreads). */
  get activeThreads(): number {
    return this.i32(this.ctrl, CTRL.WORDS)[CTRL.THREADS]!;
  }

  /**
   * Memory read bandwidth in bytes/s, measured on the active threads with a plain SIMD sum over the weights
   * (the ceiling a decode step, which streams every weight once, can approach). Best of `repeats`.
   */
  probeBandwidth(repeats = 5): number {
    const base = PAGE + ALIGN * 2; // the first weights (after the control block)
    const bytes = Math.floor(Math.min(this.weightBytes, this.arena.top - base) / 64) * 64;
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      this.run(OP.STREAM, [base, bytes]);
      best = Math.min(best, performance.now() - t0);
    }
    return bytes / (best / 1000);
  }

  /** Copies out one layer's cached keys or values: [batch, length, n_embd] (row b as its row map says). */
  readCache(cache: EngineCache, layer: number, which: 'keys' | 'values'): Float32Array {
    const { batch: B, capacity: cap, length: L } = cache;
    const C = this.config.n_embd;
    const out = new Float32Array(B * L * C);
    const src = this.f32(cache[which][layer]!, B * cap * C);
    if (cache.map === 0) {
      for (let b = 0; b < B; b++) out.set(src.subarray(b * cap * C, (b * cap + L) * C), b * L * C);
      return out;
    }
    const map = this.i32(cache.map, B * cap);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L; t++) {
        const s = (map[b * cap + t]! * cap + t) * C;
        out.set(src.subarray(s, s + C), (b * L + t) * C);
      }
    }
    return out;
  }

  /**
   * Overwrites one layer's cached keys or values from [batch, length, n_embd] (length <= capacity). The cache must
   * have no row map (clearMap() first: its rows are then the physical rows this writes).
   */
  writeCache(cache: EngineCache, layer: number, which: 'keys' | 'values', data: Float32Array, length: number): void {
    if (cache.map !== 0) throw new Error('engine: writeCache on a reordered cache (it has a row map): clearMap() it first, then write every layer');
    const C = this.config.n_embd;
    const dst = this.f32(cache[which][layer]!, cache.batch * cache.capacity * C);
    for (let b = 0; b < cache.batch; b++) dst.set(data.subarray(b * length * C, (b + 1) * length * C), b * cache.capacity * C);
  }

  /** Stops the worker threads. The engine cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.threads > 1) {
      const ctl = this.i32(this.ctrl, CTRL.WORDS);
      ctl[CTRL.OP] = OP.EXIT;
      Atomics.store(ctl, CTRL.DONE, 0);
      Atomics.add(ctl, CTRL.SEQ, 1);
      Atomics.notify(ctl, CTRL.SEQ);
    }
    for (const w of this.workers) w.terminate();
  }
}

// The engine behind the model's backend seam (src/model/backend.ts): `model.backend = await WasmBackend.create(
// model.config, model.weights, { dtype, threads, spawn })`, or `useWasmBackend(model, options)`.
//
// The model's KVCache (Float32Arrays, [B, n_head, capacity, head_dim] per layer) stays the source of truth, so
// its reorder/select/expand/clone (beam search) and toTensors keep working: each call copies this step's keys and
// values into it (a few KB per decoded token). The engine attends over a mirror of that cache in wasm memory. A
// mirror remembers the cache's `version` and length when it last matched: when only reorders happened since
// (beam search: one per step), it replays them on the mirror's row map (cache.rowsSince: the composed row list;
// WasmEngine.reorderCache: B x length integers, no float moves);
// when the cache was only cropped, it shortens itself (activation patching reuses one cache this way);
// otherwise (another backend wrote to the cache, too many reorders, the batch size changed) it is re-uploaded.
// Hidden states, attention probabilities, and the captures and write hooks at the hook points the engine stops at
// itself (ENGINE_HOOKS: the residual stream, ln1/ln2, attn.hook_pattern, attn.hook_z, hook_attn_out, mlp.hook_post,
// hook_mlp_out, ln_final) come from the engine; a request that captures or edits any other hook point is answered
// by the reference path (gpt2Forward), whole.
import type { BackendRequest, BackendResult, ForwardBackend } from '../model/backend.js';
import { gpt2Forward } from '../model/gpt2.js';
import { hookNames, runHook } from '../model/hooks.js';
import type { KVCache } from '../model/kv-cache.js';
import type { RowStats } from '../model/row-stats.js';
import type { GPT2Config, GPT2Weights, Tensor } from '../model/types.js';
import type { BackendLoader } from '../model/model.js';
import { readWeightsAsync, type WeightReader } from '../model/weight-reader.js';
import { type EngineCache, type EngineOptions, type EngineTap, engineRunsHook, WasmEngine } from './engine.js';

/** What the mirror of a KVCache last matched: its version, length and batch. */
interface Mirror {
  cache: EngineCache;
  version: number;
  /** the cache's `writes` then: positions written by anyone else since mean a re-upload */
  writes: number;
  length: number;
  batch: number;
}

export class WasmBackend implements ForwardBackend {
  readonly name: string;
  readonly threads: number;
  /** how many times a mirror was re-uploaded with stored positions (a whole cache converted and copied in) */
  cacheUploads = 0;
  /** how many times a mirror replayed the cache's reorders on its row map instead (the fast path: no float moves) */
  cacheReorders = 0;
  /** how many times a mirror followed a crop of the cache by shortening itself (no copy) */
  cacheCrops = 0;
  private readonly mirrors = new WeakMap<KVCache, Mirror>();
  private readonly finalizer: FinalizationRegistry<Mirror>;
  /** writeBack's keys and values of the new positions, [B, n_head, T, head_dim], reused between steps */
  private kvScratch = { k: new Float32Array(0), v: new Float32Array(0) };

  private constructor(
    readonly engine: WasmEngine,
    private readonly weights: GPT2Weights,
  ) {
    this.threads = engine.threads;
    this.name = `wasm simd (${engine.dtype}, ${engine.threads} thread${engine.threads > 1 ? 's' : ''})`;
    this.finalizer = new FinalizationRegistry((m) => this.freeMirror(m));
  }

  /** Copies `weights` into a new engine (see EngineOptions: dtype, threads, spawn) and wraps it as a backend. */
  static async create(config: GPT2Config, weights: GPT2Weights, options: EngineOptions = {}): Promise<WasmBackend> {
    return new WasmBackend(await WasmEngine.create(config, weights, options), weights);
  }

  /**
   * Reads a checkpoint (or random model) straight into a new engine and returns the backend with the weights the
   * model keeps. fp32: the engine's memory is the only copy, and the model's weights read from it
   * (WasmEngine.weightsView). fp16 / int8: the engine holds rounded weights, so the model keeps the float32 ones
   * (read into Float32Arrays first), for the reference path a hook may fall back to.
   */
  static async load(reader: WeightReader, options: EngineOptions = {}): Promise<{ backend: WasmBackend; weights: GPT2Weights }> {
    if ((options.dtype ?? 'fp32') !== 'fp32') {
      const weights = await readWeightsAsync(reader);
      return { backend: await WasmBackend.create(reader.config, weights, options), weights };
    }
    const engine = await WasmEngine.create(reader.config, reader, options);
    const weights = engine.weightsView();
    return { backend: new WasmBackend(engine, weights), weights };
  }

  forward(config: GPT2Config, weights: GPT2Weights, req: BackendRequest): BackendResult {
    if (weights !== this.weights) throw new Error(`backend "${this.name}" was built for other weights: create one per model`);
    const captured = req.capture ? hookNames(config).filter((n) => req.capture!(n)) : [];
    const edited = req.hooks ? Object.keys(req.hooks) : [];
    if (!captured.every(engineRunsHook) || !edited.every(engineRunsHook)) return gpt2Forward(config, weights, req);

    const B = req.input_ids.length;
    const T = req.input_ids[0]!.length;
    const { n_embd: C, vocab_size: V } = config;
    const cache = req.cache ? this.mirror(req.cache, T) : null;
    const past = cache ? cache.length : 0;
    const saved = new Map<string, Tensor>();
    let tap: EngineTap | null = null;
    if (captured.length > 0 || edited.length > 0) {
      const wanted = new Set(captured);
      const hooks = edited.length > 0 ? req.hooks! : null;
      tap = {
        touches: (name) => wanted.has(name) || (hooks !== null && hooks[name] !== undefined),
        run: (name, value, dims) => {
          const out = runHook(hooks, name, value, dims, past, 'engine');
          if (wanted.has(name)) saved.set(name, { data: out.slice(), dims });
          return out;
        },
      };
    }
    const keep = !req.lm_head ? -1 : req.num_logits_to_keep > 0 ? Math.min(req.num_logits_to_keep, T) : T;
    const out = this.engine.forward({
      ids: req.input_ids.flat(),
      positions: req.position_ids.flat(),
      mask: req.attention_mask ? req.attention_mask.flat() : null,
      batch: B,
      cache,
      keep,
      hiddenStates: req.output_hidden_states,
      attentions: req.output_attentions,
      tap,
      logitsOut: req.logits_out ?? null,
    });
    if (req.cache && cache) this.writeBack(req.cache, cache, past, T);

    const result: BackendResult = { last_hidden_state: { data: out.hidden, dims: [B, T, C] } };
    if (out.logits) result.logits = { data: out.logits, dims: [B, keep, V] };
    const hidden = out.hiddenStates?.map((data): Tensor => ({ data, dims: [B, T, C] }));
    const attentions = out.attentions?.map((data): Tensor => ({ data, dims: [B, config.n_head, T, past + T] }));
    if (req.output_hidden_states) result.hidden_states = hidden;
    if (req.output_attentions) result.attentions = attentions;
    if (req.capture) result.cache = new Map(captured.filter((n) => saved.has(n)).map((n) => [n, saved.get(n)!])); // forward order
    return result;
  }

  /** ln_f and the LM head over `rows` rows of the residual stream, [rows, n_embd] -> [rows, vocab_size], in the engine. */
  unembed(config: GPT2Config, weights: GPT2Weights, hidden: Float32Array, rows: number): Float32Array {
    if (weights !== this.weights) throw new Error(`backend "${this.name}" was built for other weights: create one per model`);
    return this.engine.unembed(hidden, rows);
  }

  /** RowStats of logits rows (src/model/row-stats.ts) by the engine's row_stats kernel. */
  rowStats(data: Float32Array, rows: number, n: number, out: RowStats): void {
    this.engine.rowStats(data, rows, n, out);
  }

  /**
   * The engine cache mirroring `kv`, with room for T more positions. Up to date when kv's version and length are
   * the ones it last matched (not its buffers: reorder swaps between two sets, so A -> B -> A looks unchanged);
   * when only reorders happened since, they are replayed on its row map (WasmEngine.reorderCache: no float moves);
   * otherwise it is re-uploaded.
   * Its capacity follows the model cache's (which grows by doubling), so that short requests stay small.
   */
  private mirror(kv: KVCache, T: number): EngineCache {
    let m = this.mirrors.get(kv);
    const need = kv.length + T;
    const grown = (): number => Math.min(kv.max_positions, Math.max(need, kv.capacity, 2 * (m?.cache.capacity ?? 0)));
    if (m && m.writes !== kv.writes) m.version = -1; // another backend wrote positions: upload below
    if (m && m.version === kv.version && m.batch === kv.batch && kv.length < m.length && need <= m.cache.capacity) {
      // only a crop since (KVCache.crop): the mirror's first kv.length positions are still the cache's
      m.cache.length = m.length = kv.length;
      this.cacheCrops++;
      return m.cache;
    }
    if (m && m.length === kv.length && m.batch === kv.batch) {
      const fits = need <= m.cache.capacity;
      if (m.version === kv.version && fits) return m.cache;
      const rows = kv.rowsSince(m.version); // [0, 1, ...] when only the capacity is short
      if (rows && rows.length === m.batch) {
        if (!fits) {
          // grow: the physical rows and the row map are copied as they are (once per doubling)
          const bigger = this.engine.resizeCache(m.cache, grown());
          this.engine.freeCache(m.cache);
          m.cache = bigger;
        }
        if (m.version !== kv.version) {
          this.engine.reorderCache(m.cache, rows);
          this.cacheReorders++;
        }
        m.version = kv.version;
        return m.cache;
      }
    }
    if (!m || m.batch !== kv.batch || need > m.cache.capacity) {
      const capacity = grown();
      if (m) {
        this.finalizer.unregister(m);
        this.freeMirror(m);
      }
      const cache = this.engine.newCache(kv.batch, capacity);
      m = { cache, version: -1, writes: -1, length: -1, batch: kv.batch };
      this.mirrors.set(kv, m);
      this.finalizer.register(kv, m, m);
    }
    // Upload: [B, n_head, capacity, hs] per layer -> the engine's [B, length, C]
    const { n_head: nh, head_dim: hs, length: L, batch: B } = kv;
    const C = nh * hs;
    if (L > 0) this.cacheUploads++;
    this.engine.clearMap(m.cache); // every row is written whole below: row b is physical row b again
    const tmp = new Float32Array(B * L * C);
    for (let l = 0; l < kv.n_layer; l++) {
      for (const which of ['keys', 'values'] as const) {
        const src = kv[which][l]!;
        for (let b = 0; b < B; b++) {
          for (let h = 0; h < nh; h++) {
            for (let t = 0; t < L; t++) {
              const s = kv.offset(b, h, t);
              tmp.set(src.subarray(s, s + hs), (b * L + t) * C + h * hs);
            }
          }
        }
        this.engine.writeCache(m.cache, l, which, tmp, L);
      }
    }
    m.cache.length = L;
    m.version = kv.version;
    m.writes = kv.writes;
    m.length = L;
    return m.cache;
  }

  /** Gives a mirror's engine cache back to the engine. */
  private freeMirror(m: Mirror): void {
    this.engine.freeCache(m.cache);
  }

  /**
   * Copies the T new positions of every layer from the engine into `kv` ([B, n_head, T, hs]) and advances it.
   * Once per decode step: the keys and values go through two reused scratch arrays with plain index loops (a
   * subarray view per head and layer made ~1,200 objects a step at batch 4, ~1 ms of a 35 ms step).
   */
  private writeBack(kv: KVCache, cache: EngineCache, past: number, T: number): void {
    const { n_head: nh, head_dim: hs, batch: B } = kv;
    const C = nh * hs;
    const n = B * nh * T * hs;
    if (this.kvScratch.k.length < n) this.kvScratch = { k: new Float32Array(n), v: new Float32Array(n) };
    const k = this.kvScratch.k.subarray(0, n);
    const v = this.kvScratch.v.subarray(0, n);
    const heap = new Float32Array(this.engine.memory.buffer); // one view for every layer: nothing allocates in between
    for (let l = 0; l < kv.n_layer; l++) {
      const ks = cache.keys[l]! / 4; // byte address -> float index (not >> 2: addresses reach 4 GiB, past int32)
      const vs = cache.values[l]! / 4;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          // slot past+t of row b: [C], heads side by side (a new slot is in its own row, whatever the row map says)
          const src = (b * cache.capacity + past + t) * C;
          for (let h = 0; h < nh; h++) {
            const dst = ((b * nh + h) * T + t) * hs;
            const from = src + h * hs;
            for (let d = 0; d < hs; d++) {
              k[dst + d] = heap[ks + from + d]!;
              v[dst + d] = heap[vs + from + d]!;
            }
          }
        }
      }
      kv.write(l, k, v, T);
    }
    kv.advance(T);
    const m = this.mirrors.get(kv)!;
    m.version = kv.version;
    m.writes = kv.writes;
    m.length = kv.length;
  }

  /** Stops the engine's worker threads; the backend cannot be used afterwards. */
  dispose(): void {
    this.engine.dispose();
  }
}

/**
 * from_pretrained's `backendLoader` for the engine: `GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader:
 * engineLoader({ dtype: 'fp32' }) })` writes each tensor straight into engine memory (WasmBackend.load).
 */
export function engineLoader(options: EngineOptions = {}): BackendLoader {
  return (reader) => WasmBackend.load(reader, options);
}

/** Puts a WasmBackend behind `model` (anything with config, weights and a backend), and returns it. */
export async function useWasmBackend(model: { config: GPT2Config; weights: GPT2Weights; backend: ForwardBackend }, options: EngineOptions = {}): Promise<WasmBackend> {
  const backend = await WasmBackend.create(model.config, model.weights, options);
  model.backend = backend;
  return backend;
}

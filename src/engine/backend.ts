// The engine behind the model's backend seam (src/model/backend.ts): `model.backend = await WasmBackend.create(
// model.config, model.weights, { dtype, threads, spawn })`, or `useWasmBackend(model, options)`.
//
// The model's KVCache (Float32Arrays, [B, n_head, capacity, head_dim] per layer) stays the source of truth, so
// its reorder/select/expand/clone (beam search) and toTensors keep working: each call copies this step's keys and
// values into it (a few KB per decoded token). The engine attends over a mirror of that cache in wasm memory; a
// mirror that no longer matches (the cache was reordered, cloned or written by another backend) is re-uploaded.
// Hidden states and attention probabilities come from the engine; hook captures are answered by the reference path.
import type { BackendRequest, BackendResult, ForwardBackend } from '../model/backend.js';
import { gpt2Forward } from '../model/gpt2.js';
import type { KVCache } from '../model/kv-cache.js';
import type { GPT2Config, GPT2Weights } from '../model/types.js';
import { type EngineCache, type EngineOptions, WasmEngine } from './engine.js';

/** What the mirror of a KVCache last matched: its buffers, length and batch. */
interface Mirror {
  cache: EngineCache;
  keys0: Float32Array | undefined;
  length: number;
  batch: number;
}

export class WasmBackend implements ForwardBackend {
  readonly name: string;
  readonly threads: number;
  private readonly mirrors = new WeakMap<KVCache, Mirror>();
  private readonly finalizer: FinalizationRegistry<EngineCache>;

  private constructor(
    readonly engine: WasmEngine,
    private readonly weights: GPT2Weights,
  ) {
    this.threads = engine.threads;
    this.name = `wasm simd (${engine.dtype}, ${engine.threads} thread${engine.threads > 1 ? 's' : ''})`;
    this.finalizer = new FinalizationRegistry((c) => engine.freeCache(c));
  }

  /** Copies `weights` into a new engine (see EngineOptions: dtype, threads, spawn) and wraps it as a backend. */
  static async create(config: GPT2Config, weights: GPT2Weights, options: EngineOptions = {}): Promise<WasmBackend> {
    return new WasmBackend(await WasmEngine.create(config, weights, options), weights);
  }

  forward(config: GPT2Config, weights: GPT2Weights, req: BackendRequest): BackendResult {
    if (weights !== this.weights) throw new Error(`backend "${this.name}" was built for other weights: create one per model`);
    if (req.capture) return gpt2Forward(config, weights, req);

    const B = req.input_ids.length;
    const T = req.input_ids[0]!.length;
    const { n_embd: C, vocab_size: V } = config;
    const cache = req.cache ? this.mirror(req.cache, T) : null;
    const past = cache ? cache.length : 0;
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
    });
    if (req.cache && cache) this.writeBack(req.cache, cache, past, T);

    const result: BackendResult = { last_hidden_state: { data: out.hidden, dims: [B, T, C] } };
    if (out.logits) result.logits = { data: out.logits, dims: [B, keep, V] };
    if (out.hiddenStates) result.hidden_states = out.hiddenStates.map((data) => ({ data, dims: [B, T, C] }));
    if (out.attentions) result.attentions = out.attentions.map((data) => ({ data, dims: [B, config.n_head, T, past + T] }));
    return result;
  }

  /**
   * The engine cache mirroring `kv`, with room for T more positions; re-uploaded when it no longer matches.
   * Its capacity follows the model cache's (which grows by doubling), so that short requests stay small.
   */
  private mirror(kv: KVCache, T: number): EngineCache {
    let m = this.mirrors.get(kv);
    const need = kv.length + T;
    if (m && m.keys0 === kv.keys[0] && m.length === kv.length && m.batch === kv.batch && need <= m.cache.capacity) return m.cache;
    if (!m || m.batch !== kv.batch || need > m.cache.capacity) {
      if (m) {
        this.finalizer.unregister(m);
        this.engine.freeCache(m.cache);
      }
      const capacity = Math.min(kv.max_positions, Math.max(need, kv.capacity, 2 * (m?.cache.capacity ?? 0)));
      const cache = this.engine.newCache(kv.batch, capacity);
      m = { cache, keys0: undefined, length: -1, batch: kv.batch };
      this.mirrors.set(kv, m);
      this.finalizer.register(kv, cache, m);
    }
    // Upload: [B, n_head, capacity, hs] per layer -> the engine's [B, length, C]
    const { n_head: nh, head_dim: hs, length: L, batch: B } = kv;
    const C = nh * hs;
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
    m.keys0 = kv.keys[0];
    m.length = L;
    return m.cache;
  }

  /** Copies the T new positions of every layer from the engine into `kv` ([B, n_head, T, hs]) and advances it. */
  private writeBack(kv: KVCache, cache: EngineCache, past: number, T: number): void {
    const { n_head: nh, head_dim: hs, batch: B } = kv;
    const C = nh * hs;
    const k = new Float32Array(B * nh * T * hs);
    const v = new Float32Array(B * nh * T * hs);
    for (let l = 0; l < kv.n_layer; l++) {
      const ks = this.engine.f32(cache.keys[l]!, B * cache.capacity * C);
      const vs = this.engine.f32(cache.values[l]!, B * cache.capacity * C);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const src = (b * cache.capacity + past + t) * C; // slot past+t of row b: [C]
          for (let h = 0; h < nh; h++) {
            const dst = ((b * nh + h) * T + t) * hs;
            k.set(ks.subarray(src + h * hs, src + (h + 1) * hs), dst);
            v.set(vs.subarray(src + h * hs, src + (h + 1) * hs), dst);
          }
        }
      }
      kv.write(l, k, v, T);
    }
    kv.advance(T);
    const m = this.mirrors.get(kv)!;
    m.keys0 = kv.keys[0];
    m.length = kv.length;
  }

  /** Stops the engine's worker threads; the backend cannot be used afterwards. */
  dispose(): void {
    this.engine.dispose();
  }
}

/** Puts a WasmBackend behind `model` (anything with config, weights and a backend), and returns it. */
export async function useWasmBackend(model: { config: GPT2Config; weights: GPT2Weights; backend: ForwardBackend }, options: EngineOptions = {}): Promise<WasmBackend> {
  const backend = await WasmBackend.create(model.config, model.weights, options);
  model.backend = backend;
  return backend;
}

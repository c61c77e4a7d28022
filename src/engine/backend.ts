// The engine behind the model's backend seam (src/model/backend.ts): `model.backend = await WasmBackend.create(
// model.config, model.weights, { dtype, threads, spawn })`, or `useWasmBackend(model, options)`.
//
// The model's KVCache (Float32Arrays, [B, n_head, capacity, head_dim] per layer) stays the source of truth, so
// its reorder/select/expand/clone (beam search) and toTensors keep working: each call copies this step's keys and
// values into it (a few KB per decoded token). The engine attends over a mirror of that cache in wasm memory; a
// mirror that no longer matches (the cache was reordered, cloned or written by another backend) is re-uploaded.
// Hidden states, attention probabilities and the hooks made of them (hook_resid_pre/post, attn.hook_pattern,
// ln_final.hook_normalized: what the logit lens and the explorer read) come from the engine; other hook captures
// are answered by the reference path.
import type { BackendRequest, BackendResult, ForwardBackend } from '../model/backend.js';
import { gpt2Forward } from '../model/gpt2.js';
import { hookNames } from '../model/hooks.js';
import type { KVCache } from '../model/kv-cache.js';
import type { GPT2Config, GPT2Weights, Tensor } from '../model/types.js';
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
    const hooks = req.capture ? this.engineHooks(config, req.capture) : null;
    if (req.capture && !hooks) return gpt2Forward(config, weights, req);
    const wantPattern = hooks?.some((n) => n.endsWith('attn.hook_pattern')) ?? false;

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
      hiddenStates: req.output_hidden_states || hooks !== null,
      attentions: req.output_attentions || wantPattern,
    });
    if (req.cache && cache) this.writeBack(req.cache, cache, past, T);

    const result: BackendResult = { last_hidden_state: { data: out.hidden, dims: [B, T, C] } };
    if (out.logits) result.logits = { data: out.logits, dims: [B, keep, V] };
    const hidden = out.hiddenStates?.map((data): Tensor => ({ data, dims: [B, T, C] }));
    const attentions = out.attentions?.map((data): Tensor => ({ data, dims: [B, config.n_head, T, past + T] }));
    if (req.output_hidden_states) result.hidden_states = hidden;
    if (req.output_attentions) result.attentions = attentions;
    if (hooks) {
      // TransformerLens names over HF's hidden states: block i's input, its output (the next block's input, or
      // for the last block the residual before ln_f), its attention pattern, ln_f's output
      const L = config.n_layer;
      const tensor = (name: string): Tensor => {
        const m = /^blocks\.(\d+)\.(hook_resid_pre|hook_resid_post|attn\.hook_pattern)$/.exec(name);
        if (!m) return hidden![L]!; // ln_final.hook_normalized
        const i = Number(m[1]);
        if (m[2] === 'hook_resid_pre') return hidden![i]!;
        if (m[2] === 'attn.hook_pattern') return attentions![i]!;
        return i + 1 < L ? hidden![i + 1]! : { data: out.residual!, dims: [B, T, C] };
      };
      result.cache = new Map(hooks.map((n) => [n, tensor(n)]));
    }
    return result;
  }

  /** ln_f and the LM head over `rows` rows of the residual stream, [rows, n_embd] -> [rows, vocab_size], in the engine. */
  unembed(config: GPT2Config, weights: GPT2Weights, hidden: Float32Array, rows: number): Float32Array {
    if (weights !== this.weights) throw new Error(`backend "${this.name}" was built for other weights: create one per model`);
    return this.engine.unembed(hidden, rows);
  }

  /** The hook names `capture` wants, when the engine can give them all; null when one needs the reference path. */
  private engineHooks(config: GPT2Config, capture: (name: string) => boolean): string[] | null {
    const wanted = hookNames(config).filter((n) => capture(n));
    const fromEngine = (n: string): boolean => n === 'ln_final.hook_normalized' || /^blocks\.\d+\.(hook_resid_pre|hook_resid_post|attn\.hook_pattern)$/.test(n);
    return wanted.every(fromEngine) ? wanted : null;
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

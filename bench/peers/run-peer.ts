// One peer of `npm run bench -- peers`, in a process of its own (so that its peak RSS is its own):
//   node --import tsx bench/peers/run-peer.ts PEER THREADS MODEL_DIR OUT_PREFIX [--quick]
// PEER: gpt2-lens (our engine on random:gpt2) | onnxruntime-node | transformers.js (both on MODEL_DIR's ONNX export
// of the same weights). Runs the protocol below, writes OUT_PREFIX.json (figures) and OUT_PREFIX.f32 (the logits of
// the 8-token prompt at every position, for the parent's comparison).
// The peers are imported by name from bench/peers/node_modules (installed by bench/peers.ts), so they are typed
// here by the little of their API this file uses.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROMPT = [464, 4583, 286, 44449, 318, 257, 1332, 13]; // 8 tokens
export const LONG = Array.from({ length: 128 }, (_, i) => (i * 131 + 7) % 50257);
export const NEW_TOKENS = 128;
export const PEERS = ['gpt2-lens', 'onnxruntime-node', 'transformers.js'] as const;
export type PeerName = (typeof PEERS)[number];

/** What a peer run reports (OUT_PREFIX.json). */
export interface PeerResult {
  peer: PeerName;
  version: string;
  threads: number;
  loadMs: number;
  forward8Ms: number;
  forward128Ms: number;
  /** tokens/s summed over the batch's rows, end to end (prompt included), one run of NEW_TOKENS new tokens */
  generate1: number;
  generate4: number;
  /** the batch-1 greedy continuation, for the parent to compare */
  tokens1: number[];
  /** true when the 4 rows of batch 4 continued exactly like batch 1 */
  batch4SameAsBatch1: boolean;
  peakRssMB: number;
}

/** A peer, as the protocol drives it. */
interface Peer {
  version: string;
  /** logits at every position of one sequence, no cache: [T * vocab] */
  forward(ids: number[]): Promise<Float32Array>;
  /** greedy: `n` new tokens for each of `batch` copies of `prompt`; the new tokens per row */
  generate(prompt: number[], batch: number, n: number): Promise<number[][]>;
}

// ---- the peers' APIs, as far as used here ----
export interface OrtTensor {
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}
export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
export interface Ort {
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
}
interface TfjsTensor {
  data: Float32Array | BigInt64Array;
  dims: number[];
}
interface TfjsModel {
  (inputs: Record<string, TfjsTensor>): Promise<{ logits: TfjsTensor }>;
  generate(options: Record<string, unknown>): Promise<TfjsTensor>;
}
interface Tfjs {
  env: { localModelPath: string; allowRemoteModels: boolean; allowLocalModels: boolean; version: string };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: number[]) => TfjsTensor;
  AutoModelForCausalLM: { from_pretrained(id: string, options: Record<string, unknown>): Promise<TfjsModel> };
}

const importPeer = async <T>(name: string): Promise<T> => (await import(name)) as T; // by a variable: tsc must not resolve it
const peerVersion = (pkg: string): string => (JSON.parse(readFileSync(join(import.meta.dirname, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

function argmaxRow(data: Float32Array, offset: number, V: number): number {
  let best = offset;
  for (let i = offset + 1; i < offset + V; i++) if (data[i]! > data[best]!) best = i;
  return best - offset;
}

const int64 = (v: readonly number[]): BigInt64Array => BigInt64Array.from(v, (x) => BigInt(x));

async function gpt2Lens(threads: number): Promise<Peer> {
  const { GPT2LMHeadModel } = await import('../../src/model/index.js');
  const { nodeEngineLoader } = await import('../../src/node/threads.js');
  // loaded as `gpt2-lens generate` loads it: each tensor straight into engine memory (no second JS copy)
  const model = await GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: nodeEngineLoader({ threads }) });
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return {
    version: pkg.version,
    forward: async (ids) => (await model.forward({ input_ids: [ids], use_cache: false })).logits.data,
    generate: async (prompt, batch, n) => {
      const out = await model.generate({ input_ids: Array.from({ length: batch }, () => prompt), max_new_tokens: n, min_new_tokens: n, pad_token_id: model.config.eos_token_id, on_warning: () => {} });
      return out.sequences.map((s) => s.slice(prompt.length));
    },
  };
}

/**
 * One forward of the ONNX decoder (optimum's interface) as a user of onnxruntime writes it: `ids` [B][T] after
 * `past` positions whose keys and values are the `present.*` outputs of the previous call (`cache`; null: none).
 */
export function ortDecoder(ort: Ort, session: OrtSession, config: { n_layer: number; n_head: number; n_embd: number }) {
  const { n_layer: L, n_head: H } = config;
  const D = config.n_embd / H;
  return (ids: number[][], past: number, cache: Record<string, OrtTensor> | null): Promise<Record<string, OrtTensor>> => {
    const B = ids.length;
    const T = ids[0]!.length;
    const feeds: Record<string, OrtTensor> = {
      input_ids: new ort.Tensor('int64', int64(ids.flat()), [B, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(B * (past + T)).fill(1n), [B, past + T]),
      position_ids: new ort.Tensor('int64', int64(Array.from({ length: B * T }, (_, i) => past + (i % T))), [B, T]),
    };
    for (let i = 0; i < L; i++) {
      for (const kv of ['key', 'value']) feeds[`past_key_values.${i}.${kv}`] = cache ? cache[`present.${i}.${kv}`]! : new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
    }
    return session.run(feeds);
  };
}

async function onnxruntime(threads: number, dir: string): Promise<Peer> {
  const ort = await importPeer<Ort>('onnxruntime-node');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { n_layer: number; n_head: number; n_embd: number; vocab_size: number };
  const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const V = config.vocab_size;
  const run = ortDecoder(ort, session, config);
  return {
    version: peerVersion('onnxruntime-node'),
    forward: async (ids) => (await run([ids], 0, null)).logits.data as Float32Array,
    generate: async (prompt, batch, n) => {
      // the loop a user of onnxruntime writes: prefill, then one token per step through the KV cache, argmax
      const rows: number[][] = Array.from({ length: batch }, () => []);
      let ids = Array.from({ length: batch }, () => prompt);
      let past = 0;
      let cache: Record<string, OrtTensor> | null = null;
      for (let s = 0; s < n; s++) {
        const out = await run(ids, past, cache);
        const T = ids[0]!.length;
        const logits = out.logits.data as Float32Array;
        ids = rows.map((r, b) => {
          const t = argmaxRow(logits, (b * T + T - 1) * V, V);
          r.push(t);
          return [t];
        });
        past += T;
        cache = out;
      }
      return rows;
    },
  };
}

async function transformersJs(threads: number, dir: string): Promise<Peer> {
  const tfjs = await importPeer<Tfjs>('@huggingface/transformers');
  tfjs.env.localModelPath = join(dir, '..');
  tfjs.env.allowRemoteModels = false;
  tfjs.env.allowLocalModels = true;
  const id = dir.split('/').at(-1)!;
  const model = await tfjs.AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  const ones = (B: number, T: number): TfjsTensor => new tfjs.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]);
  return {
    version: tfjs.env.version,
    forward: async (ids) => (await model({ input_ids: new tfjs.Tensor('int64', int64(ids), [1, ids.length]), attention_mask: ones(1, ids.length) })).logits.data as Float32Array,
    generate: async (prompt, batch, n) => {
      const T = prompt.length;
      const input_ids = new tfjs.Tensor('int64', int64(Array.from({ length: batch }, () => prompt).flat()), [batch, T]);
      const out = await model.generate({ input_ids, attention_mask: ones(batch, T), max_new_tokens: n, min_new_tokens: n, do_sample: false, num_beams: 1 });
      const W = out.dims[1]!;
      const data = out.data as BigInt64Array;
      return Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * W + T, (b + 1) * W), Number));
    },
  };
}

/** Peak resident set of this process (VmHWM; maxRSS where /proc is missing), in MB. */
function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return (Number(m[1]) * 1024) / 1e6;
  } catch {
    // not Linux: fall through
  }
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}

async function bestMs(repeats: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function main(): Promise<void> {
  const [name, threadsArg, dir, out] = process.argv.slice(2);
  const quick = process.argv.includes('--quick');
  const threads = Number(threadsArg);
  if (!PEERS.includes(name as PeerName) || !(threads >= 1) || !dir || !out) throw new Error(`usage: run-peer.ts ${PEERS.join('|')} THREADS MODEL_DIR OUT_PREFIX [--quick]`);
  const peerName = name as PeerName;
  const t0 = performance.now();
  const peer = peerName === 'gpt2-lens' ? await gpt2Lens(threads) : peerName === 'onnxruntime-node' ? await onnxruntime(threads, dir) : await transformersJs(threads, dir);
  const loadMs = performance.now() - t0;

  const check = await peer.forward(PROMPT); // also the warm-up of forward 8
  writeFileSync(`${out}.f32`, new Uint8Array(check.buffer, check.byteOffset, check.byteLength));
  const forward8Ms = await bestMs(3, () => peer.forward(PROMPT));
  await peer.forward(LONG); // warm-up
  const forward128Ms = await bestMs(quick ? 1 : 2, () => peer.forward(LONG));
  const n = quick ? 16 : NEW_TOKENS;
  await peer.generate(PROMPT, 4, 2); // warm-up of the cached path at both batch sizes
  await peer.generate(PROMPT, 1, 2);
  let t = performance.now();
  const tokens1 = (await peer.generate(PROMPT, 1, n))[0]!;
  const generate1 = n / ((performance.now() - t) / 1000);
  t = performance.now();
  const rows4 = await peer.generate(PROMPT, 4, n);
  const generate4 = (4 * n) / ((performance.now() - t) / 1000);
  const batch4SameAsBatch1 = rows4.every((r) => r.length === tokens1.length && r.every((x, i) => x === tokens1[i]));
  const result: PeerResult = { peer: peerName, version: peer.version, threads, loadMs, forward8Ms, forward128Ms, generate1, generate4, tokens1, batch4SameAsBatch1, peakRssMB: peakRssMB() };
  writeFileSync(`${out}.json`, JSON.stringify(result));
  process.exit(0); // the engine's workers and ORT's threads must not keep the process alive
}

if (process.argv[1] && import.meta.filename === process.argv[1]) await main();

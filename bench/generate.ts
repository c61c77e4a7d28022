// npm run bench -- generate [--tokens N] [--reference]: generation on random:gpt2 (the 124M shape).
//
// 1. The logits pipeline alone on 50,257 logits (a step's work outside the forward pass): repetition penalty +
//    top-k + top-p (target < 1 ms), each warper alone, sampling, beam candidate selection — each as a ratio to a
//    baseline measured in the same run: one plain JS pass summing 50,257 floats.
// 2. generate()'s own per-step work with a zero-cost model (fixed logits).
// 3. End to end: greedy and 4-beam tokens/s, and the time per step spent outside model.forward (processors,
//    sampling, beam bookkeeping, cache reorder), as a fraction of the forward time.
import { GPT2LMHeadModel } from '../src/model/index.js';
import { generate, type GenerationModel } from '../src/generation/generate.js';
import {
  LogitsProcessorList,
  MinPLogitsWarper,
  RepetitionPenaltyLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
  type LogitsProcessor,
} from '../src/generation/logits-process.js';
import { logSoftmaxInPlace, topBeamCandidates } from '../src/generation/math.js';
import { Xoshiro128, sampleFromScores } from '../src/generation/random.js';
import { newRowStats, rowStatsReference } from '../src/model/row-stats.js';

const V = 50257;

/** Logits shaped like a real model's: a few strong candidates over a normal-ish background. */
function fakeLogits(seed: number): Float32Array {
  const rng = new Xoshiro128(seed);
  const out = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    // sum of 4 uniforms ≈ normal; a heavy head: 1% of tokens get +6
    const n = rng.random() + rng.random() + rng.random() + rng.random() - 2;
    out[i] = 2 * n + (rng.random() < 0.01 ? 6 : 0);
  }
  return out;
}

/** Median milliseconds of `f` over `reps` runs, each on a fresh copy of `src` (the copy is not timed). */
function timeMs(src: Float32Array, reps: number, f: (row: Float32Array) => void): number {
  const row = new Float32Array(src.length);
  const times: number[] = [];
  for (let r = 0; r < reps + 3; r++) {
    row.set(src);
    const t = performance.now();
    f(row);
    const dt = performance.now() - t;
    if (r >= 3) times.push(dt); // 3 warm-up runs
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function processorBench(): void {
  const logits = fakeLogits(1);
  const history = Array.from({ length: 200 }, (_, i) => (i * 7919) % V);
  let sink = 0;
  const baseline = timeMs(logits, 50, (row) => {
    let s = 0;
    for (let i = 0; i < row.length; i++) s += row[i]!;
    sink += s;
  });
  const rows: Array<[string, number]> = [];
  const run = (name: string, procs: LogitsProcessor[], extra?: (row: Float32Array) => void): void => {
    const list = new LogitsProcessorList(procs);
    rows.push([
      name,
      timeMs(logits, 50, (row) => {
        list.apply(history, row);
        extra?.(row);
      }),
    ]);
  };
  const rng = new Xoshiro128(5);
  const probs = new Float64Array(V);
  run('rep. penalty 1.3 + top-k 50 + top-p 0.9 (target < 1 ms)', [new RepetitionPenaltyLogitsProcessor(1.3), new TopKLogitsWarper(50), new TopPLogitsWarper(0.9)]);
  run('  ... + temperature 0.8 + multinomial draw', [new RepetitionPenaltyLogitsProcessor(1.3), new TemperatureLogitsWarper(0.8), new TopKLogitsWarper(50), new TopPLogitsWarper(0.9)], (row) => {
    sink += sampleFromScores(row, rng, probs);
  });
  run('repetition penalty 1.3 (200-token history)', [new RepetitionPenaltyLogitsProcessor(1.3)]);
  run('temperature 0.8', [new TemperatureLogitsWarper(0.8)]);
  run('top-k 50', [new TopKLogitsWarper(50)]);
  run('top-p 0.9 alone (no top-k before)', [new TopPLogitsWarper(0.9)]);
  run('min-p 0.05', [new MinPLogitsWarper(0.05)]);
  run('typical 0.9', [new TypicalLogitsWarper(0.9)]);
  rows.push(['log_softmax (a beam row)', timeMs(logits, 50, (row) => logSoftmaxInPlace(row))]);
  const four = new Float32Array(4 * V);
  for (let b = 0; b < 4; b++) four.set(logits, b * V);
  const beamScores = new Float32Array([0, -0.5, -1, -1.5]);
  const topIndex = new Int32Array(8);
  const topScore = new Float32Array(8);
  rows.push(['beam: the 8 best of 4 × 50,257 candidate sums', timeMs(four, 50, (row) => (sink += topBeamCandidates(row, 0, 4, V, beamScores, 8, topIndex, topScore)))]);
  console.log(`\nlogits pipeline on ${V.toLocaleString('en')} logits (median of 50; baseline: one plain pass summing them = ${fmt(baseline)})`);
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(58)} ${fmt(ms).padStart(9)}   ${(ms / baseline).toFixed(1).padStart(6)}× baseline`);
  if (sink === 42.4242) console.log('');
}

/** Wraps a model so that the time spent inside forward() is counted. */
function timed(model: GPT2LMHeadModel): { m: GenerationModel; forwardMs: () => number; calls: () => number } {
  let ms = 0;
  let n = 0;
  const m: GenerationModel = {
    config: model.config,
    generation_config: model.generation_config,
    forward: async (inputs) => {
      const t = performance.now();
      const r = await model.forward(inputs);
      ms += performance.now() - t;
      n++;
      return r;
    },
    rowStats: (data, rows, n, out) => model.rowStats(data, rows, n, out), // the backend's kernel, as generate(model) gets
  };
  return { m, forwardMs: () => ms, calls: () => n };
}

/** generate()'s own per-step cost: a model that returns fixed 50,257 logits instantly (no KV cache to reorder). */
async function bookkeepingBench(): Promise<void> {
  const logits = fakeLogits(2);
  const fixed: GenerationModel = {
    config: { vocab_size: V, n_positions: 1 << 20 },
    generation_config: {},
    async forward(inputs) {
      const B = inputs.input_ids.length;
      const data = new Float32Array(B * V);
      for (let b = 0; b < B; b++) data.set(logits, b * V);
      return { logits: { data, dims: [B, 1, V] } };
    },
  };
  const steps = 64;
  console.log(`\ngenerate()'s own work per step (a zero-cost model returning fixed logits; ${steps} steps; includes copying the logits)`);
  for (const [label, opts] of [
    ['greedy', {}],
    ['sampling, rep. 1.3 + top-k 50 + top-p 0.9', { do_sample: true, seed: 1, repetition_penalty: 1.3, top_p: 0.9 }],
    ['beam search, 4 beams', { num_beams: 4 }],
  ] as const) {
    const t = performance.now();
    await generate(fixed, { input_ids: [1, 2, 3], max_new_tokens: steps, min_new_tokens: steps, eos_token_id: 0, pad_token_id: 0, on_warning: () => {}, ...opts });
    console.log(`  ${label.padEnd(42)} ${fmt((performance.now() - t) / steps).padStart(9)}/step`);
  }
}

export async function run(flags: string[]): Promise<void> {
  const tokensFlag = flags.find((f) => f.startsWith('--tokens='));
  const tokens = tokensFlag ? Number(tokensFlag.split('=')[1]) : 12;
  processorBench();
  await bookkeepingBench();

  const model = await GPT2LMHeadModel.from_pretrained('random:gpt2');
  let backendName = 'reference (plain TypeScript)';
  if (!flags.includes('--reference')) {
    try {
      const { useWasmBackend } = await import('../src/engine/index.js');
      await useWasmBackend(model);
      backendName = 'WebAssembly engine';
    } catch (e) {
      backendName = `reference (plain TypeScript; the wasm engine is unavailable: ${(e as Error).message.split('\n')[0]})`;
    }
  }
  console.log(`\nend to end on random:gpt2 (124M shape, random weights), backend: ${backendName}; prompt 8 tokens, ${tokens} new tokens`);
  // RowStats of 4 rows (a 4-beam step's non-finite check, log-sum-exp and argmax): the backend's against the reference
  const four = new Float32Array(4 * V);
  for (let b = 0; b < 4; b++) four.set(fakeLogits(3 + b), b * V);
  const stats = newRowStats(4);
  const kernelMs = timeMs(four, 30, (rows) => model.rowStats(rows, 4, V, stats));
  const referenceMs = timeMs(four, 30, (rows) => rowStatsReference(rows, 4, V, stats));
  console.log(`  row stats of 4 × ${V.toLocaleString('en')} logits: model.rowStats ${fmt(kernelMs)}, rowStatsReference ${fmt(referenceMs)}`);
  const prompt = [464, 4583, 286, 44449, 318, 257, 1332, 13];
  const rowTokensPerS: Record<string, number> = {};
  for (const [label, opts] of [
    ['greedy', { num_beams: 1 }],
    ['sampling (rep. 1.3, top-k 50, top-p 0.9)', { do_sample: true, seed: 1, repetition_penalty: 1.3, top_p: 0.9 }],
    ['beam search, 4 beams', { num_beams: 4 }],
  ] as const) {
    const t = timed(model);
    const start = performance.now();
    const out = await generate(t.m, { input_ids: prompt, max_new_tokens: tokens, min_new_tokens: tokens, pad_token_id: 50256, on_warning: () => {}, ...opts });
    const total = performance.now() - start;
    const steps = t.calls();
    const outside = (total - t.forwardMs()) / steps;
    const perForward = t.forwardMs() / steps;
    const newTokens = out.sequences[0]!.length - prompt.length;
    rowTokensPerS[label] = ((opts.num_beams ?? 1) * steps) / (total / 1000); // rows computed per second
    console.log(
      `  ${label.padEnd(42)} ${(newTokens / (total / 1000)).toFixed(2).padStart(7)} tokens/s   ` +
        `forward ${fmt(perForward).padStart(9)}/step   outside forward ${fmt(outside).padStart(9)}/step = ${((100 * outside) / perForward).toFixed(2)}% of a forward`,
    );
  }
  const beams = rowTokensPerS['beam search, 4 beams']!;
  console.log(`  4 beams: ${beams.toFixed(2)} row-tokens/s (4 rows × steps) = ${(beams / rowTokensPerS['greedy']!).toFixed(2)}× greedy's tokens/s (target ≥ 2.6×)`);
}

// npm run bench -- engine [--quick] [--threads=N] [--simd=auto|relaxed|plain]: the WebAssembly engine on random:gpt2
// (RANDOM weights, the exact 124M shape). In one run: this machine's memory bandwidth (a plain SIMD sum over the
// engine's weights) and the decode ceiling it implies (bandwidth / weight bytes), decode tokens/s at batch 1 and 4
// on 1 and N threads (and a batch-4 step's cost over a batch-1 step's), prefill of 8 and 128 tokens (the 128-token
// pass's matmul GFLOP/s; all-position logits over last-position logits), fp16 and int8, their accuracy against
// fp32, and memory (peak RSS). The kernels' build (relaxed SIMD with fused multiply-add, or plain) is printed.
// Sustained decode (fp32, the headline figure): model.generate() through the public API with the wasm backend,
// greedy, 128 new tokens after an 8-token prompt, batch 1 and 4, end to end, on 1 and N threads: the median of a
// few runs (two with --quick), as tokens/s and as a fraction of the ceiling measured right before it, with
// generate()'s own share of a step (the time outside the backend's forward) and the process CPU time per step; each
// run has its own ceiling, probed right before it, and on 1 thread the ratio is also given in CPU time.
// The other speeds are bursts: the best of a few short repeats of engine.forward (the machine is shared), each
// also given as a ratio to the ceiling measured in the same run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { WasmBackend } from '../src/engine/backend.js';
import { WasmEngine, type EngineDType } from '../src/engine/engine.js';
import { instantiateKernels, kernelModule, type KernelSimd } from '../src/engine/wasm/module.js';
import { GPT2LMHeadModel } from '../src/model/model.js';
import { defaultThreads, nodeEngineLoader, nodeWorkerSpawner } from '../src/node/threads.js';
import { parseRandomSpec, randomConfig, randomWeights } from '../src/model/random.js';
import { caseGflops, cpuMs as cpuMsOf, layoutCases } from './_kernel-gflops.js';

const MB = 1e6;
const rssMB = (): string => (process.memoryUsage().rss / MB).toFixed(0);
const peakMB = (): number => (process.resourceUsage().maxRSS * 1024) / MB; // maxRSS is in KiB

/** A full garbage collection, twice around a tick (V8 frees ArrayBuffer memory after the first). */
async function gc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  collect();
  await new Promise((resolve) => setTimeout(resolve, 50));
  collect();
}

/** Best wall time of `repeats` runs of fn, in ms. */
function best(repeats: number, fn: () => void): number {
  let t = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

/** Decode tokens/s at batch B: prefill 8 tokens, then `steps` single-token steps, best of `repeats`. */
function decode(engine: WasmEngine, B: number, steps: number, repeats: number): number {
  let bestMs = Infinity;
  for (let r = 0; r < repeats; r++) {
    const cache = engine.newCache(B, 64);
    const ids = Array.from({ length: B * 8 }, (_, i) => (i * 97) % 50257);
    const pos = Array.from({ length: B * 8 }, (_, i) => i % 8);
    engine.forward({ ids, positions: pos, mask: null, batch: B, cache, keep: 1 });
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      engine.forward({ ids: Array.from({ length: B }, (_, b) => (s * 31 + b) % 50257), positions: Array(B).fill(8 + s), mask: null, batch: B, cache, keep: 1 });
    }
    bestMs = Math.min(bestMs, performance.now() - t0);
    engine.freeCache(cache);
  }
  return (steps * 1000) / bestMs; // steps per second (each step makes B tokens)
}

/** The process's CPU time so far (user + system), ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Sustained {
  /** tokens/s summed over the B rows, end to end (the prompt's pass included) */
  tokS: number;
  /** share of the wall time spent outside the backend's forward (generate() and model.forward's own work) */
  own: number;
  /** process CPU ms per step (all threads, the engine's idle spinning included) */
  cpuStep: number;
  /** per-step CPU ms of the backend's forward: median of the first 16 decode steps and of the last 16 */
  early: number;
  late: number;
}

/**
 * Sustained decode: model.generate() of `n` new tokens (greedy, min_new_tokens = n so a random model's eos does not
 * stop it) after an 8-token prompt, B copies of it, end to end through the public API. The backend's forward is
 * timed from outside (wall and CPU) to split a step into the engine's part and generate()'s own.
 */
async function sustained(model: GPT2LMHeadModel, B: number, n: number): Promise<Sustained> {
  const backend = model.backend as WasmBackend;
  const forward = backend.forward;
  let inside = 0;
  const stepCpu: number[] = [];
  backend.forward = (config, weights, req) => {
    const t0 = performance.now();
    const c0 = cpuMs();
    try {
      return forward.call(backend, config, weights, req);
    } finally {
      stepCpu.push(cpuMs() - c0);
      inside += performance.now() - t0;
    }
  };
  try {
    const prompt = Array.from({ length: 8 }, (_, i) => (i * 97 + 13) % 50257);
    const c0 = cpuMs();
    const t0 = performance.now();
    const out = await model.generate({ input_ids: Array.from({ length: B }, () => prompt), max_new_tokens: n, min_new_tokens: n, do_sample: false, pad_token_id: 50256, on_warning: () => {} });
    const wall = performance.now() - t0;
    const cpu = cpuMs() - c0;
    const made = out.sequences[0]!.length - 8;
    if (made !== n) throw new Error(`bench: generate made ${made} tokens, expected ${n}`);
    const decode = stepCpu.slice(1); // the first call is the prompt's pass
    return { tokS: (B * n * 1000) / wall, own: 1 - inside / wall, cpuStep: cpu / n, early: median(decode.slice(0, 16)), late: median(decode.slice(-16)) };
  } finally {
    backend.forward = forward;
  }
}

/** Process CPU ms of a decode step of engine.forward at batch B (1 thread): `steps` steps after an 8-token prefill, median of `repeats`. */
function burstCpu(engine: WasmEngine, B: number, steps: number, repeats: number): number {
  const per: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const cache = engine.newCache(B, 64);
    const ids = Array.from({ length: B * 8 }, (_, i) => (i * 97) % 50257);
    engine.forward({ ids, positions: ids.map((_, i) => i % 8), mask: null, batch: B, cache, keep: 1 });
    const c0 = cpuMs();
    for (let s = 0; s < steps; s++) {
      engine.forward({ ids: Array.from({ length: B }, (_, b) => (s * 31 + b) % 50257), positions: Array(B).fill(8 + s), mask: null, batch: B, cache, keep: 1 });
    }
    per.push((cpuMs() - c0) / steps);
    engine.freeCache(cache);
  }
  return median(per);
}

/** Wall ms of a T-token forward without cache; `keep` 1 = last-position logits, 0 = every position's. */
function prefill(engine: WasmEngine, T: number, repeats: number, keep = 1): number {
  const ids = Array.from({ length: T }, (_, i) => (i * 131 + 7) % 50257);
  const pos = ids.map((_, i) => i);
  return best(repeats, () => engine.forward({ ids, positions: pos, mask: null, batch: 1, cache: null, keep }));
}

/** FLOPs of the Conv1D matmuls of a T-token forward (2 per multiply-add): c_attn, attn.c_proj, c_fc, mlp.c_proj per layer. */
function matmulFlops(engine: WasmEngine, T: number): number {
  const { n_embd: C, n_layer: L } = engine.config;
  const F = engine.config.n_inner ?? 4 * C;
  return 2 * T * L * (C * 3 * C + C * C + 2 * C * F);
}

/** 128-bit WebAssembly SIMD's peak on this machine's core (Zen 5 at ~3.6 GHz): 2 FMA a cycle x 4 lanes x 2 FLOPs. */
const SIMD128_PEAK_GFLOPS = 2 * 4 * 2 * 3.6;

/**
 * The prompt kernels on their own at M = 128 (bench/_kernel-gflops.ts: GPT-2's four Conv1D shapes through `matmul`,
 * the LM head through `dot_rows`), fp32, 1 thread, GFLOP/s of CPU time, best of `repeats`; over a memory of their
 * own, so the engine's threads and the other passes do not count. Returns the four matmuls' time-weighted figure.
 */
async function kernelRows(simd: KernelSimd, repeats: number): Promise<number> {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
  const k = await instantiateKernels(await kernelModule(false, simd), memory);
  const cases = layoutCases(memory, k, 128);
  for (const c of cases) c.run(k); // V8 compiles the kernels' hot functions again, optimised, after their first calls
  let flops = 0;
  let seconds = 0;
  console.log(`prompt kernels alone, M = 128 rows, fp32, ${simd} SIMD, 1 thread, GFLOP/s of CPU time (128-bit SIMD peak ~${SIMD128_PEAK_GFLOPS.toFixed(0)}):`);
  for (const c of cases) {
    const g = caseGflops(c, k, c.shape.head ? Math.min(2, repeats) : repeats);
    if (!c.shape.head) {
      flops += c.flops;
      seconds += c.flops / (g * 1e9);
    }
    console.log(`  ${c.shape.name.padEnd(22)} ${g.toFixed(1).padStart(5)} GFLOP/s = ${((100 * g) / SIMD128_PEAK_GFLOPS).toFixed(0)}% of peak`);
  }
  const all = flops / seconds / 1e9;
  console.log(`  the four matmuls (time-weighted) ${all.toFixed(1)} GFLOP/s = ${((100 * all) / SIMD128_PEAK_GFLOPS).toFixed(0)}% of peak (target 75%)`);
  return all;
}

/** Logits of fp32 and another engine on a few prompts: max |difference| and top-1 agreement. */
function accuracy(a: WasmEngine, b: WasmEngine, prompts: number[][]): { maxDiff: number; agree: number; total: number } {
  let maxDiff = 0;
  let agree = 0;
  let total = 0;
  const V = a.config.vocab_size;
  for (const p of prompts) {
    const args = { ids: p, positions: p.map((_, i) => i), mask: null, batch: 1, cache: null, keep: 0 };
    const x = a.forward(args).logits!;
    const y = b.forward(args).logits!;
    for (let t = 0; t < p.length; t++) {
      let ax = 0;
      let ay = 0;
      for (let v = 0; v < V; v++) {
        maxDiff = Math.max(maxDiff, Math.abs(x[t * V + v]! - y[t * V + v]!));
        if (x[t * V + v]! > x[t * V + ax]!) ax = v;
        if (y[t * V + v]! > y[t * V + ay]!) ay = v;
      }
      total++;
      if (ax === ay) agree++;
    }
  }
  return { maxDiff, agree, total };
}

/** Builds engines of the given dtypes from one set of random:gpt2 weights; the JS weights die when this returns. */
async function build(dtypes: readonly EngineDType[], threads: number, simd: KernelSimd | 'auto'): Promise<WasmEngine[]> {
  const config = randomConfig(parseRandomSpec('random:gpt2'));
  let t0 = performance.now();
  const weights = randomWeights(config, 0);
  console.log(`random weights: ${(performance.now() - t0).toFixed(0)} ms, RSS ${rssMB()} MB`);
  const engines: WasmEngine[] = [];
  for (const dtype of dtypes) {
    t0 = performance.now();
    engines.push(await WasmEngine.create(config, weights, { dtype, threads, spawn: nodeWorkerSpawner(), simd }));
    console.log(`[${dtype}] engine built in ${(performance.now() - t0).toFixed(0)} ms: ${(engines.at(-1)!.weightBytes / MB).toFixed(1)} MB of weights; RSS ${rssMB()} MB`);
  }
  return engines;
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  // --flag=value: bench/main.ts takes every argument without a leading '-' for a benchmark's name
  const value = (name: string): string | undefined => flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
  const N = value('--threads') !== undefined ? Number(value('--threads')) : Math.max(2, defaultThreads());
  const reps = quick ? 2 : 3;
  const steps = quick ? 8 : 16;
  const simd = (value('--simd') ?? 'auto') as KernelSimd | 'auto';
  console.log(`model: random:gpt2 (RANDOM weights, the 124M shape); engine threads 1 and ${N} (machine: ${defaultThreads()} cores)`);
  console.log('speeds: sustained decode is generate() end to end; the other speeds are bursts, best of a few repeats (the machine may be shared); each is also a ratio to the ceiling measured just before it\n');

  // fp32 first, alone, for memory: loaded as the CLI loads it (from_pretrained with the engine loader: each tensor
  // written straight into engine memory, the engine's copy the only one); generate() runs on this model.
  const t0 = performance.now();
  const model = await GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: nodeEngineLoader({ threads: N, simd }) });
  const fp32 = (model.backend as WasmBackend).engine;
  console.log(`[fp32] model loaded into the engine in ${(performance.now() - t0).toFixed(0)} ms: ${(fp32.weightBytes / MB).toFixed(1)} MB of weights; RSS ${rssMB()} MB`);
  console.log(`kernels: ${fp32.simd} SIMD${fp32.simd === 'relaxed' ? ' (fused multiply-add)' : ''}`);
  const peak = peakMB();
  await gc();
  const steady = process.memoryUsage().rss / MB;
  const wMB = fp32.weightBytes / MB;
  console.log(`memory: peak RSS while loading ${peak.toFixed(0)} MB = ${(peak / wMB).toFixed(2)}x the weight bytes (engine-first load); ` +
    `after a GC ${steady.toFixed(0)} MB = ${(steady / wMB).toFixed(2)}x\n`);

  // Sustained decode: generate() end to end, fp32, before the other engines exist (less memory traffic around it).
  // Each run gets its own ceiling, probed right before it, and the figures are medians of the per-run values: on a
  // shared machine a ceiling probed once goes stale within seconds. On 1 thread the ratio is also taken in CPU time
  // (a pass of the probe over the weights against a step of generate(), both in process.cpuUsage), which the other
  // processes on the machine disturb far less than wall time.
  const gens = quick ? 2 : 3;
  const newTokens = 128;
  const sustainedRows: string[] = [];
  const sustainedRatio: Record<number, number> = {};
  console.log(`sustained decode: generate(), greedy, ${newTokens} new tokens after 8, end to end, median of ${gens} runs each (fp32)`);
  await sustained(model, 1, 4); // warm-up: compiles the JS paths of generate() and the engine's decode step
  await sustained(model, 4, 4);
  for (const n of [1, N]) {
    fp32.setActiveThreads(n);
    for (const B of [1, 4]) {
      const runs: Array<Sustained & { ceiling: number; probeCpu: number }> = [];
      for (let r = 0; r < gens; r++) {
        const ceiling = fp32.probeBandwidth(2) / fp32.weightBytes;
        const c0 = cpuMs();
        fp32.probeBandwidth(1); // one pass over the weights
        const probeCpu = cpuMs() - c0;
        runs.push({ ...(await sustained(model, B, newTokens)), ceiling, probeCpu });
      }
      const m = (f: (s: (typeof runs)[number]) => number): number => median(runs.map(f));
      const tokS = m((x) => x.tokS);
      const ofCeiling = m((x) => x.tokS / B / x.ceiling); // decode steps/s over the ceiling (a step reads every weight once)
      const ofCpu = m((x) => x.probeCpu / x.cpuStep);
      const burst = n === 1 ? burstCpu(fp32, B, steps, reps) : null;
      if (B === 1) sustainedRatio[n] = ofCeiling;
      console.log(
        `fp32 ${n} thread${n > 1 ? 's' : ' '} b${B}: sustained ${tokS.toFixed(1)} tok/s = ${(100 * ofCeiling).toFixed(0)}% of the ceiling probed before each run (median ${m((x) => x.ceiling).toFixed(1)} steps/s)` +
          (n === 1 ? ` | in CPU time ${(100 * ofCpu).toFixed(0)}% (a probe pass ${m((x) => x.probeCpu).toFixed(1)} ms, a step ${m((x) => x.cpuStep).toFixed(1)} ms)` : '') +
          ` | generate()'s own share ${(100 * m((x) => x.own)).toFixed(1)}% | forward CPU first 16 steps ${m((x) => x.early).toFixed(1)} ms, last 16 ${m((x) => x.late).toFixed(1)} ms` +
          (burst ? ` | burst (engine.forward, ${steps} steps, median of ${reps}) ${burst.toFixed(1)} ms CPU a step = ${((100 * m((x) => x.probeCpu)) / burst).toFixed(0)}% in CPU time` : ''),
      );
      sustainedRows.push(
        `| ${n} | ${B} | ${tokS.toFixed(1)} | ${(100 * ofCeiling).toFixed(0)}% | ${n === 1 ? `${(100 * ofCpu).toFixed(0)}%` : '-'} | ${(100 * m((x) => x.own)).toFixed(1)}% | ` +
          `${m((x) => x.early).toFixed(1)} / ${m((x) => x.late).toFixed(1)} | ${burst ? `${((100 * m((x) => x.probeCpu)) / burst).toFixed(0)}%` : '-'} |`,
      );
    }
  }
  fp32.setActiveThreads(N);
  console.log();

  const [fp16, int8] = await build(['fp16', 'int8'], N, simd);
  await gc();
  const engines = { fp32, fp16: fp16!, int8: int8! };
  const kernelGflops = await kernelRows(fp32.simd, reps); // after the memory figures: its own memory holds a copy of wte

  const rows: string[] = [];
  const results: Record<string, { d1: number; ceiling: number }> = {};
  for (const dtype of ['fp32', 'fp16', 'int8'] as const) {
    const engine = engines[dtype];
    for (const n of new Set([1, N])) {
      engine.setActiveThreads(n);
      // the ceiling and decode, interleaved, best of each: both see about the same machine
      let bw = 0;
      let d1 = 0;
      for (let r = 0; r < reps + 2; r++) {
        bw = Math.max(bw, engine.probeBandwidth(2));
        d1 = Math.max(d1, decode(engine, 1, steps, 1));
      }
      const ceiling = bw / engine.weightBytes;
      const d4 = decode(engine, 4, steps, reps);
      const p8 = prefill(engine, 8, reps);
      // last-position and all-position logits interleaved, best of each
      let p128 = Infinity;
      let p128all = Infinity;
      for (let r = 0; r < (quick ? 2 : 3); r++) {
        p128 = Math.min(p128, prefill(engine, 128, 1));
        p128all = Math.min(p128all, prefill(engine, 128, 1, 0));
      }
      const gflops = matmulFlops(engine, 128) / (p128 / 1000) / 1e9; // the whole pass's time: a lower bound for the matmuls alone
      if (dtype === 'fp32' && n === 1) {
        // the same lower bound in CPU time (the other processes of a shared machine do not count), beside the kernels alone
        const ids = Array.from({ length: 128 }, (_, i) => (i * 131 + 7) % 50257);
        let cpu = Infinity;
        for (let r = 0; r < reps; r++) cpu = Math.min(cpu, cpuMsOf(() => engine.forward({ ids, positions: ids.map((_, i) => i), mask: null, batch: 1, cache: null, keep: 1 })));
        console.log(
          `fp32 forward of 128 tokens, 1 thread: ${cpu.toFixed(0)} ms of CPU time -> the matmuls >= ${(matmulFlops(engine, 128) / (cpu / 1000) / 1e9).toFixed(1)} GFLOP/s ` +
            `over the whole pass (LN, attention, the LM head of the last position included); the kernels alone ${kernelGflops.toFixed(1)}`,
        );
      }
      results[`${dtype}/${n}`] = { d1, ceiling };
      console.log(
        `${dtype} ${n} thread${n > 1 ? 's' : ' '}: bandwidth ${(bw / 1e9).toFixed(1)} GB/s -> ceiling ${ceiling.toFixed(1)} tok/s | ` +
          `decode b1 ${d1.toFixed(1)} tok/s (${((100 * d1) / ceiling).toFixed(0)}% of ceiling), b4 ${(4 * d4).toFixed(1)} tok/s (a b4 step = ${(d1 / d4).toFixed(2)}x a b1 step) | ` +
          `prefill 8: ${p8.toFixed(1)} ms, 128: ${p128.toFixed(0)} ms (matmuls >= ${gflops.toFixed(1)} GFLOP/s), all-position logits ${p128all.toFixed(0)} ms = ${(p128all / p128).toFixed(2)}x`,
      );
      rows.push(
        `| ${dtype} | ${n} | ${(bw / 1e9).toFixed(1)} | ${ceiling.toFixed(1)} | ${d1.toFixed(1)} | ${((100 * d1) / ceiling).toFixed(0)}% | ${(4 * d4).toFixed(1)} | ${(d1 / d4).toFixed(2)} | ` +
          `${p8.toFixed(1)} | ${p128.toFixed(0)} | ${gflops.toFixed(1)} | ${(p128all / p128).toFixed(2)} |`,
      );
    }
    engine.setActiveThreads(N);
  }

  console.log('\naccuracy against fp32 on random:gpt2 (3 prompts of 16 tokens, every position):');
  const prompts = [0, 1, 2].map((s) => Array.from({ length: 16 }, (_, i) => (s * 5003 + i * 1009) % 50257));
  for (const dtype of ['fp16', 'int8'] as const) {
    const a = accuracy(engines.fp32, engines[dtype], prompts);
    console.log(`  ${dtype}: max |logit difference| ${a.maxDiff.toExponential(2)}, top-1 agreement ${a.agree}/${a.total}`);
  }

  console.log(`\nkernels: ${fp32.simd} SIMD`);
  console.log(`sustained decode, fp32 (generate(), ${newTokens} new tokens after 8, median of ${gens}; tok/s summed over the rows; "of ceiling": steps/s over the ceiling):`);
  console.log('| threads | batch | generate() tok/s | of ceiling (wall) | of ceiling (CPU time) | generate()\'s own share | forward CPU ms, first / last 16 steps | burst, of ceiling (CPU time) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of sustainedRows) console.log(r);
  console.log('\nbursts (best of a few short repeats of engine.forward):');
  console.log('| dtype | threads | GB/s | ceiling tok/s | decode b1 tok/s | of ceiling | decode b4 tok/s | b4 step / b1 step | prefill 8 ms | prefill 128 ms | 128 matmul GFLOP/s | all / last logits 128 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  const f1 = results['fp32/1']!;
  const fN = results[`fp32/${N}`]!;
  console.log(
    `\nratios: fp32 b1 1 thread = ${((100 * f1.d1) / f1.ceiling).toFixed(0)}% of the 1-thread fp32 ceiling; ${N} threads = ${((100 * fN.d1) / f1.ceiling).toFixed(0)}% of it, ` +
      `${(fN.d1 / f1.d1).toFixed(2)}x 1 thread; int8 / fp32 = ${(results['int8/1']!.d1 / f1.d1).toFixed(2)}x (1 thread), ${(results[`int8/${N}`]!.d1 / fN.d1).toFixed(2)}x (${N}); ` +
      `fp16 / fp32 = ${(results['fp16/1']!.d1 / f1.d1).toFixed(2)}x`,
  );
  console.log(`sustained: fp32 b1 generate() = ${(100 * sustainedRatio[1]!).toFixed(0)}% of the 1-thread ceiling on 1 thread, ${(100 * sustainedRatio[N]!).toFixed(0)}% of the ${N}-thread ceiling on ${N}`);
  for (const e of Object.values(engines)) e.dispose();
}

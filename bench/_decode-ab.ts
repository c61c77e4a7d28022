// npx tsx bench/_decode-ab.ts A.wasm B.wasm [--dtypes=fp16,fp32] [--rounds=4] [--steps=8]: two builds of the kernels
// (single-memory builds of one kind, both relaxed (kernels-single_relaxed.wasm, the default engine build) or both
// plain with --simd=plain: e.g. main's and this tree's src/engine/wasm/build/) instantiated over each engine's
// memory (random:gpt2, 1 thread) and swapped in turn, interleaved round by round (a shared machine's load hits both
// alike): the process CPU time of a decode step at batch 1 and 4 (8 steps after an 8-token prompt, median per
// round, best of the rounds), the batch-4 step over the batch-1 step, and the largest logit difference between the
// two builds. A developer's tool for kernel work (not one of `npm run bench`'s benchmarks); it reaches into the
// engine's private kernel instance.
import { readFileSync } from 'node:fs';
import { WasmEngine, type EngineDType } from '../src/engine/engine.js';
import { instantiateKernels, type KernelExports, type KernelSimd } from '../src/engine/wasm/module.js';
import { enableRelaxedSimd } from '../src/node/threads.js';
import { parseRandomSpec, randomConfig, randomWeights } from '../src/model/random.js';
import { positionals, opt } from './_args.js';

enableRelaxedSimd();
const files = positionals;
if (files.length !== 2) {
  console.error('usage: npx tsx bench/_decode-ab.ts A.wasm B.wasm [--dtypes=fp16,fp32] [--simd=relaxed|plain] [--rounds=4] [--steps=8]');
  process.exit(2);
}
const dtypes = opt('dtypes', 'fp16').split(',') as EngineDType[];
const simd = opt('simd', 'relaxed') as KernelSimd;
const rounds = Number(opt('rounds', '4'));
const steps = Number(opt('steps', '8'));

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms per decode step at batch B (the median of `steps` steps after an 8-token prompt) and the last step's logits. */
function step(engine: WasmEngine, B: number): { ms: number; logits: Float32Array } {
  const cache = engine.newCache(B, 64);
  const ids = Array.from({ length: B * 8 }, (_, i) => (i * 97) % 50257);
  engine.forward({ ids, positions: ids.map((_, i) => i % 8), mask: null, batch: B, cache, keep: 1 });
  const per: number[] = [];
  let logits: Float32Array = new Float32Array(0);
  for (let s = 0; s < steps; s++) {
    const c0 = cpuMs();
    const r = engine.forward({ ids: Array.from({ length: B }, (_, b) => (s * 31 + b) % 50257), positions: Array(B).fill(8 + s), mask: null, batch: B, cache, keep: 1 });
    per.push(cpuMs() - c0);
    logits = r.logits!;
  }
  engine.freeCache(cache);
  per.sort((a, b) => a - b);
  return { ms: per[per.length >> 1]!, logits };
}

const config = randomConfig(parseRandomSpec('random:gpt2'));
const weights = randomWeights(config, 0);
const engines = [];
for (const dtype of dtypes) {
  const engine = await WasmEngine.create(config, weights, { dtype, threads: 1, simd });
  const builds: KernelExports[] = [];
  for (const f of files) builds.push(await instantiateKernels(await WebAssembly.compile(readFileSync(f)), engine.memory));
  engines.push({ dtype, engine, builds });
}
const slot = (e: WasmEngine): { k: KernelExports } => e as unknown as { k: KernelExports };
const best = new Map<string, number>();
const diff = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const { dtype, engine, builds } of engines) {
    for (const B of [1, 4]) {
      const out: Float32Array[] = [];
      for (const [j, k] of builds.entries()) {
        slot(engine).k = k;
        const { ms, logits } = step(engine, B);
        out.push(logits);
        const key = `${dtype} ${j} ${B}`;
        best.set(key, Math.min(best.get(key) ?? Infinity, ms));
      }
      let d = 0;
      for (let i = 0; i < out[0]!.length; i++) d = Math.max(d, Math.abs(out[0]![i]! - out[1]![i]!));
      diff.set(`${dtype} ${B}`, Math.max(diff.get(`${dtype} ${B}`) ?? 0, d));
    }
  }
}
console.log(`random:gpt2, ${simd} build, 1 thread, CPU ms per decode step (median of ${steps} steps), best of ${rounds} interleaved rounds`);
console.log(`A = ${files[0]}, B = ${files[1]}`);
console.log('| dtype | A b1 | A b4 | A b4/b1 | B b1 | B b4 | B b4/b1 | max |logit A - B| b1, b4 |');
for (const { dtype } of engines) {
  const g = (j: number, B: number): number => best.get(`${dtype} ${j} ${B}`)!;
  console.log(
    `| ${dtype} | ${g(0, 1).toFixed(1)} | ${g(0, 4).toFixed(1)} | ${(g(0, 4) / g(0, 1)).toFixed(2)} | ${g(1, 1).toFixed(1)} | ${g(1, 4).toFixed(1)} | ${(g(1, 4) / g(1, 1)).toFixed(2)} | ${diff.get(`${dtype} 1`)!.toExponential(1)}, ${diff.get(`${dtype} 4`)!.toExponential(1)} |`,
  );
}

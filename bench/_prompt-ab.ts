// npx tsx bench/_prompt-ab.ts A.wasm B.wasm [--simd=relaxed|plain] [--tokens=8,16] [--rounds=4] [--reps=3]: two builds of
// the kernels (single-memory builds of one kind: both relaxed (kernels-single_relaxed.wasm, the default engine build)
// or both plain with --simd=plain; e.g. main's and this tree's src/engine/wasm/build/) instantiated over one engine's
// memory (random:gpt2, fp32, 1 thread) and swapped in turn, interleaved round by round (a shared machine's load hits
// both alike): the process CPU time of a forward of a short prompt (no cache before it) with the last position's
// logits and with every position's, the median of `reps` forwards per round, best of the rounds, and the largest
// logit difference between the two builds. A developer's tool for kernel work (not one of `npm run bench`'s
// benchmarks); it reaches into the engine's private kernel instance.
import { readFileSync } from 'node:fs';
import { WasmEngine } from '../src/engine/engine.js';
import { instantiateKernels, type KernelExports, type KernelSimd } from '../src/engine/wasm/module.js';
import { enableRelaxedSimd } from '../src/node/threads.js';
import { parseRandomSpec, randomConfig, randomWeights } from '../src/model/random.js';
import { positionals, opt } from './_args.js';

enableRelaxedSimd();
const files = positionals;
if (files.length !== 2) {
  console.error('usage: npx tsx bench/_prompt-ab.ts A.wasm B.wasm [--simd=relaxed|plain] [--tokens=8,16] [--rounds=4] [--reps=3]');
  process.exit(2);
}
const simd = opt('simd', 'relaxed') as KernelSimd;
const tokenCounts = opt('tokens', '8,16').split(',').map(Number);
const rounds = Number(opt('rounds', '4'));
const reps = Number(opt('reps', '3'));

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms of a forward of T tokens (median of `reps`) keeping `keep` positions' logits (0: all), and its logits. */
function prompt(engine: WasmEngine, T: number, keep: number): { ms: number; logits: Float32Array } {
  const ids = Array.from({ length: T }, (_, i) => (i * 97 + 13) % 50257);
  const per: number[] = [];
  let logits: Float32Array = new Float32Array(0);
  for (let r = 0; r < reps; r++) {
    const cache = engine.newCache(1, T);
    const c0 = cpuMs();
    const out = engine.forward({ ids, positions: ids.map((_, i) => i), mask: null, batch: 1, cache, keep });
    per.push(cpuMs() - c0);
    logits = out.logits!;
    engine.freeCache(cache);
  }
  per.sort((a, b) => a - b);
  return { ms: per[per.length >> 1]!, logits };
}

const config = randomConfig(parseRandomSpec('random:gpt2'));
const engine = await WasmEngine.create(config, randomWeights(config, 0), { dtype: 'fp32', threads: 1, simd });
const builds: KernelExports[] = [];
for (const f of files) builds.push(await instantiateKernels(await WebAssembly.compile(readFileSync(f)), engine.memory));
const slot = engine as unknown as { k: KernelExports };
const cases = tokenCounts.flatMap((T) => [
  { T, keep: 1 },
  { T, keep: 0 },
]);
const best = new Map<string, number>();
const diff = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const { T, keep } of cases) {
    const out: Float32Array[] = [];
    for (const [j, k] of (r % 2 ? [...builds.entries()].reverse() : builds.entries())) {
      slot.k = k;
      const { ms, logits } = prompt(engine, T, keep);
      out[j] = logits;
      const key = `${T} ${keep} ${j}`;
      best.set(key, Math.min(best.get(key) ?? Infinity, ms));
    }
    let d = 0;
    for (let i = 0; i < out[0]!.length; i++) d = Math.max(d, Math.abs(out[0]![i]! - out[1]![i]!));
    diff.set(`${T} ${keep}`, Math.max(diff.get(`${T} ${keep}`) ?? 0, d));
  }
}
console.log(`random:gpt2, fp32, ${simd} build, 1 thread, CPU ms per forward (median of ${reps}), best of ${rounds} interleaved rounds`);
console.log(`A = ${files[0]}, B = ${files[1]}`);
console.log('| tokens | logits | A | B | B / A | max |logit A - B| |');
for (const { T, keep } of cases) {
  const a = best.get(`${T} ${keep} 0`)!;
  const b = best.get(`${T} ${keep} 1`)!;
  console.log(`| ${T} | ${keep === 1 ? 'last' : 'all'} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} | ${diff.get(`${T} ${keep}`)!.toExponential(1)} |`);
}

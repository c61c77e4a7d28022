// npx tsx bench/_kernels-ab.ts A.wasm B.wasm [--rows=128] [--rounds=5]: two builds of the kernels (single-memory
// builds, e.g. main's and this tree's src/engine/wasm/build/kernels-single_relaxed.wasm) instantiated over ONE
// memory and run on the same data, interleaved round by round (a shared machine's load hits both alike): the
// prompt matmuls' GFLOP/s of CPU time per GPT-2 shape (bench/_kernel-gflops.ts), best of the rounds, and whether
// the two builds' outputs agree. A developer's tool for kernel work (not one of `npm run bench`'s benchmarks).
import { readFileSync } from 'node:fs';
import { instantiateKernels, type KernelExports } from '../src/engine/wasm/module.js';
import { enableRelaxedSimd } from '../src/node/threads.js';
import { caseGflops, layoutCases } from './_kernel-gflops.js';
import { positionals, flag } from './_args.js';

enableRelaxedSimd();
const files = positionals;
if (files.length !== 2) {
  console.error('usage: npx tsx bench/_kernels-ab.ts A.wasm B.wasm [--rows=128] [--rounds=5]');
  process.exit(2);
}
const M = flag('rows', 128);
const rounds = flag('rounds', 5);
const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
const builds: KernelExports[] = [];
for (const f of files) builds.push(await instantiateKernels(await WebAssembly.compile(readFileSync(f)), memory));
const cases = layoutCases(memory, builds[0]!, M);
const best = cases.map(() => files.map(() => 0));
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of cases.entries()) {
    for (const [j, k] of builds.entries()) best[i]![j] = Math.max(best[i]![j]!, caseGflops(c, k, c.shape.head ? 1 : 3));
  }
}
console.log(`M = ${M}, fp32, 1 thread, GFLOP/s of CPU time, best of ${rounds} interleaved rounds`);
console.log(`| shape | ${files.join(' | ')} | B / A |`);
let fa = 0;
let fb = 0;
for (const [i, c] of cases.entries()) {
  const [a, b] = best[i]! as [number, number];
  fa += c.flops / a;
  fb += c.flops / b;
  console.log(`| ${c.shape.name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |`);
}
const all = cases.reduce((s, c) => s + c.flops, 0);
console.log(`| all (time-weighted) | ${(all / fa).toFixed(1)} | ${(all / fb).toFixed(1)} | ${(fa / fb).toFixed(2)} |`);

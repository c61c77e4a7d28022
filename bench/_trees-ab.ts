// npx tsx bench/_trees-ab.ts OLD_TREE [--tokens=128 (0: no generate())] [--rounds=3] [--steps=16] [--dtypes=fp32,int8] [--threads=1,2] [--new-first]: a decode step and generate() of this tree against
// another tree's (OLD_TREE/src: e.g. `mkdir -p .cache/old && git archive main src | tar -x -C .cache/old`, then copy
// src/engine/wasm/build and kernels.generated.ts in when the kernels did not change), in ONE process, interleaved
// round by round so that a shared machine's load hits both alike. On random:gpt2 (RANDOM weights, the 124M shape):
//   - engine decode steps (batch 1, logits of the last position; each tree as its WasmBackend calls the engine, so
//     the new tree with its reused logits array), fp32 and int8 on 1 and 2 threads: median CPU ms a step (1 thread;
//     on 2 threads the process CPU counts the workers' spinning, so the wall ms is given too), and int8's decode
//     rate over its ceiling (bandwidth probed right before each burst / weight bytes) on 2 threads;
//   - sustained decode: model.generate() of --tokens new tokens after 8 (greedy, fp32), end to end, 1 and 2
//     threads: tokens/s and the share of the ceiling (1 thread: also in CPU time).
// A developer's tool for engine work (not one of `npm run bench`'s benchmarks).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeWorkerSpawner } from '../src/node/threads.js';
import { positionals, flag, list } from './_args.js';

const dir = positionals[0];
if (!dir) {
  console.error('usage: npx tsx bench/_trees-ab.ts OLD_TREE [--tokens=128] [--rounds=3]');
  process.exit(2);
}
const tokens = flag('tokens', 128);
const rounds = flag('rounds', 3);
const dtypes = list('dtypes', 'fp32,int8');
const threadCounts = list('threads', '1,2').map(Number);
const steps = flag('steps', 16);
// which tree's models are built first: the second one's engines measured 0.4-0.7 ms slower a step (int8, 1 thread)
// in some runs whichever tree it was, so run both orders
const newFirst = process.argv.includes('--new-first');

/* eslint-disable @typescript-eslint/no-explicit-any -- two trees' classes of the same shape, loaded at run time */
async function load(root: string): Promise<{ GPT2LMHeadModel: any; engineLoader: any }> {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { GPT2LMHeadModel } = await import(url('src/model/model.ts'));
  const { engineLoader } = await import(url('src/engine/backend.ts'));
  return { GPT2LMHeadModel, engineLoader };
}
const trees = { old: await load(dir), new: await load('.') };
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
type Name = keyof typeof trees;
const names: Name[] = ['old', 'new'];

const models: Record<string, any> = {};
for (const dtype of new Set([...dtypes, ...(tokens > 0 ? ['fp32'] : [])])) {
  for (const n of newFirst ? [...names].reverse() : names) {
    const loader = trees[n].engineLoader({ dtype, threads: 2, spawn: nodeWorkerSpawner() });
    models[`${n}/${dtype}`] = await trees[n].GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: loader });
  }
}
const engineOf = (m: any): any => m.backend.engine;

/** `steps` decode steps at batch 1 after an 8-token prompt through the backend (as generate() calls it): CPU and wall ms a step. */
function burst(m: any, steps: number): { cpu: number; wall: number } {
  const prompt = Array.from({ length: 8 }, (_, i) => (i * 97 + 13) % 50257);
  const cache = m.createCache(1, 8 + steps);
  const V = m.config.vocab_size;
  const logits = new Float32Array(V);
  const fwd = (ids: number[], past: number): void => {
    m.forwardSync({ input_ids: [ids], position_ids: [ids.map((_, i) => past + i)], past_key_values: cache, num_logits_to_keep: 1, logits_buffer: logits });
  };
  fwd(prompt, 0);
  const c0 = cpu();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) fwd([(s * 31 + 7) % V], 8 + s);
  return { cpu: (cpu() - c0) / steps, wall: (performance.now() - t0) / steps };
}

console.log(`random:gpt2, decode steps at batch 1 (${steps} after 8), ${rounds} interleaved rounds; median over rounds`);
for (const dtype of dtypes) {
  for (const threads of threadCounts) {
    const r: Record<Name, { cpu: number[]; wall: number[]; ofCeiling: number[] }> = { old: { cpu: [], wall: [], ofCeiling: [] }, new: { cpu: [], wall: [], ofCeiling: [] } };
    for (const n of names) engineOf(models[`${n}/${dtype}`]).setActiveThreads(threads);
    burst(models[`old/${dtype}`], 4); // warm-up
    burst(models[`new/${dtype}`], 4);
    for (let round = 0; round < rounds; round++) {
      for (const n of round % 2 ? [...names].reverse() : names) {
        const m = models[`${n}/${dtype}`];
        const e = engineOf(m);
        const ceiling = e.probeBandwidth(2) / e.weightBytes; // steps/s
        const b = burst(m, steps);
        r[n].cpu.push(b.cpu);
        r[n].wall.push(b.wall);
        r[n].ofCeiling.push(1000 / b.wall / ceiling);
      }
    }
    const line = names.map((n) => `${n} ${median(r[n].cpu).toFixed(2)} ms CPU, ${median(r[n].wall).toFixed(2)} ms wall, ${(100 * median(r[n].ofCeiling)).toFixed(0)}% of ceiling`).join(' | ');
    console.log(`${dtype} ${threads} thread${threads > 1 ? 's' : ' '}: ${line}`);
  }
}

if (tokens > 0) console.log(`\nsustained: generate() of ${tokens} new tokens after 8, greedy, fp32, batch 1, ${rounds} interleaved rounds; median`);
for (const threads of tokens > 0 ? threadCounts : []) {
  const r: Record<Name, { tokS: number[]; ofCeiling: number[]; cpuOfCeiling: number[] }> = { old: { tokS: [], ofCeiling: [], cpuOfCeiling: [] }, new: { tokS: [], ofCeiling: [], cpuOfCeiling: [] } };
  for (const n of names) engineOf(models[`${n}/fp32`]).setActiveThreads(threads);
  for (let round = 0; round < rounds; round++) {
    for (const n of round % 2 ? [...names].reverse() : names) {
      const m = models[`${n}/fp32`];
      const e = engineOf(m);
      const ceiling = e.probeBandwidth(2) / e.weightBytes;
      const c1 = cpu();
      e.probeBandwidth(1);
      const probeCpu = cpu() - c1; // one pass over the weights in CPU time: the ceiling in CPU time (1 thread)
      const prompt = Array.from({ length: 8 }, (_, i) => (i * 97 + 13) % 50257);
      const c0 = cpu();
      const t0 = performance.now();
      await m.generate({ input_ids: [prompt], max_new_tokens: tokens, min_new_tokens: tokens, do_sample: false, pad_token_id: 50256, on_warning: () => {} });
      const wall = performance.now() - t0;
      const stepCpu = (cpu() - c0) / tokens;
      r[n].tokS.push((tokens * 1000) / wall);
      r[n].ofCeiling.push((tokens * 1000) / wall / ceiling);
      // 1 thread: a step's CPU ms against the probe's (which reads the weights once)
      r[n].cpuOfCeiling.push(probeCpu / stepCpu);
    }
  }
  const line = names
    .map((n) => `${n} ${median(r[n].tokS).toFixed(1)} tok/s, ${(100 * median(r[n].ofCeiling)).toFixed(0)}% of ceiling (wall)${threads === 1 ? `, ${(100 * median(r[n].cpuOfCeiling)).toFixed(0)}% (CPU time)` : ''}`)
    .join(' | ');
  console.log(`fp32 ${threads} thread${threads > 1 ? 's' : ' '}: ${line}`);
}
for (const m of Object.values(models)) m.backend.dispose();

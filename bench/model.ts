// npm run bench -- model [--steps N]: the reference forward pass on random:gpt2 (the 124M shape).
// Figures: load time, prefill 8 and 128 tokens, cached decode tokens/s at batch 1 and 4, peak RSS, threads, and
// the ratio of one decode step to a bandwidth baseline measured in the same run (a plain JS loop summing a
// Float32Array as large as the weights: the least time any decoder needs to stream them once).
// Then a loading bench from a real safetensors file of the 124M shape, in a child process so its RSS is clean.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { savePretrained } from '../src/node/model.js';

const MB = 1024 * 1024;
const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

function sumOnce(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Seconds to stream `bytes` of float32 once with a plain JS loop (best of 3). */
function bandwidthBaseline(bytes: number): { seconds: number; gbps: number } {
  const a = new Float32Array(bytes / 4).fill(1);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    if (sumOnce(a) !== a.length) throw new Error('baseline sum is wrong');
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { seconds: best, gbps: bytes / best / 1e9 };
}

async function timeIt<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await f();
  return [performance.now() - t, r];
}

function ids(B: number, T: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (b * 7919 + t * 104729) % 50257));
}

/** Child mode: load a folder, report load time and memory as JSON on stdout. */
async function loadChild(folder: string): Promise<void> {
  const before = process.memoryUsage().rss;
  const t = performance.now();
  const model = await GPT2LMHeadModel.from_pretrained(folder);
  const ms = performance.now() - t;
  const weightBytes = model.num_parameters() * 4;
  console.log(JSON.stringify({ ms, maxRss: maxRssBytes(), rssBefore: before, weightBytes }));
}

export async function run(flags: string[]): Promise<void> {
  const stepsFlag = flags.find((f) => f.startsWith('--steps='));
  const steps = stepsFlag ? Number(stepsFlag.slice(8)) : 5;

  let t = performance.now();
  const model = await GPT2LMHeadModel.from_pretrained('random:gpt2');
  const loadMs = performance.now() - t;
  const weightBytes = model.num_parameters() * 4;
  console.log(`model: ${model.description}; backend ${model.backend.name}, threads ${model.backend.threads}`);
  console.log(`build random:gpt2 in memory: ${loadMs.toFixed(0)} ms (${(weightBytes / MB).toFixed(0)} MiB of float32 weights)`);

  const base = bandwidthBaseline(weightBytes);
  console.log(`bandwidth baseline (JS loop summing ${(weightBytes / MB).toFixed(0)} MiB): ${(base.seconds * 1000).toFixed(0)} ms = ${base.gbps.toFixed(2)} GB/s`);

  for (const T of [8, 128]) {
    const [ms] = await timeIt(() => model.forward({ input_ids: ids(1, T), num_logits_to_keep: 1 }));
    console.log(`prefill ${String(T).padStart(3)} tokens (batch 1): ${ms.toFixed(0)} ms  (${((ms / 1000) / base.seconds).toFixed(1)}× the baseline)`);
  }

  for (const B of [1, 4]) {
    const first = await model.forward({ input_ids: ids(B, 8), num_logits_to_keep: 1 });
    const cache = first.past_key_values!;
    const next = Array.from({ length: B }, () => [464]);
    const [ms] = await timeIt(async () => {
      for (let s = 0; s < steps; s++) await model.forward({ input_ids: next, past_key_values: cache, num_logits_to_keep: 1 });
    });
    const stepS = ms / 1000 / steps;
    console.log(
      `cached decode, batch ${B}: ${((B * steps) / (ms / 1000)).toFixed(2)} tokens/s (${(stepS * 1000).toFixed(0)} ms/step over ${steps} steps; ` +
        `step / baseline = ${(stepS / base.seconds).toFixed(2)}×)`,
    );
  }
  console.log(`peak RSS (this process): ${(maxRssBytes() / MB).toFixed(0)} MiB`);

  // Loading a real 124M-shape safetensors file, in a fresh process.
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-bench-'));
  try {
    t = performance.now();
    savePretrained(model, dir);
    const fileBytes = statSync(join(dir, 'model.safetensors')).size;
    console.log(`wrote ${(fileBytes / MB).toFixed(0)} MiB model.safetensors in ${(performance.now() - t).toFixed(0)} ms`);
    const self = fileURLToPath(import.meta.url);
    const tsx = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules', '.bin', 'tsx');
    const child = spawnSync(tsx, [self, '--load-child', dir], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`load child failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; maxRss: number; rssBefore: number; weightBytes: number };
    console.log(
      `load from safetensors (child process): ${r.ms.toFixed(0)} ms; peak RSS ${(r.maxRss / MB).toFixed(0)} MiB = ${(r.maxRss / r.weightBytes).toFixed(2)}× the weight bytes ` +
        `(${((r.maxRss - r.rssBefore) / r.weightBytes).toFixed(2)}× above the ${(r.rssBefore / MB).toFixed(0)} MiB the process used before loading; bound 1.3×)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--load-child') {
  await loadChild(process.argv[3]!);
}

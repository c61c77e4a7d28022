// npx tsx bench/_beam-ab.ts OLD_TREE [--tokens=128] [--rounds=3]: greedy and 4-beam generate() of this tree against
// another tree's (OLD_TREE/src, made as bench/_trees-ab.ts says, with that tree's own kernels.generated.ts and
// wasm/build when the kernels changed), in ONE process, interleaved round by round so that a shared machine's load
// hits both alike. random:gpt2 (RANDOM weights, the 124M shape), fp32, 1 thread, prompt of 8 tokens, --tokens new
// tokens (min_new_tokens too, so every run does the same steps). Per tree, medians over rounds of: CPU ms a step,
// greedy and 4-beam, and 4-beam's row-tokens/s (4 rows x steps) over greedy's tokens/s (= 4 x greedy step / beam
// step). A developer's tool for engine work (not one of `npm run bench`'s benchmarks).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { positionals, flag } from './_args.js';

const dir = positionals[0];
if (!dir) {
  console.error('usage: npx tsx bench/_beam-ab.ts OLD_TREE [--tokens=128] [--rounds=3]');
  process.exit(2);
}
const tokens = flag('tokens', 128);
const rounds = flag('rounds', 3);

/* eslint-disable @typescript-eslint/no-explicit-any -- two trees' classes of the same shape, loaded at run time */
async function load(root: string): Promise<{ GPT2LMHeadModel: any; engineLoader: any }> {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { GPT2LMHeadModel } = await import(url('src/model/model.ts'));
  const { engineLoader } = await import(url('src/engine/backend.ts'));
  return { GPT2LMHeadModel, engineLoader };
}
const trees = { old: await load(dir), new: await load('.') };
type Name = keyof typeof trees;
const names: Name[] = ['old', 'new'];
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const models: Record<Name, any> = {
  old: await trees.old.GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: trees.old.engineLoader({ dtype: 'fp32' }) }),
  new: await trees.new.GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: trees.new.engineLoader({ dtype: 'fp32' }) }),
};
const prompt = [464, 4583, 286, 44449, 318, 257, 1332, 13];

/** CPU ms a step of generate() with `beams` beams (tokens steps after the prompt's). */
async function run(m: any, beams: number, n: number): Promise<number> {
  const c0 = cpu();
  await m.generate({ input_ids: [prompt], max_new_tokens: n, min_new_tokens: n, num_beams: beams, do_sample: false, pad_token_id: 50256, on_warning: () => {} });
  return (cpu() - c0) / n;
}

for (const n of names) {
  await run(models[n], 1, 4); // warm-up: compile, first pages
  await run(models[n], 4, 4);
}
console.log(`random:gpt2 fp32, 1 thread, generate() of ${tokens} tokens after 8, ${rounds} interleaved rounds; median CPU ms a step`);
const r: Record<Name, { greedy: number[]; beam: number[] }> = { old: { greedy: [], beam: [] }, new: { greedy: [], beam: [] } };
for (let round = 0; round < rounds; round++) {
  for (const n of round % 2 ? [...names].reverse() : names) {
    r[n].greedy.push(await run(models[n], 1, tokens));
    r[n].beam.push(await run(models[n], 4, tokens));
    console.log(`  round ${round} ${n}: greedy ${r[n].greedy.at(-1)!.toFixed(2)} ms, 4-beam ${r[n].beam.at(-1)!.toFixed(2)} ms`);
  }
}
for (const n of names) {
  const g = median(r[n].greedy);
  const b = median(r[n].beam);
  const ratios = r[n].greedy.map((x, i) => (4 * x) / r[n].beam[i]!);
  console.log(`${n}: greedy ${g.toFixed(2)} ms/step, 4-beam ${b.toFixed(2)} ms/step, 4-beam row-tokens/s over greedy tokens/s ${median(ratios).toFixed(2)}x (per round: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
}
for (const n of names) models[n].backend.dispose();

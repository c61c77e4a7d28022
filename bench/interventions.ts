// npm run bench -- interventions [--model=random:gpt2] [--tokens=16] [--threads=2] [--dtype=fp32]: issue 13's
// figures on the WebAssembly engine: a full resid_pre activation-patching grid (n_layer × T cells) for a T-token
// clean/corrupted pair, and one ablation update (the next-token table with one head zero-ablated, what a click in
// the explorer's grid costs). Each is also given as a ratio to a plain forward pass of the prompt measured in the
// same run. Random weights (the exact 124M shape by default): the mechanics are real, the numbers are not.
import { ablate, nextTokens, patch } from '../src/interp/index.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { useNodeWasmBackend } from '../src/node/threads.js';
import type { EngineDType } from '../src/engine/index.js';

/** `--name=value` (bench/main.ts takes bare words for benchmark names) */
function flag(flags: string[], name: string, fallback: string): string {
  const f = flags.find((x) => x.startsWith(`--${name}=`));
  return f === undefined ? fallback : f.slice(name.length + 3);
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

export async function run(flags: string[]): Promise<void> {
  const spec = flag(flags, 'model', 'random:gpt2');
  const T = Number(flag(flags, 'tokens', '16'));
  const threads = Number(flag(flags, 'threads', '2'));
  const dtype = flag(flags, 'dtype', 'fp32') as EngineDType;
  const model = await GPT2LMHeadModel.from_pretrained(spec);
  const backend = await useNodeWasmBackend(model, { threads, dtype });
  const { n_layer: L } = model.config;
  const clean = Array.from({ length: T }, (_, t) => 1000 + 37 * t);
  const corrupted = [...clean];
  [corrupted[1], corrupted[3]] = [clean[3]!, clean[1]!]; // two names swapped, as in the IOI pair
  const decode = { decode: (ids: number[]) => `#${ids[0]}` };
  console.log(`${model.description}; ${backend.name}; a ${T}-token pair`);

  await nextTokens(model, decode, clean); // warm up
  let plainMs = Infinity;
  for (let r = 0; r < 3; r++) plainMs = Math.min(plainMs, (await time(() => nextTokens(model, decode, clean)))[0]);
  console.log(`plain forward of ${T} tokens (next-token table): ${plainMs.toFixed(1)} ms`);

  let ablateMs = Infinity;
  for (let r = 0; r < 3; r++) ablateMs = Math.min(ablateMs, (await time(() => ablate(model, clean, [{ layer: L - 1, head: 0 }], { kind: 'zero', tokenizer: decode })))[0]);
  console.log(`one ablation update (head ${L - 1}.0 zeroed, next-token table): ${ablateMs.toFixed(1)} ms = ${(ablateMs / plainMs).toFixed(2)}× the plain pass (target < 300 ms)`);

  const cpu0 = process.cpuUsage();
  const [gridMs, grid] = await time(() => patch(model, { clean, corrupted, answer: clean[T - 1]!, wrong: clean[T - 2]!, hook: 'resid_pre' }));
  const cpu = process.cpuUsage(cpu0);
  const cells = grid.recovered.length * grid.recovered[0]!.length;
  console.log(`resid_pre patching grid, ${L} layers × ${T} positions = ${cells} cells: ${(gridMs / 1000).toFixed(2)} s = ${(gridMs / plainMs).toFixed(1)}× the plain pass (${(gridMs / cells).toFixed(1)} ms a cell; target < 10 s)`);
  // CPU seconds of every thread together: on a busy machine the wall time above grows, this does not
  console.log(`  CPU time of the grid, all ${threads} threads: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (wall time on an idle machine ≈ this ÷ ${threads})`);
  backend.dispose();
}

// npx tsx bench/_small-m.ts A.wasm [B.wasm ...] [--rounds=5] [--dtype=fp16] [--rows=1,2,3,4]: the decode kernels alone at 1-4 rows
// (or any rows: --rows=5,8,16 for short prompts),
// GPT-2 124M shapes (12 layers' four matmuls, streamed from memory, and the 50257-row LM head), each build instantiated over ONE
// memory and run on the same packed random weights, interleaved round by round: CPU ms per step's worth of
// matmuls and of the head, best of the rounds. A developer's tool for kernel work (not one of `npm run bench`'s).
import { readFileSync } from 'node:fs';
import { DTYPE_CODE, type EngineDType, packPanels, packRows, panelBytes, DTYPE_BYTES } from '../src/engine/pack.js';
import { instantiateKernels, type KernelExports, MODE } from '../src/engine/wasm/module.js';
import { enableRelaxedSimd } from '../src/node/threads.js';
import { mulberry32 } from '../src/model/random.js';
import { positionals, opt } from './_args.js';

enableRelaxedSimd();
const files = positionals;
const rounds = Number(opt('rounds', '5'));
const dtype = opt('dtype', 'fp16') as EngineDType;
const rowsList = opt('rows', '1,2,3,4').split(',').map(Number);
const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
const builds: KernelExports[] = [];
for (const f of files) builds.push(await instantiateKernels(await WebAssembly.compile(readFileSync(f)), memory));
let top = 65536;
const alloc = (bytes: number): number => {
  const p = top;
  top += Math.ceil(bytes / 64) * 64 + 64;
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  return p;
};
const rand = mulberry32(7);
const C = 768;
const V = 50257;
const shapes = [[C, 3 * C], [C, C], [C, 4 * C], [4 * C, C]] as const;
// 12 layers at distinct addresses (the first layer's panels copied), so that a step streams its weights from memory
const first = shapes.map(([K, N]) => {
  const W = Float32Array.from({ length: K * N }, () => (rand() * 2 - 1) * 0.05);
  const w = alloc(panelBytes(K, N, dtype));
  const scale = alloc(N * 4 + 32);
  new Float32Array(memory.buffer, scale, N).fill(1);
  packPanels(W, K, N, dtype, memory.buffer, w, scale);
  const bias = alloc(N * 4 + 32);
  return { K, N, w, scale, bias };
});
const mats = [...first];
for (let l = 1; l < 12; l++) {
  for (const m of first) {
    const w = alloc(panelBytes(m.K, m.N, dtype));
    new Uint8Array(memory.buffer).copyWithin(w, m.w, m.w + panelBytes(m.K, m.N, dtype));
    mats.push({ ...m, w });
  }
}
const E = Float32Array.from({ length: V * C }, () => (rand() * 2 - 1) * 0.05);
const head = alloc(V * C * DTYPE_BYTES[dtype]);
const hscale = alloc(V * 4);
packRows(E, V, C, dtype, memory.buffer, head, hscale);
const maxRows = rowsList.reduce((a, m) => Math.max(a, m), 4);
const x = alloc(maxRows * 4 * C * 4);
new Float32Array(memory.buffer, x, maxRows * 4 * C).set(Float32Array.from({ length: maxRows * 4 * C }, () => rand() * 2 - 1));
const y = alloc(maxRows * 4 * C * 4);
const out = alloc(maxRows * V * 4);
const tmp = alloc(builds.reduce((a, k) => Math.max(a, k.matmul_tmp_bytes(4 * C), k.dot_rows_tmp_bytes(C)), 0));
const xq = alloc(64 + 8 * (4 * C + 1) * 2); // quant_rows holds at most 8 rows (int8 takes it below 8)
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const best = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const M of rowsList) {
    for (const [j, k] of builds.entries()) {
      let c0 = cpu();
      for (const m of mats) {
        if (dtype === 'int8' && M < 8) k.quant_rows(x, M, m.K, xq);
        k.matmul(DTYPE_CODE[dtype], x, M, m.K, m.w, m.N, m.scale, m.bias, y, MODE.STORE, 0, Math.ceil(m.N / 8), tmp, xq);
      }
      const mm = cpu() - c0;
      if (dtype === 'int8' && M < 8) k.quant_rows(x, M, C, xq);
      c0 = cpu();
      k.dot_rows(DTYPE_CODE[dtype], x, M, C, head, hscale, out, V, 0, V, xq, tmp);
      const hd = cpu() - c0;
      for (const [name, v] of [['matmul', mm], ['head', hd]] as const) {
        const key = `${M} ${j} ${name}`;
        best.set(key, Math.min(best.get(key) ?? Infinity, v));
      }
    }
  }
}
console.log(`${dtype}, 1 thread, CPU ms (a step's matmuls: 12 layers x GPT-2's four; the LM head), best of ${rounds} interleaved rounds`);
console.log(`| rows | ${files.map((f, j) => `${j}: matmul | ${j}: head`).join(' | ')} |`);
for (const M of rowsList) console.log(`| ${M} | ${files.map((_, j) => `${best.get(`${M} ${j} matmul`)!.toFixed(2)} | ${best.get(`${M} ${j} head`)!.toFixed(2)}`).join(' | ')} |`);
files.forEach((f, j) => console.log(`${j} = ${f}`));

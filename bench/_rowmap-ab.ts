// npx tsx bench/_rowmap-ab.ts: the cost of reading the KV cache through a row map (WasmEngine.reorderCache) in a
// decode step: random:gpt2 (RANDOM weights), fp32, 1 thread, 4 rows over 100 cached positions, the same engine and
// cache with and without a map (reorder [1, 0, 3, 2] / clearMap), alternated in 6 rounds of 10 steps; median CPU ms
// a step. A developer's tool for engine work (not one of `npm run bench`'s benchmarks).
import { GPT2LMHeadModel } from '../src/model/model.js';
import { engineLoader } from '../src/engine/backend.js';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a bench script
const m: any = await GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: engineLoader({ dtype: 'fp32' }) });
const e = m.backend.engine;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const B = 4, P = 100;
const cache = e.newCache(B, 144);
const ids = Array.from({ length: B * P }, (_, i) => (i * 131) % 50257);
const pos = Array.from({ length: B * P }, (_, i) => i % P);
e.forward({ ids, positions: pos, mask: null, batch: B, cache, keep: 1 });
const step = (n: number) => { const t = cpu(); for (let s = 0; s < n; s++) { cache.length = P; e.forward({ ids: [1, 2, 3, 4], positions: [P, P, P, P], mask: null, batch: B, cache, keep: 1 }); } return (cpu() - t) / n; };
const r: Record<string, number[]> = { none: [], map: [] };
step(3);
for (let round = 0; round < 6; round++) {
  for (const k of round % 2 ? ['map', 'none'] : ['none', 'map']) {
    if (k === 'map') e.reorderCache(cache, [1, 0, 3, 2]); else e.clearMap(cache);
    r[k]!.push(step(10));
  }
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
console.log(`B=4 decode step over ${P} positions, CPU ms: no map ${med(r.none!).toFixed(2)} [${r.none!.map((x) => x.toFixed(1))}], row map ${med(r.map!).toFixed(2)} [${r.map!.map((x) => x.toFixed(1))}]`);
m.backend.dispose();

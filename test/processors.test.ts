// Every logits processor and warper against HF 4.43's own outputs (golden-processors.json): the surviving ids,
// their softmax probabilities (1e-5) and processed scores, for single processors and for HF's generate chains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectCases, readBinRef, readGolden, toNumber } from './helpers/fixtures.js';
import {
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  MinPLogitsWarper,
  NoRepeatNGramLogitsProcessor,
  RepetitionPenaltyLogitsProcessor,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  TypicalLogitsWarper,
  type LogitsProcessor,
} from '../src/generation/logits-process.js';
import { buildLogitsProcessors, buildLogitsWarpers, resolveGenerationConfig, type GenerationConfig } from '../src/generation/configuration.js';

interface Result {
  n_finite: number;
  complete?: boolean;
  non_finite_ids?: number[];
  ids: number[];
  probs: number[];
  scores?: Array<number | string>;
}
interface Golden {
  vectors: Array<{ input_ids: number[]; logits: { file: string; offset: number; shape: number[]; row: number } }>;
  single: Array<{ processor: string; kwargs: Record<string, number>; results: Result[] }>;
  chains: Array<{ description: string; generate_kwargs: Partial<GenerationConfig>; order: string[]; results: Array<{ final: Result; after_each: Result[] }> }>;
}

const golden = readGolden<Golden>('golden-processors.json');
const V = 50257;
const vectors = expectCases(golden.vectors, 'golden-processors.json vectors').map((v) => {
  const all = readBinRef(v.logits);
  return { input_ids: v.input_ids, logits: all.slice(v.logits.row * V, (v.logits.row + 1) * V) };
});

function make(name: string, kw: Record<string, number>): LogitsProcessor {
  const keep = kw.min_tokens_to_keep ?? 1;
  switch (name) {
    case 'TemperatureLogitsWarper': return new TemperatureLogitsWarper(kw.temperature!);
    case 'TopKLogitsWarper': return new TopKLogitsWarper(kw.top_k!, -Infinity, keep);
    case 'TopPLogitsWarper': return new TopPLogitsWarper(kw.top_p!, -Infinity, keep);
    case 'TypicalLogitsWarper': return new TypicalLogitsWarper(kw.mass!, -Infinity, keep);
    case 'EpsilonLogitsWarper': return new EpsilonLogitsWarper(kw.epsilon!, -Infinity, keep);
    case 'EtaLogitsWarper': return new EtaLogitsWarper(kw.epsilon!, -Infinity, keep);
    case 'MinPLogitsWarper': return new MinPLogitsWarper(kw.min_p!, -Infinity, keep);
    case 'RepetitionPenaltyLogitsProcessor': return new RepetitionPenaltyLogitsProcessor(kw.penalty!);
    case 'NoRepeatNGramLogitsProcessor': return new NoRepeatNGramLogitsProcessor(kw.ngram_size!);
    default: throw new Error(`no processor ${name}`);
  }
}

/** Compares processed scores with a golden result: survivors, order, probabilities, scores, removed ids. */
function check(label: string, scores: Float32Array, want: Result): void {
  const finite: number[] = [];
  const removed: number[] = [];
  for (let i = 0; i < scores.length; i++) (scores[i]! > -Infinity ? finite : removed).push(i);
  assert.equal(finite.length, want.n_finite, `${label}: number of surviving tokens`);
  // softmax over the processed scores, in float64
  let m = -Infinity;
  for (const i of finite) m = Math.max(m, scores[i]!);
  let sum = 0;
  for (const i of finite) sum += Math.exp(scores[i]! - m);
  const prob = (i: number): number => Math.exp(scores[i]! - m) / sum;
  const ranked = finite.sort((a, b) => prob(b) - prob(a) || a - b).slice(0, want.ids.length);
  assert.deepEqual(ranked, want.ids, `${label}: surviving ids, by probability`);
  assertClose(`${label} probs`, ranked.map(prob), want.probs, { atol: 1e-5 });
  if (want.scores) assertClose(`${label} scores`, ranked.map((i) => scores[i]!), want.scores.map(toNumber), { atol: 1e-4, rtol: 1e-5 });
  if (want.non_finite_ids) {
    if (want.complete !== false || want.non_finite_ids.length > 0) assert.deepEqual(removed.slice(0, want.non_finite_ids.length), want.non_finite_ids, `${label}: removed ids`);
    if (want.non_finite_ids.length === V - want.n_finite) assert.deepEqual(removed, want.non_finite_ids, `${label}: removed ids`);
  }
}

for (const s of expectCases(golden.single, 'golden-processors.json single')) {
  test(`${s.processor}(${JSON.stringify(s.kwargs)}) matches HF on ${s.results.length} vectors`, () => {
    s.results.forEach((want, vi) => {
      const v = vectors[vi]!;
      const scores = v.logits.slice();
      make(s.processor, s.kwargs).apply(v.input_ids, scores);
      check(`${s.processor} ${JSON.stringify(s.kwargs)} vector ${vi}`, scores, want);
    });
  });
}

for (const c of expectCases(golden.chains, 'golden-processors.json chains')) {
  test(`chain "${c.description}": HF's processors in HF's order, same survivors`, () => {
    const cfg = resolveGenerationConfig({}, c.generate_kwargs);
    c.results.forEach((want, vi) => {
      const v = vectors[vi]!;
      const list = [...buildLogitsProcessors(cfg, v.input_ids.length), ...(cfg.do_sample ? buildLogitsWarpers(cfg) : [])];
      assert.deepEqual(list.map(String), c.order);
      const scores = v.logits.slice();
      list.forEach((p, k) => {
        p.apply(v.input_ids, scores);
        const step = want.after_each[k];
        if (step) check(`${c.description} vector ${vi} after ${c.order[k]}`, scores, step);
      });
      check(`${c.description} vector ${vi} final`, scores, want.final);
    });
  });
}

test('TopK keeps every score tied with the k-th; TopP always keeps the top token', () => {
  const s = new Float32Array([1, 3, 3, 2, 3, 0]);
  new TopKLogitsWarper(2).apply([], s);
  assert.deepEqual(Array.from(s), [-Infinity, 3, 3, -Infinity, 3, -Infinity]);
  const p = new Float32Array([10, 0, 0, 0]);
  new TopPLogitsWarper(0.01).apply([], p);
  assert.deepEqual(Array.from(p), [10, -Infinity, -Infinity, -Infinity]);
  // top_p = 1 removes nothing: the ascending cumsum never reaches <= 0 except at exact zeros
  const q = new Float32Array([1, 2, 3]);
  new TopPLogitsWarper(1).apply([], q);
  assert.deepEqual(Array.from(q), [1, 2, 3]);
});

test('warper constructors reject bad values with HF messages', () => {
  assert.throws(() => new TemperatureLogitsWarper(0), {
    message: "`temperature` (=0) has to be a strictly positive float, otherwise your next token scores will be invalid. If you're looking for greedy decoding strategies, set `do_sample=False`.",
  });
  assert.throws(() => new TopKLogitsWarper(0), { message: '`top_k` has to be a strictly positive integer, but is 0' });
  assert.throws(() => new TopPLogitsWarper(1.5), { message: '`top_p` has to be a float > 0 and <= 1, but is 1.5' });
  assert.throws(() => new MinPLogitsWarper(2), { message: '`min_p` has to be a float in the [0, 1] interval, but is 2' });
  assert.throws(() => new TypicalLogitsWarper(1), { message: '`typical_p` has to be a float > 0 and < 1, but is 1' });
  assert.throws(() => new RepetitionPenaltyLogitsProcessor(0), { message: '`penalty` has to be a strictly positive float, but is 0' });
  assert.throws(() => new NoRepeatNGramLogitsProcessor(0), { message: '`ngram_size` has to be a strictly positive integer, but is 0' });
});

test('TopP (bucketed walk) equals a plain sort-and-cumsum reference on varied distributions', () => {
  /** HF's algorithm, literally: ascending sort, cumulative softmax, remove <= 1 - top_p, keep the top token. */
  const reference = (x: Float32Array, top_p: number): boolean[] => {
    const m = Math.max(...x);
    const p = Array.from(x, (v) => Math.exp(v - m));
    const z = p.reduce((a, b) => a + b, 0);
    const asc = [...x.keys()].sort((a, b) => p[a]! - p[b]! || b - a);
    const removed = new Array<boolean>(x.length).fill(false);
    let cum = 0;
    asc.forEach((id, r) => {
      cum += p[id]! / z;
      if (r < asc.length - 1 && Math.fround(cum) <= Math.fround(1 - top_p)) removed[id] = true;
    });
    return removed;
  };
  let seed = 12345;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let trial = 0; trial < 24; trial++) {
    const n = 2000;
    const spread = [0.5, 2, 6][trial % 3]!;
    const x = Float32Array.from({ length: n }, () => spread * (rand() + rand() + rand() - 1.5) * 2);
    // also after a top-k 100: few finite scores take the sparse path
    const afterTopK = x.slice();
    new TopKLogitsWarper(100).apply([], afterTopK);
    for (const [label, input] of [['dense', x], ['sparse', afterTopK]] as const) {
      for (const top_p of [0.3, 0.9, 0.99]) {
        const got = input.slice();
        new TopPLogitsWarper(top_p).apply([], got);
        const want = reference(input, top_p);
        const diff = [...got.keys()].filter((i) => (got[i] === -Infinity) !== (want[i] || input[i] === -Infinity));
        assert.deepEqual(diff, [], `trial ${trial} ${label} top_p ${top_p}`);
      }
    }
  }
});

test('Typical (bucketed walk) equals a plain sort-and-cumsum reference on varied distributions', () => {
  /** HF's algorithm, literally: sort by |surprisal - H|, cumulative softmax, threshold at last_ind. */
  const reference = (x: Float32Array, mass: number): boolean[] => {
    const m = Math.max(...x);
    const e = Array.from(x, (v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    const logp = Array.from(x, (v) => v - m - Math.log(z));
    const ent = -logp.reduce((a, l) => a + l * Math.exp(l), 0);
    const key = logp.map((l) => Math.abs(-l - ent));
    const sorted = [...x.keys()].sort((a, b) => key[a]! - key[b]! || a - b);
    let cum = 0;
    let last = 0;
    for (const id of sorted) {
      cum += e[id]! / z;
      if (Math.fround(cum) < mass) last++;
      else break;
    }
    const threshold = key[sorted[Math.min(last, sorted.length - 1)]!]!;
    return key.map((k) => k > threshold);
  };
  let seed = 777;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let trial = 0; trial < 18; trial++) {
    const spread = [0.5, 2, 6][trial % 3]!;
    const x = Float32Array.from({ length: 2000 }, () => spread * (rand() + rand() + rand() - 1.5) * 2);
    for (const mass of [0.2, 0.9, 0.99]) {
      const got = x.slice();
      new TypicalLogitsWarper(mass).apply([], got);
      const want = reference(x, mass);
      const diff = [...got.keys()].filter((i) => (got[i] === -Infinity) !== want[i]);
      assert.deepEqual(diff, [], `trial ${trial} mass ${mass}`);
    }
  }
});

test('TopP with min_tokens_to_keep keeps at least the best min_tokens_to_keep tokens', () => {
  const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 3);
  const best5 = [...x.keys()].sort((a, b) => x[b]! - x[a]!).slice(0, 5).sort((a, b) => a - b);
  const got = x.slice();
  new TopPLogitsWarper(0.001, -Infinity, 5).apply([], got);
  assert.deepEqual([...got.keys()].filter((i) => got[i]! > -Infinity), best5);
  const one = x.slice();
  new TopPLogitsWarper(0.0001).apply([], one); // the top token alone holds more than 0.0001
  assert.deepEqual([...one.keys()].filter((i) => one[i]! > -Infinity), [[...x.keys()].reduce((a, b) => (x[b]! > x[a]! ? b : a))]);
});

test('topBeamCandidates: the k best of float32(row + beam score) over [beams × vocab], ties by flat index, as a full stable sort', async () => {
  const { topBeamCandidates, logSoftmaxInPlace } = await import('../src/generation/math.js');
  const { logSumExp } = await import('../src/model/topk.js');
  const V = 37;
  const beams = 3;
  const rows = 2 * beams; // two batch items
  const logits = new Float32Array(rows * V);
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  // few distinct values (many ties) and some -Infinity (tokens ruled out)
  for (let i = 0; i < logits.length; i++) logits[i] = rnd() < 0.1 ? -Infinity : Math.round(rnd() * 6) / 4;
  const beamScores = new Float32Array([0, -1e9, -0.5, 0.25, 0.25, -Infinity]);
  let checked = 0;
  for (const k of [1, 2, 6, 8, 50, beams * V, beams * V + 5]) {
    for (let b = 0; b < 2; b++) {
      const flat = new Float32Array(beams * V);
      for (let j = 0; j < beams; j++) for (let v = 0; v < V; v++) flat[j * V + v] = logits[(b * beams + j) * V + v]! + beamScores[b * beams + j]!;
      const expected = Array.from(flat.keys()).sort((x, y) => flat[y]! - flat[x]! || x - y).slice(0, k);
      const idx = new Int32Array(k);
      const score = new Float32Array(k);
      const n = topBeamCandidates(logits, b * beams, beams, V, beamScores, k, idx, score);
      assert.equal(n, Math.min(k, beams * V));
      assert.deepEqual(Array.from(idx.subarray(0, n)), expected);
      assert.deepEqual(Array.from(score.subarray(0, n)), expected.map((i) => flat[i]!));
      checked++;
    }
  }
  assert.equal(checked, 14);
  // logSoftmaxInPlace subtracts exactly logSumExp's value
  const row = logits.slice(0, V);
  const lse = logSumExp(row);
  const want = Float32Array.from(row, (x) => x - lse);
  logSoftmaxInPlace(row);
  assert.deepEqual(Array.from(row), Array.from(want));
});

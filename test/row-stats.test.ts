// RowStats of logits rows (src/model/row-stats.ts): the engine's row_stats kernel (kernels.ts, both builds) and
// WasmEngine.rowStats against rowStatsReference on odd lengths and rows with -inf, NaN, +inf and only -inf, printing
// the worst lse error and how many float32 log-probabilities (logit - lse) differ; and beam search's candidate
// selection with the shift taken on the fly (topBeamCandidates with `shift`) against the materialised log-softmax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/model/random.js';
import { findNonFiniteLogit } from '../src/model/non-finite.js';
import { argmax, logSumExp } from '../src/model/topk.js';
import { newRowStats, rowStatsReference, type RowStats } from '../src/model/row-stats.js';
import { type KernelSimd, instantiateKernels, kernelModule } from '../src/engine/wasm/module.js';
import { logSoftmaxInPlace, topBeamCandidates } from '../src/generation/math.js';
import { GPT2LMHeadModel, referenceBackend } from '../src/model/index.js';
import '../src/node/model.js';
import { generate, type GenerateOptions, type GenerationModel } from '../src/generation/generate.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { generateCases } from './helpers/generate-golden.js';
import { WasmBackend } from '../src/engine/index.js';
import { enableRelaxedSimd } from '../src/node/threads.js';

enableRelaxedSimd();
const rand = mulberry32(99);

/** Rows of `n` logits shaped like a model's (a heavy head over a normal-ish background), scaled by `s`. */
function logitsRow(n: number, s = 3): Float32Array {
  return Float32Array.from({ length: n }, () => s * (rand() + rand() + rand() - 1.5) + (rand() < 0.01 ? 6 : 0));
}

/** The rows the kernel is tested on: [name, row]. */
function cases(): Array<[string, Float32Array]> {
  const out: Array<[string, Float32Array]> = [];
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 50, 1001, 50257]) out.push([`random n=${n}`, logitsRow(n)]);
  const big = logitsRow(50257, 40); // wide range: exp underflows for most terms
  out.push(['wide range n=50257', big]);
  const ties = new Float32Array(7).fill(2);
  ties[5] = 3;
  ties[6] = 3;
  out.push(['ties: the first max wins', ties]);
  const someInf = logitsRow(50257);
  for (let i = 0; i < someInf.length; i += 3) someInf[i] = -Infinity;
  out.push(['every third -inf n=50257', someInf]);
  const oneLeft = new Float32Array(7).fill(-Infinity);
  oneLeft[6] = -4.5;
  out.push(['only the last (tail lane) finite n=7', oneLeft]);
  for (const n of [1, 3, 7, 50257]) out.push([`all -inf n=${n}`, new Float32Array(n).fill(-Infinity)]);
  for (const [where, n] of [[0, 7], [6, 7], [2, 3], [40000, 50257]] as const) {
    const r = logitsRow(n);
    r[where] = NaN;
    out.push([`NaN at ${where} n=${n}`, r]);
    const p = logitsRow(n);
    p[where] = Infinity;
    out.push([`+inf at ${where} n=${n}`, p]);
  }
  const both = logitsRow(50257);
  both[30000] = Infinity;
  both[20000] = NaN;
  both[10000] = -Infinity;
  out.push(['NaN before +inf n=50257', both]);
  const minusThenNan = new Float32Array(9).fill(-Infinity);
  minusThenNan[8] = NaN;
  out.push(['-inf then NaN in the tail n=9', minusThenNan]);
  // flat rows under one peak, the peak's bits finer than the rest's: x - max rounded in float32 errs by the same
  // |d| · 2^-24 on every term (the sum of a float32 reduction was 4.3e-7 off in lse, 3.6 ulps on the peak's log-probability)
  for (const [peak, flat] of [[1e-5, -8.5432], [0.0123, -10.123456]] as const) {
    const r = new Float32Array(50257).fill(flat);
    r[0] = peak;
    out.push([`flat ${flat} under one peak ${peak} n=50257`, r]);
  }
  const huge = logitsRow(1001);
  huge[17] = 3.4e38;
  huge[18] = -3.4e38;
  out.push(['near float32 max n=1001', huge]);
  return out;
}

/** Checks `got` against the reference on `row`; returns [lse error, differing float32 log-probabilities]. */
function compare(label: string, row: Float32Array, got: RowStats, r: number): [number, number] {
  const want = newRowStats(1);
  rowStatsReference(row, 1, row.length, want);
  assert.equal(got.bad[r], want.bad[0], `${label}: bad`);
  assert.equal(want.bad[0], findNonFiniteLogit(row), `${label}: the reference's bad is findNonFiniteLogit's`);
  assert.equal(got.max[r], want.max[0], `${label}: max`);
  const hasNaN = row.some(Number.isNaN);
  if (hasNaN) return [0, 0]; // lse and argmax are not defined there (generate() throws first)
  assert.equal(got.argmax[r], want.argmax[0], `${label}: argmax`);
  assert.equal(want.argmax[0], argmax(row), `${label}: the reference's argmax is topk.ts's`);
  const lseRef = logSumExp(row);
  assert.equal(want.lse[0], lseRef, `${label}: the reference's lse is logSumExp's, exactly`);
  if (!Number.isFinite(lseRef)) {
    assert.equal(got.lse[r], lseRef, `${label}: lse`);
    return [0, 0];
  }
  // the kernel's exp is float32 (relative error ~1e-7 per term), summed in float64: lse = max + log(sum) is off by
  // at most the sum's relative error, and a float32 log-probability (logit - lse) by at most one ulp
  const err = Math.abs(got.lse[r]! - lseRef);
  assert.ok(err <= 2e-7, `${label}: lse ${got.lse[r]} vs ${lseRef}`);
  let differ = 0;
  for (let i = 0; i < row.length; i++) {
    const a = Math.fround(row[i]! - got.lse[r]!);
    const b = Math.fround(row[i]! - lseRef);
    if (a === b) continue;
    differ++;
    assert.ok(Math.abs(a - b) <= Math.abs(b) * 2 ** -23 + 1e-30, `${label}: log-probability ${i}: ${a} vs ${b}, more than one ulp apart`);
  }
  return [err, differ];
}

test('row_stats kernel (plain and relaxed builds) equals rowStatsReference: max, argmax, non-finite check exactly, lse within 2e-7 (log-probabilities within one ulp)', async () => {
  const all = cases();
  assert.equal(all.length, 32, 'the cases listed');
  for (const simd of ['plain', 'relaxed'] as KernelSimd[]) {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
    const k = await instantiateKernels(await kernelModule(false, simd), memory);
    let worst = 0;
    let differ = 0;
    let values = 0;
    // each case alone, then all of one length as a batch of rows (rows at offsets that are not 16-byte aligned)
    const groups = new Map<number, Float32Array[]>();
    for (const [, row] of all) groups.set(row.length, [...(groups.get(row.length) ?? []), row]);
    for (const [n, rows] of groups) {
      const x = 65536;
      const out = x + rows.length * n * 4 + 64 - ((rows.length * n * 4) % 64);
      const need = out + rows.length * 32;
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      rows.forEach((row, r) => new Float32Array(memory.buffer, x + r * n * 4, n).set(row));
      k.row_stats(x, rows.length, n, out);
      const s = new Float64Array(memory.buffer, out, rows.length * 4);
      const got = newRowStats(rows.length);
      rows.forEach((_, r) => {
        got.max[r] = s[4 * r]!;
        got.lse[r] = Number.isFinite(s[4 * r]!) ? s[4 * r]! + Math.log(s[4 * r + 1]!) : s[4 * r]!;
        got.argmax[r] = s[4 * r + 2]!;
        got.bad[r] = s[4 * r + 3]!;
      });
      rows.forEach((row, r) => {
        const label = `${simd}: ${all.find(([, rw]) => rw === row)![0]}`;
        const [e, d] = compare(label, row, got, r);
        worst = Math.max(worst, e);
        differ += d;
        values += row.length;
      });
    }
    console.log(`row_stats ${simd}: worst |lse - logSumExp| ${worst.toExponential(2)}; float32 log-probabilities that differ: ${differ} of ${values}`);
  }
});

test('WasmEngine.rowStats (through GPT2LMHeadModel.rowStats) equals the reference on a batch of rows; the reference model uses rowStatsReference', async () => {
  const model = await GPT2LMHeadModel.from_pretrained('random:32x1x2');
  const V = model.config.vocab_size;
  const rows = [logitsRow(V), logitsRow(V, 30), new Float32Array(V).fill(-Infinity), logitsRow(V)];
  rows[3]![500] = Infinity;
  const data = new Float32Array(4 * V);
  rows.forEach((r, i) => data.set(r, i * V));
  const ref = newRowStats(4);
  model.rowStats(data, 4, V, ref); // the reference backend: rowStatsReference itself
  const want = newRowStats(4);
  rowStatsReference(data, 4, V, want);
  assert.deepEqual(ref, want);
  const backend = await WasmBackend.create(model.config, model.weights);
  model.backend = backend;
  const got = newRowStats(4);
  model.rowStats(data, 4, V, got);
  assert.deepEqual([...got.bad], [-1, -1, 0, 500]);
  rows.forEach((row, r) => compare(`engine row ${r}`, row, got, r));
  assert.throws(() => model.rowStats(data, 5, V, newRowStats(5)), /rowStats: 5 rows of 50257 values need 251285 values, the data holds 201028/);
  assert.throws(() => model.rowStats(data, 4, V, newRowStats(3)), /rowStats: the output has room for fewer than 4 rows/);
  backend.dispose();
});

test('topBeamCandidates with the shift taken on the fly equals it on the materialised log-softmax rows (ties, -inf)', () => {
  const V = 1001;
  for (let trial = 0; trial < 20; trial++) {
    const beams = 1 + (trial % 4);
    const logits = new Float32Array(beams * V);
    for (let j = 0; j < beams; j++) logits.set(logitsRow(V, trial < 10 ? 0.001 : 3).map((x) => (trial % 3 === 0 ? Math.round(x * 4) / 4 : x)), j * V); // rounded: many ties
    for (let i = 0; i < logits.length; i += 7 + trial) logits[i] = -Infinity;
    const beamScores = Float32Array.from({ length: beams }, (_, j) => (j === 0 ? 0 : -0.25 * j));
    const stats = newRowStats(beams);
    rowStatsReference(logits, beams, V, stats);
    const materialised = logits.slice();
    for (let j = 0; j < beams; j++) logSoftmaxInPlace(materialised.subarray(j * V, (j + 1) * V), stats.lse[j]!);
    const k = 2 * beams + trial;
    const [ia, sa, ib, sb] = [new Int32Array(k), new Float32Array(k), new Int32Array(k), new Float32Array(k)];
    const na = topBeamCandidates(materialised, 0, beams, V, beamScores, k, ia, sa);
    const nb = topBeamCandidates(logits, 0, beams, V, beamScores, k, ib, sb, stats.lse);
    assert.equal(nb, na);
    assert.deepEqual([...ib], [...ia], `trial ${trial}: indices`);
    assert.deepEqual([...sb], [...sa], `trial ${trial}: scores`);
    // and both are the head of a full stable sort of the materialised sums (an independent computation)
    const sums = Array.from({ length: beams * V }, (_, i) => Math.fround(materialised[i]! + beamScores[Math.floor(i / V)]!));
    const order = sums.map((_, i) => i).sort((x, y) => (sums[y]! > sums[x]! ? 1 : sums[y]! < sums[x]! ? -1 : x - y));
    assert.deepEqual([...ib.subarray(0, nb)], order.slice(0, nb), `trial ${trial}: a full sort's head`);
    // and logSoftmaxInPlace with the lse given equals computing it
    const own = logits.slice(0, V);
    logSoftmaxInPlace(own);
    assert.deepEqual([...own], [...materialised.subarray(0, V)]);
  }
});

test('every beam golden without output_scores (the log-softmax shift taken on the fly) equals HF and the materialised path, reference and engine', async () => {
  const fixture = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  const beamCases = generateCases().filter((c) => ((c.kwargs.num_beams as number | undefined) ?? 1) > 1 && !c.kwargs.do_sample);
  assert.equal(beamCases.length, 16, 'the beam goldens without sampling in golden-generate.json');
  const engine = await WasmBackend.create(fixture.config, fixture.weights);
  try {
    for (const backend of [referenceBackend, engine]) {
      fixture.backend = backend;
      for (const c of beamCases) {
        const base = { ...(c.kwargs as Partial<GenerateOptions>), input_ids: c.input_ids, attention_mask: c.attention_mask, on_warning: () => {} };
        const lazy = await generate(fixture, { ...base, output_scores: false });
        const full = await generate(fixture, { ...base, output_scores: true });
        const label = `${c.name} (${backend.name})`;
        assert.deepEqual(lazy.sequences, c.sequences, `${label}: HF's sequences`);
        assert.deepEqual(lazy.sequences_scores, full.sequences_scores, `${label}: sequences_scores equal the materialised path's`);
        assert.deepEqual(lazy.beam_indices, full.beam_indices, `${label}: beam_indices`);
      }
    }
  } finally {
    engine.dispose();
  }
});

test('generate() stops with the same NonFiniteLogitsError whether the engine kernel or the reference checks the rows (greedy, beam search)', async () => {
  const model = await GPT2LMHeadModel.from_pretrained('random:32x1x2');
  const backend = await WasmBackend.create(model.config, model.weights);
  model.backend = backend;
  const V = model.config.vocab_size;
  // logits as the model gives them, with one value broken at step 2: row 1, token 7
  const wrapper = (poison: number, withKernel: boolean): GenerationModel => {
    let calls = 0;
    return {
      config: model.config,
      generation_config: {},
      forward: async (inputs) => {
        const out = await model.forward(inputs);
        if (++calls === 2 && out.logits.data.length >= 2 * V) out.logits.data[V + 7] = poison;
        return out;
      },
      ...(withKernel ? { rowStats: (d: Float32Array, r: number, n: number, o: RowStats) => model.rowStats(d, r, n, o) } : {}),
    };
  };
  let checked = 0;
  try {
    for (const poison of [NaN, Infinity]) {
      for (const opts of [{ input_ids: [[1, 2], [3, 4]] }, { input_ids: [1, 2], num_beams: 2 }] as const) {
        const errors: string[] = [];
        for (const withKernel of [true, false]) {
          await assert.rejects(generate(wrapper(poison, withKernel), { ...opts, max_new_tokens: 4, pad_token_id: 0, on_warning: () => {} }), (e: Error) => {
            assert.equal(e.name, 'NonFiniteLogitsError');
            errors.push(e.message);
            return true;
          });
        }
        assert.equal(errors[0], errors[1]);
        assert.match(errors[0]!, new RegExp(`\\(${Number.isNaN(poison) ? 'NaN' : 'Infinity'} for token 7 in row 1\\)`));
        checked++;
      }
    }
  } finally {
    backend.dispose();
  }
  assert.equal(checked, 4);
});

test('greedy with processors takes RowStats of the processed rows only (the raw rows get the check alone), on GPT2LMHeadModel whose rowStats always exists', async () => {
  const model = await GPT2LMHeadModel.from_pretrained('random:32x1x2');
  const own = model.rowStats.bind(model);
  let rows = 0;
  model.rowStats = (d, r, n, o) => {
    rows += r;
    own(d, r, n, o);
  };
  const plain = await generate(model, { input_ids: [[1, 2], [3, 4]], max_new_tokens: 3, pad_token_id: 0, on_warning: () => {} });
  assert.equal(rows, 2 * 3, 'no processor: the raw rows, once a step');
  rows = 0;
  const penalised = await generate(model, { input_ids: [[1, 2], [3, 4]], max_new_tokens: 3, pad_token_id: 0, repetition_penalty: 1.5, on_warning: () => {} });
  assert.equal(rows, 2 * 3, 'with a processor: each processed row, once a step (not the raw rows besides)');
  assert.equal(penalised.sequences.length, plain.sequences.length);
});

// GPT2Model / GPT2LMHeadModel against HF's goldens (golden-forward.json): every case, every hidden state and
// attention, the logits, the left-padded batch; the KV cache against a full recompute; input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURE_DIR, assertClose, expectCases, flat, fixturePath, readBinRef, readGolden } from './helpers/fixtures.js';
import { GPT2LMHeadModel, GPT2Model, KVCache, type Tensor } from '../src/index.js';
import '../src/node/model.js';

interface Summary {
  argmax: number[];
  max: number[];
  logsumexp: number[];
  top5_ids: number[][];
  top5_logits: number[][];
}
interface ForwardCase {
  text: string;
  input_ids: number[];
  last_hidden_state: number[][];
  hidden_states: number[][][];
  attentions: number[][][][];
  logits: { file: string; offset: number; shape: number[] };
  logits_positions: number[];
  logits_summary: Summary;
}
interface PaddedCase {
  input_ids: number[][];
  attention_mask: number[][];
  position_ids: number[][];
  last_hidden_state: number[][][];
  hidden_states: number[][][][];
  attentions: number[][][][][];
  logits_summary: Summary[];
  default_position_ids_case: { position_ids: number[]; last_hidden_state: number[][][]; logits_summary: Summary[] };
}
const golden = readGolden<{ cases: ForwardCase[]; batch_left_padded: PaddedCase }>('golden-forward.json');

const base = await GPT2Model.from_pretrained(FIXTURE_DIR);
const lm = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const V = lm.config.vocab_size;
const HS = { atol: 1e-5, rtol: 1e-4 };

function topIds(row: Float32Array, offset: number, k: number): number[] {
  const idx = Array.from({ length: V }, (_, i) => i);
  return idx.sort((a, b) => row[offset + b]! - row[offset + a]! || a - b).slice(0, k);
}

function checkSummary(name: string, logits: Tensor, b: number, t: number, s: Summary, i: number): void {
  const [, T] = logits.dims as [number, number, number];
  const off = (b * T + t) * V;
  assert.deepEqual(topIds(logits.data, off, 5), s.top5_ids[i], `${name}: top-5 ids at position ${t}`);
  assertClose(`${name} top-5 logits @${t}`, s.top5_ids[i]!.map((id) => logits.data[off + id]!), s.top5_logits[i]!, { atol: 1e-4 });
}

test('config of the fixture: n_layer 2, n_head 4, n_embd 64, tied head', () => {
  assert.equal(lm.config.n_layer, 2);
  assert.equal(lm.config.n_embd, 64);
  assert.equal(lm.weights.lm_head, undefined);
  assert.deepEqual(lm.generation_config, { _from_model_config: true, bos_token_id: 50256, eos_token_id: 50256, transformers_version: '4.43.4' });
  assert.equal(lm.is_random, false);
});

for (const [ci, c] of expectCases(golden.cases, 'golden-forward.json cases').entries()) {
  test(`golden forward case ${ci} (${JSON.stringify(c.text)}): hidden states, attentions, logits`, async () => {
    const T = c.input_ids.length;
    const out = await base.forward({ input_ids: [c.input_ids], output_hidden_states: true, output_attentions: true });
    assert.deepEqual(out.last_hidden_state.dims, [1, T, 64]);
    assertClose('last_hidden_state', out.last_hidden_state.data, flat(c.last_hidden_state), { ...HS, dims: [1, T, 64] });
    assert.equal(out.hidden_states!.length, 3);
    out.hidden_states!.forEach((h, i) => assertClose(`hidden_states[${i}]`, h.data, flat(c.hidden_states[i]), { ...HS, dims: h.dims }));
    assert.equal(out.attentions!.length, 2);
    out.attentions!.forEach((a, i) => {
      assert.deepEqual(a.dims, [1, 4, T, T]);
      assertClose(`attentions[${i}]`, a.data, flat(c.attentions[i]), { ...HS, dims: a.dims });
    });

    const lmOut = await lm.forward({ input_ids: [c.input_ids] });
    assert.deepEqual(lmOut.logits.dims, [1, T, V]);
    const expected = readBinRef(c.logits);
    const rows = new Float32Array(c.logits_positions.length * V);
    c.logits_positions.forEach((p, i) => rows.set(lmOut.logits.data.subarray(p * V, (p + 1) * V), i * V));
    assertClose('logits', rows, expected, { atol: 1e-4, dims: c.logits.shape });
    for (let t = 0; t < T; t++) {
      checkSummary('logits_summary', lmOut.logits, 0, t, c.logits_summary, t);
      let arg = 0;
      for (let v = 1; v < V; v++) if (lmOut.logits.data[t * V + v]! > lmOut.logits.data[t * V + arg]!) arg = v;
      assert.equal(arg, c.logits_summary.argmax[t]);
    }
  });
}

test('left-padded batch with generate()-style position_ids: unmasked positions match', async () => {
  const g = golden.batch_left_padded;
  const B = 2;
  const T = g.input_ids[0]!.length;
  const live = (b: number, t: number) => g.attention_mask[b]![t] === 1;
  const out = await base.forward({ input_ids: g.input_ids, attention_mask: g.attention_mask, position_ids: g.position_ids, output_hidden_states: true, output_attentions: true });
  const rowMask = (i: number) => live(Math.floor(i / (T * 64)), Math.floor(i / 64) % T);
  assertClose('last_hidden_state', out.last_hidden_state.data, flat(g.last_hidden_state), { ...HS, dims: [B, T, 64], mask: rowMask });
  out.hidden_states!.forEach((h, i) => assertClose(`hidden_states[${i}]`, h.data, flat(g.hidden_states[i]), { ...HS, dims: h.dims, mask: rowMask }));
  out.attentions!.forEach((a, i) => {
    assert.deepEqual(a.dims, [B, 4, T, T]);
    // [b, h, query, key]: compare rows whose query is a real token
    const m = (j: number) => live(Math.floor(j / (4 * T * T)), Math.floor(j / T) % T);
    assertClose(`attentions[${i}]`, a.data, flat(g.attentions[i]), { ...HS, dims: a.dims, mask: m });
  });
  // pad keys get exactly zero weight from real queries
  assert.equal(out.attentions![0]!.data[(0 * 4 + 0) * T * T + 4 * T + 0], 0);
  // Beyond the spec: HF's float32-min masking is reproduced exactly, so even the pad rows (HF's artefact:
  // a pad query attends uniformly to the pad keys before it and the real keys after it) agree.
  out.attentions!.forEach((a, i) => assertClose(`attentions[${i}], pad rows included`, a.data, flat(g.attentions[i]), { ...HS, dims: a.dims }));
  assert.deepEqual(Array.from(out.attentions![0]!.data.subarray(0, T)), [0.5, 0, 0, 0, 0.5]);
  assertClose('last_hidden_state, pad rows included', out.last_hidden_state.data, flat(g.last_hidden_state), { ...HS, dims: [B, T, 64] });

  const lmOut = await lm.forward({ input_ids: g.input_ids, attention_mask: g.attention_mask, position_ids: g.position_ids });
  let checked = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (!live(b, t)) continue;
      checkSummary(`row ${b}`, lmOut.logits, b, t, g.logits_summary[b]!, t);
      checked++;
    }
  }
  assert.equal(checked, 6);
});

test('left-padded batch without position_ids: HF uses arange(T) for every row', async () => {
  const g = golden.batch_left_padded;
  const d = g.default_position_ids_case;
  const T = g.input_ids[0]!.length;
  assert.deepEqual(d.position_ids, [0, 1, 2, 3, 4]);
  const live = (b: number, t: number) => g.attention_mask[b]![t] === 1;
  const out = await base.forward({ input_ids: g.input_ids, attention_mask: g.attention_mask });
  assertClose('last_hidden_state', out.last_hidden_state.data, flat(d.last_hidden_state), { ...HS, dims: [2, T, 64], mask: (i) => live(Math.floor(i / (T * 64)), Math.floor(i / 64) % T) });
  const lmOut = lm.forwardSync({ input_ids: g.input_ids, attention_mask: g.attention_mask });
  for (let b = 0; b < 2; b++) for (let t = 0; t < T; t++) if (live(b, t)) checkSummary(`row ${b}`, lmOut.logits, b, t, d.logits_summary[b]!, t);
});

test('the transformer.-prefixed checkpoint gives identical results to the Hub layout', async () => {
  const prefixed = await GPT2LMHeadModel.from_pretrained({
    config: JSON.parse(readFileSync(fixturePath('config.json'), 'utf8')),
    weights: readFileSync(fixturePath('model.transformer-prefix.safetensors')),
    name_or_path: 'prefixed',
  });
  const ids = [golden.cases[0]!.input_ids];
  const a = lm.forwardSync({ input_ids: ids }).logits.data;
  const b = prefixed.forwardSync({ input_ids: ids }).logits.data;
  assert.deepEqual(b, a);
});

test('num_logits_to_keep: 1 gives the last position only, equal to the full logits', () => {
  const ids = [golden.cases[0]!.input_ids];
  const full = lm.forwardSync({ input_ids: ids }).logits;
  const last = lm.forwardSync({ input_ids: ids, num_logits_to_keep: 1 }).logits;
  assert.deepEqual(last.dims, [1, 1, V]);
  assert.deepEqual(last.data, full.data.subarray(4 * V, 5 * V));
});

test('KV cache: token-by-token decoding equals a full recompute (1e-4)', async () => {
  const ids = golden.cases[4]!.input_ids; // 9 tokens
  const full = (await lm.forward({ input_ids: [ids], use_cache: false })).logits.data;
  const first = await lm.forward({ input_ids: [ids.slice(0, 3)] });
  const cache = first.past_key_values!;
  assert.equal(cache.length, 3);
  assertClose('prefill logits', first.logits.data, full.subarray(0, 3 * V), { atol: 1e-4 });
  for (let t = 3; t < ids.length; t++) {
    const step = await lm.forward({ input_ids: [[ids[t]!]], past_key_values: cache });
    assert.equal(step.past_key_values, cache, 'the cache is extended in place and returned');
    assert.equal(cache.length, t + 1);
    assertClose(`decode logits @${t}`, step.logits.data, full.subarray(t * V, (t + 1) * V), { atol: 1e-4 });
  }
  const [k0] = cache.toTensors()[0]!;
  assert.deepEqual(k0.dims, [1, 4, 9, 16]);

  // attentions and hidden states of a cached step: the new position's rows, over every key
  const past = (await base.forward({ input_ids: [ids.slice(0, 8)] })).past_key_values!;
  const step = await base.forward({ input_ids: [[ids[8]!]], past_key_values: past, output_attentions: true, output_hidden_states: true });
  const whole = await base.forward({ input_ids: [ids], output_attentions: true, output_hidden_states: true, use_cache: false });
  assert.deepEqual(step.attentions![1]!.dims, [1, 4, 1, 9]);
  for (let h = 0; h < 4; h++) {
    assertClose(`attention row, head ${h}`, step.attentions![1]!.data.subarray(h * 9, (h + 1) * 9), whole.attentions![1]!.data.subarray((h * 9 + 8) * 9, (h * 9 + 9) * 9), { atol: 1e-6 });
  }
  assert.deepEqual(step.hidden_states![2]!.dims, [1, 1, 64]);
  assertClose('last hidden state', step.hidden_states![2]!.data, whole.hidden_states![2]!.data.subarray(8 * 64), { atol: 1e-5 });
});

test('KV cache with left padding: decode steps equal a full recompute of the padded sequences', async () => {
  const g = golden.batch_left_padded;
  const mask = g.attention_mask.map((r) => [...r]);
  const ids = g.input_ids.map((r) => [...r]);
  const pos = (m: number[][]) => m.map((row) => { let c = 0; return row.map((x) => { c += x; return x === 0 ? 1 : c - 1; }); });
  let out = await lm.forward({ input_ids: ids, attention_mask: mask, position_ids: pos(mask), num_logits_to_keep: 1 });
  const cache = out.past_key_values!;
  for (let step = 0; step < 4; step++) {
    const next = [0, 1].map((b) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (out.logits.data[b * V + v]! > out.logits.data[b * V + best]!) best = v;
      return best;
    });
    next.forEach((id, b) => { ids[b]!.push(id); mask[b]!.push(1); });
    const p = pos(mask);
    out = await lm.forward({ input_ids: next.map((id) => [id]), attention_mask: mask, position_ids: p.map((r) => [r[r.length - 1]!]), past_key_values: cache });
    const ref = await lm.forward({ input_ids: ids, attention_mask: mask, position_ids: p, use_cache: false, num_logits_to_keep: 1 });
    assertClose(`cached step ${step}`, out.logits.data, ref.logits.data, { atol: 1e-4 });
  }
  assert.equal(cache.length, 9);
});

test('KV cache reorder/expand (beam search): rows follow their beams', async () => {
  const ids = golden.cases[0]!.input_ids;
  const out = await lm.forward({ input_ids: [ids.slice(0, 4), ids.slice(1, 5)] });
  const cache = out.past_key_values!.expand(2); // rows: a, a, b, b
  assert.equal(cache.batch, 4);
  cache.reorder([2, 0, 3, 1]); // b, a, b, a
  const step = await lm.forward({ input_ids: [[11], [11], [12], [12]], past_key_values: cache });
  const refA = await lm.forward({ input_ids: [[...ids.slice(0, 4), 11]], use_cache: false, num_logits_to_keep: 1 });
  const refB = await lm.forward({ input_ids: [[...ids.slice(1, 5), 12]], use_cache: false, num_logits_to_keep: 1 });
  assertClose('row 1 (a)', step.logits.data.subarray(V, 2 * V), refA.logits.data, { atol: 1e-4 });
  assertClose('row 2 (b)', step.logits.data.subarray(2 * V, 3 * V), refB.logits.data, { atol: 1e-4 });
  cache.select([1]);
  assert.equal(cache.batch, 1);
  assert.equal(cache.length, 5);
});

test('KVCache.rowsSince composes the reorders since a version (what a mirror of the cache replays)', () => {
  const cache = KVCache.forConfig(lm.config, 3, 4);
  const v0 = cache.version;
  assert.deepEqual(cache.rowsSince(v0), [0, 1, 2]);
  cache.reorder([0, 1, 2]); // nothing moves: no new version
  assert.equal(cache.version, v0);
  cache.reorder([2, 0, 0]).reorder([1, 2, 2]); // rows c, a, a, then a, a, a
  assert.deepEqual(cache.rowsSince(v0), [0, 0, 0]);
  cache.reorder([1, 2, 0]);
  assert.deepEqual(cache.rowsSince(v0 + 2), [1, 2, 0]);
  cache.select([2]).expand(2); // 3 -> 1 -> 2 rows
  assert.deepEqual(cache.rowsSince(v0 + 3), [2, 2]);
  assert.equal(cache.rowsSince(cache.version + 1), null);
  for (let i = 0; i < 8; i++) cache.reorder([1, 0]);
  assert.equal(cache.rowsSince(v0), null, 'older than the 8 reorders it remembers');
  assert.deepEqual(cache.rowsSince(cache.version - 8), [0, 1]);
});

test('use_cache false leaves a given cache untouched; the cache grows past its capacity', async () => {
  const ids = golden.cases[4]!.input_ids;
  const cache = lm.createCache(1, 2);
  await lm.forward({ input_ids: [ids.slice(0, 2)], past_key_values: cache });
  const before = cache.keys[0]!.slice();
  const r = await lm.forward({ input_ids: [ids.slice(2, 4)], past_key_values: cache, use_cache: false });
  assert.equal(r.past_key_values, undefined);
  assert.equal(cache.length, 2);
  assert.deepEqual(cache.keys[0], before);
  await lm.forward({ input_ids: [ids.slice(2)], past_key_values: cache }); // 2 + 7 > capacity 2
  assert.equal(cache.length, 9);
  assert.ok(cache.capacity >= 9);
});

test('more than n_positions positions is a clear error', async () => {
  const ids = Array.from({ length: 1030 }, () => 464);
  await assert.rejects(lm.forward({ input_ids: [ids] }), { message: 'input of 1030 positions exceeds n_positions 1024' });
  const cache = lm.createCache(1, 8);
  cache.length = 1020; // pretend 1020 positions are cached: the check comes before any arithmetic
  assert.throws(() => lm.forwardSync({ input_ids: [[1, 2, 3, 4, 5]], past_key_values: cache }), {
    message: 'input of 1025 positions exceeds n_positions 1024 (1020 cached + 5 new)',
  });
});

test('bad inputs are clear errors', () => {
  assert.throws(() => lm.forwardSync({ input_ids: [] }), /input_ids must be a non-empty batch/);
  assert.throws(() => lm.forwardSync({ input_ids: [[1, 2], [3]] }), /input_ids rows must have the same length: row 0 has 2, row 1 has 1/);
  assert.throws(() => lm.forwardSync({ input_ids: [[50257]] }), /input_ids\[0\] holds 50257, not a token id in \[0, 50257\)/);
  assert.throws(() => lm.forwardSync({ input_ids: [[1, 2]], attention_mask: [[1]] }), /attention_mask\[0\] has 1 columns, expected past \+ new = 0 \+ 2 = 2/);
  assert.throws(() => lm.forwardSync({ input_ids: [[1, 2]], position_ids: [[0, 1024]] }), /position_ids\[0\] holds 1024/);
  assert.throws(() => lm.forwardSync({ input_ids: [[1]], capture: ['blocks.9.hook_resid_pre'] }), /unknown hook name "blocks.9.hook_resid_pre"/);
});

test('KVCache: reorders composed as a row map (no copy) read back as rows moved one by one, through writes, growth, crop and a batch change', () => {
  const shape = { n_layer: 2, n_head: 3, head_dim: 2, max_positions: 64 };
  const B = 4;
  const cache = new KVCache(shape, B, 2); // capacity 2: it grows while rows are mapped
  // the naive model: model[layer][row][pos] = the value written at (layer, pos) for the row's origin
  let model: number[][][] = [[], []].map(() => Array.from({ length: B }, () => [] as number[]));
  let seed = 7;
  const rnd = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
  const value = (l: number, row: number, pos: number): number => l * 100000 + row * 1000 + pos;
  const write = (T: number): void => {
    const b = cache.batch;
    for (let l = 0; l < 2; l++) {
      const k = new Float32Array(b * 3 * T * 2);
      const v = new Float32Array(b * 3 * T * 2);
      for (let r = 0; r < b; r++) {
        for (let t = 0; t < T; t++) {
          const x = value(l, r, cache.length + t) + 0.5 * rnd(1000);
          model[l]![r]![cache.length + t] = x;
          for (let h = 0; h < 3; h++) for (let d = 0; d < 2; d++) k[((r * 3 + h) * T + t) * 2 + d] = x + h * 10 + d;
          for (let h = 0; h < 3; h++) for (let d = 0; d < 2; d++) v[((r * 3 + h) * T + t) * 2 + d] = -(x + h * 10 + d);
        }
      }
      cache.write(l, k, v, T);
    }
    cache.advance(T);
  };
  let checks = 0;
  const check = (): void => {
    for (let l = 0; l < 2; l++) {
      for (let r = 0; r < cache.batch; r++) {
        for (let t = 0; t < cache.length; t++) {
          for (let h = 0; h < 3; h++) {
            const o = cache.offset(r, h, t);
            assert.equal(cache.keys[l]![o + 1], model[l]![r]![t]! + h * 10 + 1, `key l${l} row ${r} pos ${t} head ${h}`);
            assert.equal(cache.values[l]![o], -(model[l]![r]![t]! + h * 10), `value l${l} row ${r} pos ${t} head ${h}`);
          }
        }
      }
    }
    checks++;
  };
  const reorder = (rows: number[]): void => {
    cache.reorder(rows);
    model = model.map((layer) => rows.map((r) => [...layer[r]!]));
  };
  write(3);
  for (let s = 0; s < 12; s++) {
    reorder(Array.from({ length: B }, () => rnd(B)));
    write(1);
    if (s % 4 === 3) check(); // reading settles the map; later reorders start a new one
  }
  reorder([3, 3, 0, 1]);
  cache.crop(cache.length - 2);
  for (const layer of model) for (const row of layer) row.length = cache.length;
  write(2);
  reorder([1, 2, 3, 0]);
  check();
  reorder([2, 0]); // the batch changes: the map is applied, then the rows are picked
  check();
  const copy = cache.clone();
  reorder([1, 1]);
  assert.deepEqual(copy.toTensors()[1]![0].dims, [2, 3, cache.length, 2]);
  check();
  assert.equal(checks, 6);
});

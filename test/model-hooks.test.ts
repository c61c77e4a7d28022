// Looking inside: TransformerLens-named captures agree with HF's outputs, and the logit lens's last layer is
// the model's own prediction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, assertClose, readGolden } from './helpers/fixtures.js';
import { GPT2LMHeadModel, hookNames, logitLens } from '../src/index.js';
import { geluNew } from '../src/model/mlp.js';
import { FLOAT32_MIN } from '../src/model/attention.js';
import '../src/node/model.js';

const lm = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const golden = readGolden<{ cases: Array<{ input_ids: number[]; logits_summary: { top5_ids: number[][] } }> }>('golden-forward.json');
const ids = golden.cases[0]!.input_ids;

test('hookNames lists every hook in forward order', () => {
  const names = hookNames(lm.config);
  assert.equal(names.length, 2 + 2 * 15 + 1);
  assert.deepEqual(names.slice(0, 4), ['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre', 'blocks.0.ln1.hook_normalized']);
  assert.equal(names[names.length - 1], 'ln_final.hook_normalized');
});

test('captured activations: shapes, and consistency with hidden_states, attentions and each other', () => {
  const out = lm.forwardSync({ input_ids: [ids], output_hidden_states: true, output_attentions: true, capture: hookNames(lm.config) });
  const cache = out.cache!;
  assert.equal(cache.size, hookNames(lm.config).length);
  const get = (n: string) => cache.get(n)!;
  assert.deepEqual(get('blocks.1.attn.hook_q').dims, [1, 5, 4, 16]);
  assert.deepEqual(get('blocks.1.attn.hook_pattern').dims, [1, 4, 5, 5]);
  assert.deepEqual(get('blocks.0.mlp.hook_post').dims, [1, 5, 256]);
  const hs = out.hidden_states!;
  const embed = get('hook_embed').data.map((x, i) => x + get('hook_pos_embed').data[i]!);
  assert.deepEqual(embed, hs[0]!.data);
  assert.deepEqual(get('blocks.0.hook_resid_pre').data, hs[0]!.data);
  assert.deepEqual(get('blocks.0.hook_resid_post').data, hs[1]!.data);
  assert.deepEqual(get('blocks.1.hook_resid_pre').data, hs[1]!.data);
  assert.deepEqual(get('ln_final.hook_normalized').data, hs[2]!.data);
  assert.deepEqual(get('blocks.1.attn.hook_pattern').data, out.attentions![1]!.data);
  const mid = get('blocks.0.hook_resid_pre').data.map((x, i) => x + get('blocks.0.hook_attn_out').data[i]!);
  assert.deepEqual(mid, get('blocks.0.hook_resid_mid').data);
  const pre = get('blocks.0.mlp.hook_pre').data;
  assertClose('gelu', get('blocks.0.mlp.hook_post').data, pre.map(geluNew), { atol: 1e-6 });
  // q of head 2 at position 3 is the c_attn output columns 2·16 .. 3·16 of row 3
  const q = get('blocks.0.attn.hook_q').data;
  const ln1 = get('blocks.0.ln1.hook_normalized').data;
  const w = lm.weights.h[0]!.attn.c_attn;
  let s = w.bias[32]!;
  for (let k = 0; k < 64; k++) s += ln1[3 * 64 + k]! * w.weight[k * 192 + 32]!;
  assert.ok(Math.abs(q[(3 * 4 + 2) * 16]! - s) < 1e-5);
  // scores: future keys hold float32 min (HF masks with it, not -inf); softmax of the scores is the pattern
  const scores = get('blocks.0.attn.hook_attn_scores').data;
  assert.equal(scores[0 * 5 + 1], Math.fround(FLOAT32_MIN));
  const row = Array.from(scores.subarray(2 * 5, 2 * 5 + 3));
  const z = row.reduce((a, x) => a + Math.exp(x), 0);
  assertClose('pattern', get('blocks.0.attn.hook_pattern').data.subarray(10, 13), row.map((x) => Math.exp(x) / z), { atol: 1e-6 });
});

test('capture only what is asked; a predicate works too', () => {
  const out = lm.forwardSync({ input_ids: [ids], capture: ['blocks.1.mlp.hook_post'] });
  assert.deepEqual([...out.cache!.keys()], ['blocks.1.mlp.hook_post']);
  const pred = lm.forwardSync({ input_ids: [ids], capture: (n) => n.endsWith('hook_resid_post') });
  assert.deepEqual([...pred.cache!.keys()], ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
  assert.equal(lm.forwardSync({ input_ids: [ids] }).cache, undefined);
});

test('logit lens: n_layer + 1 layers; the last one is the model\'s own top-5 at every position', async () => {
  const lens = await logitLens(lm, { input_ids: [ids] }, { topk: 5 });
  assert.deepEqual(lens.layers, ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
  assert.deepEqual(lens.positions, [0, 1, 2, 3, 4]);
  const last = lens.top[2]![0]!;
  last.forEach((p, t) => assert.deepEqual(p.ids, golden.cases[0]!.logits_summary.top5_ids[t], `position ${t}`));
  const logits = lm.forwardSync({ input_ids: [ids] }).logits.data;
  assertClose('lens logits', last[4]!.logits, last[4]!.ids.map((id) => logits[4 * 50257 + id]!), { atol: 1e-5 });
  for (const layer of lens.top) for (const p of layer[0]!) {
    assert.ok(p.probs.every((x, i) => x > 0 && x <= 1 && (i === 0 || x <= p.probs[i - 1]!)));
  }
  // layer 1's lens equals ln_f + head applied to the first block's output, computed by hand
  const one = await logitLens(lm, { input_ids: [ids] }, { topk: 3, positions: [4] });
  assert.deepEqual(one.top[1]![0]![0]!.ids, lens.top[1]![0]![4]!.ids.slice(0, 3));
  await assert.rejects(logitLens(lm, { input_ids: [ids] }, { positions: [5] }), { message: 'logitLens: position 5 is not in [0, 5)' });
});

test('the KV cache holds exactly the keys and values the hooks saw, in [B, n_head, T, head_dim]', () => {
  const out = lm.forwardSync({ input_ids: [ids], capture: ['blocks.1.attn.hook_k', 'blocks.1.attn.hook_v'] });
  const cache = out.past_key_values!;
  const [k, v] = cache.toTensors()[1]!;
  assert.deepEqual(k.dims, [1, 4, 5, 16]);
  const hk = out.cache!.get('blocks.1.attn.hook_k')!.data; // [B, T, n_head, hs]
  const hv = out.cache!.get('blocks.1.attn.hook_v')!.data;
  for (let t = 0; t < 5; t++) {
    for (let h = 0; h < 4; h++) {
      for (let d = 0; d < 16; d++) {
        assert.equal(k.data[(h * 5 + t) * 16 + d], hk[(t * 4 + h) * 16 + d]);
        assert.equal(v.data[(h * 5 + t) * 16 + d], hv[(t * 4 + h) * 16 + d]);
      }
    }
  }
  const copy = cache.clone();
  assert.equal(copy.capacity, 5);
  assert.deepEqual(copy.toTensors(), cache.toTensors());
  copy.keys[1]![0] = 42;
  assert.notEqual(cache.keys[1]![0], 42, 'clone is deep');
});

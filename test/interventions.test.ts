// Interventions (issue 13): write hooks, head ablation, direct logit attribution and activation patching on the
// fixture model, on the reference path and on the engine, against a plain float64 GPT-2 written below straight
// from the weights (no hooks), and the identities that must hold exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, assertClose } from './helpers/fixtures.js';
import {
  ENGINE_HOOKS,
  GPT2LMHeadModel,
  WasmBackend,
  ablate,
  ablationHooksFor,
  attribute,
  hookNames,
  parseHeads,
  patch,
  resolveToken,
  type ForwardHooks,
  type HookContext,
  type PatchHook,
} from '../src/index.js';
import { geluNew } from '../src/model/mlp.js';
import { nextTokenRows as nextTokenRowsOf } from '../src/interp/next.js';
import { loadBundledTokenizer } from '../src/node/tokenizer.js';
import '../src/node/model.js';

const ref = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const eng = new GPT2LMHeadModel({ config: ref.config, weights: ref.weights, backend: await WasmBackend.create(ref.config, ref.weights) });
const paths = [['reference', ref], ['engine', eng]] as const;
const { n_layer: L, n_head: NH, n_embd: C, vocab_size: V } = ref.config;
const HS = C / NH;
const W = ref.weights;
const tokenizer = loadBundledTokenizer();

// ---- a plain GPT-2 in float64, straight from the weights, with places to intervene ----
type Rows = Float64Array[]; // [T][width]
interface Edits {
  resid_pre?: (l: number, x: Rows) => void;
  z?: (l: number, z: Rows) => void; // z[t][h·HS + d]
  attn_out?: (l: number, a: Rows) => void;
  mlp_out?: (l: number, m: Rows) => void;
}
function linear(x: Float64Array, w: { weight: Float32Array; bias: Float32Array; nx: number; nf: number }): Float64Array {
  const y = Float64Array.from(w.bias);
  for (let i = 0; i < w.nx; i++) for (let j = 0; j < w.nf; j++) y[j] += x[i]! * w.weight[i * w.nf + j]!;
  return y;
}
function layerNorm(x: Float64Array, p: { weight: Float32Array; bias: Float32Array }): Float64Array {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * p.weight[c]! + p.bias[c]!);
}
function plain(ids: number[], edits: Edits = {}) {
  const T = ids.length;
  let x: Rows = ids.map((id, t) => Float64Array.from({ length: C }, (_, c) => W.wte[id * C + c]! + W.wpe[t * C + c]!));
  const zs: Rows[] = [];
  const mlps: Rows[] = [];
  for (let l = 0; l < L; l++) {
    const b = W.h[l]!;
    edits.resid_pre?.(l, x);
    const qkv = x.map((r) => linear(layerNorm(r, b.ln_1), b.attn.c_attn));
    const z: Rows = x.map(() => new Float64Array(C));
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const s = Array.from({ length: t + 1 }, (_, j) => {
          let d = 0;
          for (let i = 0; i < HS; i++) d += qkv[t]![h * HS + i]! * qkv[j]![C + h * HS + i]!;
          return d / Math.sqrt(HS);
        });
        const max = Math.max(...s); // t + 1 <= 8 values
        const e = s.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let j = 0; j <= t; j++) for (let i = 0; i < HS; i++) z[t]![h * HS + i] += (e[j]! / sum) * qkv[j]![2 * C + h * HS + i]!;
      }
    }
    edits.z?.(l, z);
    zs.push(z);
    const a = z.map((r) => linear(r, b.attn.c_proj));
    edits.attn_out?.(l, a);
    x = x.map((r, t) => r.map((v, c) => v + a[t]![c]!));
    const m = x.map((r) => linear(linear(layerNorm(r, b.ln_2), b.mlp.c_fc).map(geluNew), b.mlp.c_proj));
    edits.mlp_out?.(l, m);
    mlps.push(m);
    x = x.map((r, t) => r.map((v, c) => v + m[t]![c]!));
  }
  const h = layerNorm(x[T - 1]!, W.ln_f);
  const logit = (id: number): number => h.reduce((a, v, c) => a + v * W.wte[id * C + c]!, 0);
  return { logit, resid: x, zs, mlps, pre: [] as Rows[] };
}
const copyRows = (r: Rows): Rows => r.map((v) => v.slice());

const prompt = [464, 4583, 286, 44449, 318];
const clean = [464, 4583, 286, 44449, 318, 257];
const corrupted = [464, 4583, 11, 44449, 13, 257];

test('no hook = the plain run, bit for bit; a hook that returns nothing at every point changes nothing', async () => {
  for (const [name, model] of paths) {
    const base = await model.forward({ input_ids: [prompt] });
    const points = name === 'reference' ? hookNames(ref.config) : hookNames(ref.config).filter((n) => n === 'ln_final.hook_normalized' || ENGINE_HOOKS.some((h) => n.endsWith(`.${h}`)));
    const seen: string[] = [];
    const hooks: ForwardHooks = Object.fromEntries(points.map((n) => [n, (_v, ctx: HookContext) => void seen.push(`${ctx.name}@${ctx.path}`)]));
    const hooked = await model.forward({ input_ids: [prompt], hooks });
    assert.deepEqual(hooked.logits.data, base.logits.data, name);
    assert.equal(seen.length, points.length, name);
    assert.deepEqual(seen, points.map((n) => `${n}@${name}`), `${name}: every hook ran once, in forward order, on its own path`);
  }
  // a hook point inside a fused engine kernel sends the whole pass to the reference path, and says so
  let path = '';
  await eng.forward({ input_ids: [prompt], hooks: { 'blocks.0.mlp.hook_pre': (_v, ctx) => void (path = ctx.path) } });
  assert.equal(path, 'reference');
});

test('hooks: a replacement or an in-place edit flows on; wrong shape and unknown name are errors', async () => {
  for (const [name, model] of paths) {
    const a = await model.forward({ input_ids: [prompt], hooks: { 'blocks.1.hook_resid_pre': ({ data, dims }) => ({ data: data.map((v) => v * 2), dims }) } });
    const b = await model.forward({ input_ids: [prompt], hooks: { 'blocks.1.hook_resid_pre': ({ data }) => void data.forEach((v, i) => (data[i] = v * 2)) } });
    assert.deepEqual(a.logits.data, b.logits.data, name);
    const want = plain(prompt, { resid_pre: (l, x) => l === 1 && x.forEach((r) => r.forEach((v, c) => (r[c] = 2 * v))) });
    assertClose(name, a.logits.data.subarray(4 * V, 4 * V + 50), Float64Array.from({ length: 50 }, (_, i) => want.logit(i)), { atol: 1e-4 });
    await assert.rejects(model.forward({ input_ids: [prompt], hooks: { 'blocks.0.attn.hook_z': ({ data }) => ({ data, dims: [1, 5, 64] }) } }), {
      message: 'hook "blocks.0.attn.hook_z" returned a tensor of dims [1, 5, 64], expected [1, 5, 4, 16] (a hook may not change the shape)',
    });
  }
  await assert.rejects(ref.forward({ input_ids: [prompt], hooks: { 'blocks.7.attn.hook_z': () => undefined } }), /^Error: unknown hook name "blocks.7.attn.hook_z": expected one of hook_embed/);
});

test('patching every position of resid_pre at layer 0 = the clean run, bit for bit', async () => {
  for (const [name, model] of paths) {
    const c = await model.forward({ input_ids: [clean], capture: ['blocks.0.hook_resid_pre'] });
    const src = c.cache!.get('blocks.0.hook_resid_pre')!;
    const p = await model.forward({ input_ids: [corrupted], hooks: { 'blocks.0.hook_resid_pre': () => src } });
    assert.deepEqual(p.logits.data, c.logits.data, name);
  }
});

test('ablation: zero and mean match the plain model with the head replaced; ablating then restoring = baseline', async () => {
  const heads = parseHeads('0.1,1.3', ref.config);
  const base = plain(prompt);
  for (const kind of ['zero', 'mean'] as const) {
    const want = plain(prompt, {
      z: (l, z) => {
        for (const h of heads.filter((x) => x.layer === l)) {
          const mean = new Float64Array(HS);
          for (const r of base.zs[l]!) for (let d = 0; d < HS; d++) mean[d] += r[h.head * HS + d]! / prompt.length;
          for (const r of z) for (let d = 0; d < HS; d++) r[h.head * HS + d] = kind === 'zero' ? 0 : mean[d]!;
        }
      },
    });
    for (const [name, model] of paths) {
      const before = await model.forward({ input_ids: [prompt], num_logits_to_keep: 1 });
      const table = await ablate(model, prompt, heads, { kind, top: 5, tokenizer });
      assert.equal(table.top.length, 5);
      for (const r of table.top) assert.ok(Math.abs(r.logit - want.logit(r.id)) < 1e-4, `${name} ${kind} ${r.id}: ${r.logit} vs ${want.logit(r.id)}`);
      const hooks = await ablationHooksFor(model, prompt, heads, kind);
      const ablated = await model.forward({ input_ids: [prompt], num_logits_to_keep: 1, hooks });
      assert.ok(Math.abs(ablated.logits.data[table.top[0]!.id]! - table.top[0]!.logit) === 0);
      const after = await model.forward({ input_ids: [prompt], num_logits_to_keep: 1 });
      assert.deepEqual(after.logits.data, before.logits.data, `${name}: restored`);
      assert.notDeepEqual(ablated.logits.data, before.logits.data);
    }
  }
});

test('generate with hooks: every step, ctx.past says where the new positions are; ablation = a greedy loop by hand', async () => {
  const heads = parseHeads('1.2', ref.config);
  for (const [name, model] of paths) {
    const hooks = await ablationHooksFor(model, prompt, heads, 'zero');
    const steps: string[] = [];
    const out = await model.generate({
      input_ids: prompt,
      max_new_tokens: 4,
      hooks: { ...hooks, 'blocks.0.hook_resid_pre': ({ dims }, ctx) => void steps.push(`${ctx.past}+${dims[1]}`) },
    });
    assert.deepEqual(steps, ['0+5', '5+1', '6+1', '7+1'], name);
    const ids = [...prompt];
    for (let i = 0; i < 4; i++) {
      const l = (await model.forward({ input_ids: [ids], hooks, num_logits_to_keep: 1, use_cache: false })).logits.data;
      ids.push(l.indexOf(Math.max(...l.subarray(0, 50257)))); // the fixture's vocabulary: 50257 values
    }
    assert.deepEqual(out.sequences[0], ids, name);
    const plainOut = await model.generate({ input_ids: prompt, max_new_tokens: 4 });
    const again = await model.generate({ input_ids: prompt, max_new_tokens: 4 });
    assert.deepEqual(again.sequences, plainOut.sequences, `${name}: hooks leave nothing behind`);
  }
});

test('attribution: the components sum to the logit, and each matches the plain model', async () => {
  const target = 318;
  const P = plain(prompt);
  const T = prompt.length;
  // the plain parts of the final residual at the last position, and ln_f with σ frozen
  const x = P.resid[T - 1]!;
  const mean = x.reduce((a, v) => a + v, 0) / C;
  const sigma = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / C + 1e-5);
  const term = (part: ArrayLike<number>): number => {
    const m = Array.from(part).reduce((a, v) => a + v, 0) / C;
    let s = 0;
    for (let c = 0; c < C; c++) s += ((part[c]! - m) / sigma) * W.ln_f.weight[c]! * W.wte[target * C + c]!;
    return s;
  };
  const want = new Map<string, number>([
    ['embed', term(W.wte.subarray(318 * C, 319 * C))],
    ['pos_embed', term(W.wpe.subarray((T - 1) * C, T * C))],
  ]);
  for (let l = 0; l < L; l++) {
    const proj = W.h[l]!.attn.c_proj;
    for (let h = 0; h < NH; h++) {
      const part = new Float64Array(C);
      for (let d = 0; d < HS; d++) for (let c = 0; c < C; c++) part[c] += P.zs[l]![T - 1]![h * HS + d]! * proj.weight[(h * HS + d) * C + c]!;
      want.set(`L${l}H${h}`, term(part));
    }
    want.set(`L${l}_attn_bias`, term(proj.bias));
    want.set(`L${l}_mlp`, term(P.mlps[l]![T - 1]!));
  }
  want.set('ln_final_bias', Array.from(W.ln_f.bias).reduce((a, b, c) => a + b * W.wte[target * C + c]!, 0));
  for (const [name, model] of paths) {
    const r = await attribute(model, prompt, target);
    assert.deepEqual(r.components.map((c) => c.name), [...want.keys()], name);
    assert.equal(r.components.length, 2 + L * (NH + 2) + 1);
    const sum = r.components.reduce((a, c) => a + c.value, 0);
    assert.ok(Math.abs(sum - r.logit) < 1e-4, `${name}: sum ${sum} vs logit ${r.logit}`);
    assert.ok(Math.abs(r.logit - P.logit(target)) < 1e-4);
    for (const c of r.components) assert.ok(Math.abs(c.value - want.get(c.name)!) < 1e-4, `${name} ${c.name}: ${c.value} vs ${want.get(c.name)}`);
  }
});

test('patching: every cell of every hook matches the plain model with that activation taken from the clean run', async () => {
  const cleanPlain = plain(clean);
  const corrPlain = plain(corrupted);
  const top = (p: ReturnType<typeof plain>): number => {
    let best = 0;
    for (let i = 1; i < 2000; i++) if (p.logit(i) > p.logit(best)) best = i;
    return best;
  };
  const answer = top(cleanPlain);
  const wrong = top(corrPlain) === answer ? (answer + 1) % 2000 : top(corrPlain);
  const d = (p: ReturnType<typeof plain>): number => p.logit(answer) - p.logit(wrong);
  // the clean activations, from plain runs that record them
  const saved: Record<string, Rows[]> = { resid_pre: [], attn_out: [], mlp_out: [], z: [] };
  plain(clean, {
    resid_pre: (l, x) => (saved.resid_pre![l] = copyRows(x)),
    attn_out: (l, a) => (saved.attn_out![l] = copyRows(a)),
    mlp_out: (l, m) => (saved.mlp_out![l] = copyRows(m)),
    z: (l, z) => (saved.z![l] = copyRows(z)),
  });
  const den = d(cleanPlain) - d(corrPlain);
  const T = clean.length;
  for (const hook of ['resid_pre', 'attn_out', 'mlp_out', 'z'] as PatchHook[]) {
    const cols = hook === 'z' ? NH : T;
    const want = Array.from({ length: L }, (_, l) =>
      Array.from({ length: cols }, (_, j) => {
        const edit = (el: number, rows: Rows): void => {
          if (el !== l) return;
          if (hook === 'z') for (let t = 0; t < T; t++) for (let i = 0; i < HS; i++) rows[t]![j * HS + i] = saved.z![l]![t]![j * HS + i]!;
          else rows[j]!.set(saved[hook]![l]![j]!);
        };
        return (d(plain(corrupted, { [hook]: edit })) - d(corrPlain)) / den;
      }),
    );
    for (const [name, model] of paths) {
      const r = await patch(model, { clean, corrupted, answer, wrong, hook });
      assert.equal(r.hook, hook);
      assert.deepEqual(r.rows, ['L0', 'L1']);
      assert.deepEqual(r.cols, hook === 'z' ? ['H0', 'H1', 'H2', 'H3'] : ['P0', 'P1', 'P2', 'P3', 'P4', 'P5']);
      assert.ok(Math.abs(r.clean_logit_diff - d(cleanPlain)) < 1e-4 && Math.abs(r.corrupted_logit_diff - d(corrPlain)) < 1e-4);
      for (let l = 0; l < L; l++) {
        for (let j = 0; j < cols; j++) assert.ok(Math.abs(r.recovered[l]![j]! - want[l]![j]!) < 1e-4, `${name} ${hook} L${l} ${j}: ${r.recovered[l]![j]} vs ${want[l]![j]}`);
      }
      if (hook === 'resid_pre') {
        // the same token at the same place at layer 0: nothing to recover
        assert.ok(Math.abs(r.recovered[0]![0]!) < 1e-6);
      }
    }
  }
});

test('patching through model.transformer (no LM head) = through the LM-head pass with ln_f captured, every hook, both paths', async () => {
  let grids = 0;
  for (const [name, model] of paths) {
    // the same model without `transformer`: patch() falls back to forward() with ln_final.hook_normalized captured
    const plainForward = { config: model.config, weights: model.weights, forward: (inputs: Parameters<typeof model.forward>[0]) => model.forward(inputs) };
    for (const hook of ['resid_pre', 'attn_out', 'mlp_out', 'z'] as PatchHook[]) {
      const args = { clean, corrupted, answer: 11, wrong: 12, hook };
      assert.deepEqual(await patch(plainForward, args), await patch(model, args), `${name} ${hook}`);
      grids++;
    }
  }
  assert.equal(grids, 8);
});

test('exact errors: token counts, zero denominator, bad heads, unknown tokens', async () => {
  await assert.rejects(patch(ref, { clean, corrupted: corrupted.slice(1), answer: 1, wrong: 2, hook: 'resid_pre' }), {
    message: 'the clean and corrupted prompts must have the same number of tokens: clean has 6, corrupted has 5',
  });
  for (const hook of ['toString', '__proto__', 'hook_resid_pre']) {
    // an inherited key of the hook table is no hook either
    await assert.rejects(patch(ref, { clean, corrupted, answer: 1, wrong: 2, hook: hook as PatchHook }), {
      name: 'InterventionError',
      message: `hook must be one of resid_pre, attn_out, mlp_out, z, got "${hook}"`,
    });
  }
  await assert.rejects(patch(ref, { clean, corrupted: clean, answer: 1, wrong: 2, hook: 'z' }), /^InterventionError: the clean and corrupted prompts give the same logit difference \(-?[\d.e-]+\), so recovered = \(patched − corrupted\) ÷ \(clean − corrupted\) has a zero denominator/);
  assert.throws(() => parseHeads('2.0', ref.config), { message: 'head 2.0 is out of range: this model has layers 0..1 and heads 0..3' });
  assert.throws(() => parseHeads('1.4', ref.config), { message: 'head 1.4 is out of range: this model has layers 0..1 and heads 0..3' });
  assert.throws(() => parseHeads('1-2', ref.config), { message: 'bad head "1-2": expected L.H (layer.head, e.g. 9.6), a comma-separated list of them' });
  assert.deepEqual(parseHeads('1.2, 0.3,1.2', ref.config), [{ layer: 1, head: 2 }, { layer: 0, head: 3 }]);
  assert.equal(resolveToken(' Paris', tokenizer, V), 6342);
  assert.equal(resolveToken('318', tokenizer, V), 318);
  assert.throws(() => resolveToken('50257', tokenizer, V), { message: 'unknown token id 50257: ids are 0..50256' });
  assert.throws(() => resolveToken(' Parisian', tokenizer, V), {
    message: 'unknown token " Parisian": it is 2 tokens [6342, 666], not one (give a token id, or the text of a single token, spaces included, e.g. " Paris")',
  });
});

test('nextTokenRows: best first, the raw softmax, a ruled-out (-Infinity) token left out (as /api/next does)', () => {
  const rows = nextTokenRowsOf(Float32Array.of(1, -Infinity, 0, 2), 4, { decode: (ids: number[]) => `t${ids[0]}` });
  const z = Math.exp(1) + Math.exp(0) + Math.exp(2);
  assert.deepEqual(rows.map((r) => [r.id, r.token, r.logit]), [[3, 't3', 2], [0, 't0', 1], [2, 't2', 0]]);
  assert.ok(Math.abs(rows[0]!.prob - Math.exp(2) / z) < 1e-12);
});
